package clock

import (
	"strings"
	"time"
)

// Date is a calendar day with no time and no zone: an order date, a due
// date, a raid date. Which day it is "today" depends on the zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the calendar day of the instant t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// Today is the calendar day it is now in loc.
func Today(c Clock, loc *time.Location) Date { return DateOf(c.Now(), loc) }

// ParseDate reads a typed YYYY-MM-DD (surrounding spaces ignored).
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return Date{}, err
	}
	return DateOf(t, time.UTC), nil
}

// Time is the day as a DATE column holds it: midnight UTC of that day,
// read back unchanged by both databases. It is a day, not an instant:
// compare it as a Date, never with a clock's Now.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Start is the instant the day begins in loc, for ranges over timestamps.
func (d Date) Start(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays is the day n days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n), time.UTC) }

// Compare is -1, 0 or +1 as d is before, the same as or after e.
func (d Date) Compare(e Date) int { return d.Time().Compare(e.Time()) }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// String is YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// InFuture reports whether d is after today in loc.
func InFuture(d Date, c Clock, loc *time.Location) bool { return d.After(Today(c, loc)) }

// InPast reports whether d is before today in loc.
func InPast(d Date, c Clock, loc *time.Location) bool { return d.Before(Today(c, loc)) }
