// Package deadline gives every step that waits on someone a due time and
// makes waiting steps move: the due time is stored when the step starts,
// in the transaction that starts it, and closed when the step is done, so
// that "overdue" is a read of an index over the open steps; one periodic
// sweep reminds whoever must act before the due time and escalates when it
// passes, each message once (see Sweeper).
package deadline

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/clock"
	"spotcheck/internal/database"
)

// Kind is the kind of step a deadline waits on.
type Kind string

const (
	Order                 Kind = "order"                  // the volunteer places the order (the purchase's due date)
	Delivery              Kind = "delivery"               // the parcel reaches the volunteer, after the order
	Dispatch              Kind = "dispatch"               // the volunteer sends the item on, after delivery
	Acceptance            Kind = "acceptance"             // the brand logs a sent item in
	Verdict               Kind = "verdict"                // the brand signs its verdict (its authentication days)
	PoliceAnswer          Kind = "police_answer"          // the police accept or decline a referral
	ReferralQuiet         Kind = "referral_quiet"         // the next step of a referral that has gone quiet
	Hearing               Kind = "hearing"                // a claim's hearing day: its outcome or the next hearing
	ReimbursementApproval Kind = "reimbursement_approval" // staff approve a volunteer's reimbursement
	ReimbursementPayment  Kind = "reimbursement_payment"  // the approved reimbursement is paid
)

// Kinds lists every kind in road order.
var Kinds = []Kind{Order, Delivery, Dispatch, Acceptance, Verdict, PoliceAnswer, ReferralQuiet, Hearing,
	ReimbursementApproval, ReimbursementPayment}

// Party is who must act on a step.
type Party string

const (
	Volunteer Party = "volunteer" // PartyID is the volunteer's user id
	Brand     Party = "brand"     // PartyID is the brand's id: any of its users
	Staff     Party = "staff"     // PartyID is the staff member who started the step
)

// Parties lists every party.
var Parties = []Party{Volunteer, Brand, Staff}

// Stage is how far the sweep has gone with an open deadline.
type Stage int

const (
	Waiting   Stage = iota // nothing sent yet
	Reminded               // the one who must act was reminded before the due time
	Escalated              // past due: the case's investigator was told
	Admins                 // long past due: the admins were told
)

// Deadline is one step's due time.
type Deadline struct {
	ID        int64
	CaseID    int64
	BrandID   int64 // the case's, for the brand's overdue counts
	Kind      Kind
	SubjectID int64 // the purchase, reimbursement, referral, claim or case the step is on
	Party     Party
	PartyID   int64
	StartedAt time.Time
	DueAt     time.Time
	DoneAt    *time.Time
	Stage     Stage
	StagedAt  *time.Time
}

// Overdue reports whether the step is still open at now and past due.
func (d Deadline) Overdue(now time.Time) bool { return d.DoneAt == nil && now.After(d.DueAt) }

// Step is a step that starts: what it is on and who must act.
type Step struct {
	Kind      Kind
	CaseID    int64
	SubjectID int64
	Party     Party
	PartyID   int64
	// Due, when the step is due by a date or a time the step itself
	// carries (a purchase's due date, a hearing day, a brand's
	// authentication days); otherwise the kind's setting from now.
	Due time.Time
	// BrandID: the brand whose own setting, if it has one, decides the
	// duration (the brand is the one waited on).
	BrandID int64
}

// EndOf is the instant a calendar day ends in loc: a step due on a day may
// be done until that day is over where the platform is.
func EndOf(d clock.Date, loc *time.Location) time.Time { return d.AddDays(1).Start(loc).UTC() }

