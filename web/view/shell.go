// Package view holds what every page needs from the request (the shell) and
// the templ components in layout/, component/ and page/. Views know nothing
// of the database: handlers hand them plain values.
package view

import (
	"context"
	"strconv"
	"time"

	"spotcheck/internal/i18n"
	"spotcheck/internal/role"
)

// Shell is the per-request frame of every page: who is signed in, the
// language, the CSRF token and the messages to flash.
type Shell struct {
	User      *ShellUser
	Lang      i18n.Lang
	CSRF      string
	Path      string // the current path, for navigation and the language switcher
	Flashes   []Flash
	RequestID string
	Location  *time.Location
	Unread    int64 // the user's unread notifications
}

// ShellUser is the signed-in user as the layout shows them.
type ShellUser struct {
	ID   int64
	Name string
	Role role.Role
	Home string
}

// Flash is a one-time message shown at the top of the next page.
type Flash struct {
	Kind string // success, error or info
	Key  string // message key
}

type shellKey struct{}

// WithShell returns ctx carrying s.
func WithShell(ctx context.Context, s Shell) context.Context {
	return context.WithValue(ctx, shellKey{}, s)
}

// ShellFrom returns the shell in ctx (an empty one outside a request).
func ShellFrom(ctx context.Context) Shell {
	s, _ := ctx.Value(shellKey{}).(Shell)
	if s.Location == nil {
		s.Location = time.UTC
	}
	return s
}

// T translates key into the request's language.
func T(ctx context.Context, key string, args ...any) string { return i18n.T(ctx, key, args...) }

// N translates key for the count n, in its plural form (see i18n.N).
func N(ctx context.Context, key string, n int, args ...any) string {
	return i18n.N(ctx, key, n, args...)
}

// BodyKey is the explanation under message key on the error page: its own
// "_body" message, else the general advice to reload and try again.
func BodyKey(key string) string {
	if i18n.Has(key + "_body") {
		return key + "_body"
	}
	return "error.refused_body"
}

// DateTime formats t for the request's language.
func DateTime(ctx context.Context, t time.Time) string {
	return i18n.From(ctx).DateTime(t, ShellFrom(ctx).Location)
}

// Is reports whether the signed-in user has role r.
func Is(ctx context.Context, r role.Role) bool {
	u := ShellFrom(ctx).User
	return u != nil && u.Role == r
}

// Percent shows a 0–1 score as a whole percentage.
func Percent(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" }

// Day formats a calendar day (a DATE column, read back as that day's
// midnight UTC) for the request's language, in no zone: west of UTC the
// zone's view of that instant is the day before.
func Day(ctx context.Context, t time.Time) string { return i18n.From(ctx).Date(t, time.UTC) }

// ISODay is the calendar day t in ISO form, for HTML's datetime attribute.
func ISODay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// Date formats the day of the instant t, in the configured zone, for the
// request's language.
func Date(ctx context.Context, t time.Time) string {
	return i18n.From(ctx).Date(t, ShellFrom(ctx).Location)
}

// ISODate is the day of t in the configured zone, as HTML's datetime
// attribute reads it: the same day Date shows.
func ISODate(ctx context.Context, t time.Time) string {
	return t.In(ShellFrom(ctx).Location).Format(time.DateOnly)
}

// ISOInstant is t in RFC 3339 with the configured zone's offset, as HTML's
// datetime attribute reads a moment: the same wall clock DateTime shows.
func ISOInstant(ctx context.Context, t time.Time) string {
	return t.In(ShellFrom(ctx).Location).Format(time.RFC3339)
}

// Money formats minor units for the request's language.
func Money(ctx context.Context, minor int64, currency string) string {
	return i18n.From(ctx).Money(minor, currency)
}

// EndOfDay reports whether t is a midnight in the configured zone: the end
// of the day before, as a due time.
func EndOfDay(ctx context.Context, t time.Time) bool {
	l := t.In(ShellFrom(ctx).Location)
	return l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0
}
