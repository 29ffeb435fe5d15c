// Package valid carries per-field validation failures from a use case to
// whoever shows them: a form next to its fields, an API by field name.
package valid

import (
	"errors"
	"sort"
	"strings"
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