// StartTx stores the step's due time in the caller's transaction. A step of
// the same kind on the same subject that is still open (a step started
// again: the item sent back to the brand, a new hearing day) is closed
// first, so each step has one open deadline.
func StartTx(tx *gorm.DB, s Step) error {
	now := database.Now(tx)
	due := s.Due
	if due.IsZero() {
		days, err := durationTx(tx, s.Kind, s.BrandID)
		if err != nil {
			return err
		}
		due = now.AddDate(0, 0, days)
	}
	if err := MeetTx(tx, s.Kind, s.SubjectID); err != nil {
		return err
	}
	var brandID int64
	if err := tx.Raw(`SELECT brand_id FROM cases WHERE id = ?`, s.CaseID).Row().Scan(&brandID); err != nil {
		return fmt.Errorf("deadline: the case of a %s step: %w", s.Kind, err)
	}
	return tx.Create(&Deadline{CaseID: s.CaseID, BrandID: brandID, Kind: s.Kind, SubjectID: s.SubjectID, Party: s.Party, PartyID: s.PartyID,
		StartedAt: now, DueAt: due.UTC()}).Error
}

// MeetTx closes the open deadline of the step kind on subject, if any: the
// step was done (or will not be, as when its purchase is cancelled).
func MeetTx(tx *gorm.DB, kind Kind, subject int64) error {
	return tx.Model(&Deadline{}).Where("kind = ? AND subject_id = ? AND done_at IS NULL", kind, subject).
		Update("done_at", database.Now(tx)).Error
}

// CloseCaseTx closes every open deadline of a case: it closed, and nobody
// waits on anything in it any more.
func CloseCaseTx(tx *gorm.DB, caseID int64) error {
	return tx.Model(&Deadline{}).Where("case_id = ? AND done_at IS NULL", caseID).Update("done_at", database.Now(tx)).Error
}

// durationTx is the number of days a kind of step may take: the brand's own
// setting where it has one, else the global one.
func durationTx(tx *gorm.DB, k Kind, brandID int64) (int, error) {
	if brandID != 0 && k == Acceptance {
		var own *int
		if err := tx.Raw(`SELECT acceptance_days FROM brands WHERE id = ?`, brandID).Scan(&own).Error; err != nil {
			return 0, err
		}
		if own != nil {
			return *own, nil
		}
	}
	var days int
	if err := tx.Raw(`SELECT days FROM deadline_settings WHERE kind = ?`, string(k)).Scan(&days).Error; err != nil {
		return 0, err
	}
	if days == 0 {
		return 0, fmt.Errorf("deadline: no setting for %q", k)
	}
	return days, nil
}

// OverdueIn is the condition, on a query of cases whose id is the column
// caseID, that the case has a step open and past due at now (of that kind
// and waiting on that party, when given): a read of the open-deadline
// index.
func OverdueIn(q *gorm.DB, caseID string, now time.Time, kind Kind, party Party) *gorm.DB {
	sub := q.Session(&gorm.Session{NewDB: true}).Table("deadlines").Select("case_id").Where("done_at IS NULL AND due_at < ?", now)
	if kind != "" {
		sub = sub.Where("kind = ?", kind)
	}
	if party != "" {
		sub = sub.Where("party = ?", party)
	}
	return q.Where(caseID+" IN (?)", sub)
}

// OverdueOf returns which of the cases have a step open and past due.
func OverdueOf(tx *gorm.DB, now time.Time, caseIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(caseIDs) == 0 {
		return out, nil
	}
	var ids []int64
	if err := tx.Raw(`SELECT DISTINCT case_id FROM deadlines WHERE done_at IS NULL AND due_at < ? AND case_id IN ?`, now, caseIDs).
		Scan(&ids).Error; err != nil {
		return nil, err
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// WaitingOnIn is the condition that the case has a step open and past due
// at now that staff member userID must move: as the case's investigator
// (the first to hear of an overdue step) or as the one who started a step
// staff must do.
func WaitingOnIn(q *gorm.DB, caseID string, now time.Time, userID int64) *gorm.DB {
	return q.Where(caseID+` IN (SELECT d.case_id FROM deadlines d JOIN cases dc ON dc.id = d.case_id
		WHERE d.done_at IS NULL AND d.due_at < ? AND (dc.investigator_id = ? OR (d.party = 'staff' AND d.party_id = ?)))`,
		now, userID, userID)
}
