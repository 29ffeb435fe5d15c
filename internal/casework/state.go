// Package casework carries a case along the road of DESIGN.md: its states,
// the one transition table that everything (buttons, endpoint, tests)
// reads, and the use cases that move a case, comment on it and assign it.
package casework

import (
	"database/sql/driver"
	"errors"
	"fmt"
)

// State is where a case stands on the road.
type State string

const (
	Flagged        State = "flagged"
	Purchasing     State = "purchasing"
	Authenticating State = "authenticating"
	Confirmed      State = "confirmed"
	Referred       State = "referred"
	Litigating     State = "litigating"
	Closed         State = "closed"
)

// States lists every state in road order.
var States = []State{Flagged, Purchasing, Authenticating, Confirmed, Referred, Litigating, Closed}

// ErrUnknownState is returned for a text that names no state.
var ErrUnknownState = errors.New("unknown case state")

// ParseState returns the state a text names.
func ParseState(s string) (State, error) {
	for _, st := range States {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownState, s)
}

// Open reports whether a case in this state is still being worked.
func (s State) Open() bool { return s != Closed }

// Value refuses to store an invalid state.
func (s State) Value() (driver.Value, error) {
	if _, err := ParseState(string(s)); err != nil {
		return nil, err
	}
	return string(s), nil
}

// Scan reads a stored state.
func (s *State) Scan(src any) error {
	var v string
	switch x := src.(type) {
	case string:
		v = x
	case []byte:
		v = string(x)
	default:
		return fmt.Errorf("casework: cannot scan %T into State", src)
	}
	st, err := ParseState(v)
	*s = st
	return err
}

// CloseReason says why a closed case closed.
type CloseReason string

const (
	Dismissed            CloseReason = "dismissed"
	Genuine              CloseReason = "genuine"
	PlatformActionOnly   CloseReason = "platform_action_only"
	Enforced             CloseReason = "enforced"
	Recovered            CloseReason = "recovered"
	InsufficientEvidence CloseReason = "insufficient_evidence"
	Duplicate            CloseReason = "duplicate"
)

// CloseReasons lists every reason.
var CloseReasons = []CloseReason{Dismissed, Genuine, PlatformActionOnly, Enforced, Recovered, InsufficientEvidence, Duplicate}
