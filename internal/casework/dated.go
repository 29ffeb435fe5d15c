package casework

import (
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/clock"
)

// Dated names a step of the road whose day the case list can filter on,
// so that every figure the dashboard counts per week or month opens the
// cases it counts.
type Dated string

// The dated steps. A transition counts on its moment, bounded by the
// platform's days as the daily figures are; the others by the calendar
// day recorded with them (the order date, the raid day, the filing day,
// the outcome day, the day a payment was received), as the ledger dates
// them.
const (
	DatedOpened      Dated = "opened"
	DatedOrdered     Dated = "ordered"
	DatedVerdict     Dated = "verdict"
	DatedCounterfeit Dated = "counterfeit"
	DatedReferred    Dated = "referred"
	DatedRaided      Dated = "raided"
	DatedClosed      Dated = "closed"
	DatedClaimed     Dated = "claimed"
	DatedAwarded     Dated = "awarded"
	DatedCollected   Dated = "collected"
)

// datedStep is where a dated step is found: transitions with these
// events, or rows of a table by a date column (and a condition).
type datedStep struct {
	events      []Event
	table, day  string
	where       string
	transitions bool
}

var datedSteps = map[Dated]datedStep{
	DatedOrdered:     {table: "purchases", day: "order_date"},
	DatedVerdict:     {events: []Event{VerdictCounterfeit, VerdictGenuine, VerdictInconclusive}, transitions: true},
	DatedCounterfeit: {events: []Event{VerdictCounterfeit}, transitions: true},
	DatedReferred:    {events: []Event{ReferToPolice}, transitions: true},
	DatedRaided:      {table: "raids", day: "raided_on"},
	DatedClosed:      {transitions: true}, // the closing events, of the reason when one is asked
	DatedClaimed:     {table: "claims", day: "filed_on"},
	DatedAwarded:     {table: "claims", day: "outcome_on", where: "outcome <> ''"},
	DatedCollected:   {table: "payments", day: "received_on"},
}

// DatedList is every dated step, the opening first, in road order.
var DatedList = []Dated{DatedOpened, DatedOrdered, DatedVerdict, DatedCounterfeit, DatedReferred, DatedRaided,
	DatedClosed, DatedClaimed, DatedAwarded, DatedCollected}

// ParseDated reads a dated step's name; empty is the opening.
func ParseDated(s string) (Dated, error) {
	if s == "" {
		return DatedOpened, nil
	}
	if d := Dated(s); slices.Contains(DatedList, d) {
		return d, nil
	}
	return "", fmt.Errorf("unknown step %q", s)
}

// closingEvents are the events that close a case, for reason r or any.
func closingEvents(r CloseReason) []Event {
	var out []Event
	for _, t := range Table {
		if t.To == Closed && (r == "" || t.CloseReason == r) && !slices.Contains(out, t.Event) {
			out = append(out, t.Event)
		}
	}
	return out
}

// datedIn bounds the cases by f.From and f.To on the step f.Dated names.
func datedIn(q *gorm.DB, f Filter, loc *time.Location) *gorm.DB {
	if f.From == nil && f.To == nil {
		return q
	}
	step, ok := datedSteps[f.Dated]
	if !ok { // the opening
		if f.From != nil {
			q = q.Where("c.opened_at >= ?", f.From.UTC())
		}
		if f.To != nil {
			q = q.Where("c.opened_at < ?", f.To.UTC())
		}
		return q
	}
	if step.transitions {
		events := step.events
		if f.Dated == DatedClosed {
			events = closingEvents(f.Reason)
		}
		sub := q.Session(&gorm.Session{NewDB: true}).Table("case_events").Select("case_id").
			Where("kind = 'transition' AND event <> 'open' AND event IN ?", events) // as case_events_transition_at_idx reads
		if f.From != nil {
			sub = sub.Where("at >= ?", f.From.UTC())
		}
		if f.To != nil {
			sub = sub.Where("at < ?", f.To.UTC())
		}
		return q.Where("c.id IN (?)", sub)
	}
	// A calendar day: the platform's day of the bound, as a date.
	sub := q.Session(&gorm.Session{NewDB: true}).Table(step.table).Select("case_id")
	if step.where != "" {
		sub = sub.Where(step.where)
	}
	if f.From != nil {
		sub = sub.Where(step.day+" >= ?", clock.DateOf(*f.From, loc).Time())
	}
	if f.To != nil {
		sub = sub.Where(step.day+" < ?", clock.DateOf(*f.To, loc).Time())
	}
	return q.Where("c.id IN (?)", sub)
}
