package clock_test

import (
	"testing"
	"time"

	"spotcheck/internal/clock"
)

func shanghai(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestTodayIsTheCalendarDayInTheZoneNotInUTC(t *testing.T) {
	loc := shanghai(t)
	for _, tc := range []struct {
		name string
		utc  time.Time
		want string
	}{
		{"01:30 in Shanghai is 17:30 UTC the day before", time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC), "2026-11-20"},
		{"23:30 in Shanghai is 15:30 UTC the same day", time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC), "2026-11-20"},
		{"midnight in Shanghai starts the day", time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC), "2026-11-20"},
		{"a second before midnight is the day before", time.Date(2026, 11, 19, 15, 59, 59, 0, time.UTC), "2026-11-19"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := clock.Today(clock.NewFixed(tc.utc), loc).String(); got != tc.want {
				t.Errorf("Today = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTypedDatesAreComparedAsDaysInTheZone(t *testing.T) {
	loc := shanghai(t)
	c := clock.NewFixed(time.Date(2026, 11, 19, 17, 30, 0, 0, time.UTC)) // 2026-11-20 01:30 Shanghai
	day := func(s string) clock.Date {
		d, err := clock.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if clock.InFuture(day("2026-11-20"), c, loc) || clock.InPast(day("2026-11-20"), c, loc) {
		t.Error("today is neither future nor past")
	}
	if !clock.InFuture(day("2026-11-21"), c, loc) {
		t.Error("tomorrow is in the future")
	}
	if !clock.InPast(day("2026-11-19"), c, loc) {
		t.Error("yesterday is in the past")
	}
	c.Set(time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)) // 23:30 Shanghai
	if clock.InFuture(day("2026-11-20"), c, loc) || clock.InPast(day("2026-11-20"), c, loc) {
		t.Error("at 23:30 the same day is still today")
	}
	if _, err := clock.ParseDate("2026-13-01"); err == nil {
		t.Error("a month 13 was accepted")
	}
	if got := day(" 2026-11-20 ").Time(); !got.Equal(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("a date is stored as midnight UTC of its day, got %v", got)
	}
	if got := day("2026-11-20").Start(loc); !got.Equal(time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("Start = %v", got)
	}
}

func TestRealIsUTCToTheMicrosecond(t *testing.T) {
	n := clock.Real.Now()
	if n.Location() != time.UTC || n.Nanosecond()%1000 != 0 {
		t.Errorf("Real.Now() = %v", n)
	}
}
