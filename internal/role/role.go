// Package role holds the four kinds of Spotcheck user as a value type that
// cannot hold anything else.
package role

import (
	"database/sql/driver"
	"errors"
	"fmt"
)

// Role is one of Admin, Staff, Volunteer or Brand. Its zero value is not a
// valid role and is refused by the database and by Parse.
type Role struct{ name string }

var (
	Admin     = Role{"admin"}
	Staff     = Role{"staff"}
	Volunteer = Role{"volunteer"}
	Brand     = Role{"brand"}
)

// All lists every role in a stable order, for forms and tests.
var All = []Role{Admin, Staff, Volunteer, Brand}

// ErrUnknown is returned when a text names no role.
var ErrUnknown = errors.New("unknown role")

// Parse returns the role a text names.
func Parse(s string) (Role, error) {
	for _, r := range All {
		if r.name == s {
			return r, nil
		}
	}
	return Role{}, fmt.Errorf("%w: %q", ErrUnknown, s)
}

func (r Role) String() string { return r.name }

// IsZero reports whether r is the invalid zero value.
func (r Role) IsZero() bool { return r.name == "" }

// Value stores the role as text; storing the zero value is an error.
func (r Role) Value() (driver.Value, error) {
	if r.IsZero() {
		return nil, errors.New("role: refusing to store an empty role")
	}
	return r.name, nil
}

// Scan reads a role stored as text.
func (r *Role) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("role: cannot scan %T", src)
	}
	parsed, err := Parse(s)
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

// MarshalText and UnmarshalText let a role travel in JSON and forms.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.name), nil }

func (r *Role) UnmarshalText(b []byte) error {
	parsed, err := Parse(string(b))
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}
