// Package valid carries per-field validation failures from a use case to
// whoever shows them: a form next to its fields, an API by field name.
package valid

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors maps a field name to the message key of what is wrong with it.
type Errors map[string]string

// ErrInvalid is what every Errors unwraps to.
var ErrInvalid = errors.New("invalid input")

func (e Errors) Error() string {
	fields := make([]string, 0, len(e))
	for f, k := range e {
		fields = append(fields, f+": "+k)
	}
	sort.Strings(fields)
	return "invalid input: " + strings.Join(fields, "; ")
}

func (e Errors) Unwrap() error { return ErrInvalid }

// Add records a problem with field, keeping the first one found.
func (e Errors) Add(field, key string) {
	if _, ok := e[field]; !ok {
		e[field] = key
	}
}

// Err returns e as an error, or nil when nothing was added.
func (e Errors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// As returns the field errors inside err, if any.
func As(err error) (Errors, bool) {
	var e Errors
	ok := errors.As(err, &e)
	return e, ok
}

// ErrControl: text from outside holds a control character (NUL and the
// like) or bytes that are not UTF-8: nothing a person types, refused
// before it reaches a database that would fail on it or store it garbled.
var ErrControl = fmt.Errorf("%w: the text holds a control character or is not UTF-8", ErrInvalid)

// Plain reports whether s is text a person could have typed: valid UTF-8
// with no control characters but tab, line feed and carriage return.
func Plain(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// Clean drops from s what Plain refuses: control characters (but tab,
// line feed and carriage return) and bytes that are not UTF-8. For text
// kept only for display, such as a client's file name.
func Clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r') {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}
