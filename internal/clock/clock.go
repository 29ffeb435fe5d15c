// Package clock is the program's one source of the current time and the
// rules for the calendar dates people type and see: every such date is a
// day in the platform's zone (SPOTCHECK_TIMEZONE), never a UTC midnight.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. One value, made in cmd/spotcheck, serves the whole
// program; tests hand in a Fixed one. An interface rather than a
// func() time.Time so that a test clock can be a settable value with its
// own methods (Set, Add) and a nil clock is easy to spot.
type Clock interface {
	Now() time.Time
}

// Real is the system clock, in UTC and truncated to the microsecond so
// that what is stored reads back equal on PostgreSQL and SQLite.
var Real Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Fixed is a test clock: it says the time it was set to until moved.
type Fixed struct {
	mu sync.Mutex
	t  time.Time
}

// NewFixed returns a clock stopped at t.
func NewFixed(t time.Time) *Fixed { return &Fixed{t: t} }

// Now is the time the clock was set to, in UTC.
func (f *Fixed) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t.UTC()
}

// Set stops the clock at t.
func (f *Fixed) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = t
}

// Add moves the clock on by d.
func (f *Fixed) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}
