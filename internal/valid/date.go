package valid

import (
	"time"

	"spotcheck/internal/clock"
)

// Date reads the calendar day typed into field (YYYY-MM-DD) as a DATE
// column holds it; anything else adds error.date.
func Date(errs Errors, field, s string) time.Time {
	d, err := clock.ParseDate(s)
	if err != nil {
		errs.Add(field, "error.date")
		return time.Time{}
	}
	return d.Time()
}

// DateNotFuture is Date for a day that has come: one after today (in the
// platform's zone, see clock.Today) adds error.date_future.
func DateNotFuture(errs Errors, field, s string, today clock.Date) time.Time {
	d, err := clock.ParseDate(s)
	if err != nil {
		errs.Add(field, "error.date")
		return time.Time{}
	}
	if d.After(today) {
		errs.Add(field, "error.date_future")
	}
	return d.Time()
}

// DateNotPast is Date for a day still to come: one before today adds
// error.date_past.
func DateNotPast(errs Errors, field, s string, today clock.Date) time.Time {
	d, err := clock.ParseDate(s)
	if err != nil {
		errs.Add(field, "error.date")
		return time.Time{}
	}
	if d.Before(today) {
		errs.Add(field, "error.date_past")
	}
	return d.Time()
}
