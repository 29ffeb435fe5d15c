package enforcement

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// Basis is what a civil claim rests on.
type Basis string

const (
	BreachOfAgreement Basis = "agreement" // breach of the platform's service agreement
	Goodwill          Basis = "goodwill"  // damage to the platform's goodwill
	OtherBasis        Basis = "other"
)

// Bases lists them in the form's order.
var Bases = []Basis{BreachOfAgreement, Goodwill, OtherBasis}

// Claim is the civil claim against the seller.
type Claim struct {
	ID              int64
	CaseID          int64
	Court           string
	CourtCaseNumber string
	FiledOn         time.Time
	Basis           Basis
	BasisNote       string
	ClaimMinor      int64
	Outcome         string // judgment, settlement, or empty while pending
	OutcomeMinor    int64
	OutcomeOn       *time.Time
	CreatedBy       int64
	CreatedAt       time.Time
	Hearings        []Hearing `gorm:"-"`
	Payments        []Payment `gorm:"-"`
}

// Collected is the sum of the payments received.
func (c Claim) Collected() int64 {
	var n int64
	for _, p := range c.Payments {
		n += p.AmountMinor
	}
	return n
}

// Hearing is one court hearing.
type Hearing struct {
	ID        int64
	ClaimID   int64
	HeldOn    time.Time
	Note      string
	CreatedBy int64
	CreatedAt time.Time
}

// Payment is money received from the seller.
type Payment struct {
	ID          int64
	ClaimID     int64
	CaseID      int64
	AmountMinor int64
	ReceivedOn  time.Time
	Note        string
	CreatedBy   int64
	CreatedAt   time.Time
}

// ClaimInput is the claim form.
type ClaimInput struct {
	CaseVersion     int
	Court           string
	CourtCaseNumber string
	FiledOn         string
	Basis           string
	BasisNote       string
	Amount          string // yuan
}

// FileClaim fires file_claim with the claim's details.
func (s *Service) FileClaim(ctx context.Context, actor authz.Actor, caseID int64, in ClaimInput) (Claim, error) {
	errs := valid.Errors{}
	cl := Claim{CaseID: caseID, Court: strings.TrimSpace(in.Court), CourtCaseNumber: strings.TrimSpace(in.CourtCaseNumber),
		Basis: Basis(in.Basis), BasisNote: strings.TrimSpace(in.BasisNote), CreatedBy: actor.UserID}
	if cl.Court == "" {
		errs.Add("court", "error.required")
	}
	cl.FiledOn = valid.DateNotFuture(errs, "filed_on", in.FiledOn, s.today())
	if !slices.Contains(Bases, cl.Basis) {
		errs.Add("basis", "error.required")
	} else if cl.Basis == OtherBasis && cl.BasisNote == "" {
		errs.Add("basis_note", "error.required")
	}
	var ok bool
	if cl.ClaimMinor, ok = valid.Amount(in.Amount); !ok || cl.ClaimMinor == 0 {
		errs.Add("amount", "error.amount")
	}
	if err := errs.Err(); err != nil {
		return Claim{}, err
	}
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		c, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: caseID, Version: in.CaseVersion, Event: casework.FileClaim,
			Note: cl.Court + " " + cl.CourtCaseNumber})
		if err != nil {
			return err
		}
		cl.CreatedAt = s.db.Now()
		if err := tx.Create(&cl).Error; err != nil {
			return err
		}
		if err := stats.AddOnTx(tx, clock.DateOf(cl.FiledOn, time.UTC), stats.Delta{Metric: stats.Claimed, BrandID: c.BrandID, N: cl.ClaimMinor}); err != nil {
			return err
		}
		// The claim goes on in court: the referral no longer waits.
		if err := deadline.MeetTx(tx, deadline.ReferralQuiet, caseID); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "claim.file", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"court": cl.Court, "court_case_number": cl.CourtCaseNumber, "basis": cl.Basis, "claim_minor": cl.ClaimMinor}})
		return err
	})
	return cl, err
}

// OutcomeInput ends the claim: a judgment or a settlement and its amount.
type OutcomeInput struct {
	CaseVersion int
	Outcome     string // judgment, settlement
	Amount      string
	On          string
}

// RecordOutcome fires record_judgment or settle: the case closes as
// recovered with the amount awarded or agreed.
func (s *Service) RecordOutcome(ctx context.Context, actor authz.Actor, caseID int64, in OutcomeInput) error {
	errs := valid.Errors{}
	ev := map[string]casework.Event{"judgment": casework.RecordJudgment, "settlement": casework.Settle}[in.Outcome]
	if ev == "" {
		errs.Add("outcome", "error.required")
	}
	amount, ok := valid.Amount(in.Amount)
	if !ok {
		errs.Add("outcome_amount", "error.amount")
	}
	on := valid.DateNotFuture(errs, "outcome_on", in.On, s.today())
	if err := errs.Err(); err != nil {
		return err
	}
	return s.claimTx(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case, cl Claim) error {
		if _, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: caseID, Version: in.CaseVersion, Event: ev, Note: in.Amount}); err != nil {
			return err
		}
		if err := tx.Model(&Claim{}).Where("id = ?", cl.ID).
			Updates(map[string]any{"outcome": in.Outcome, "outcome_minor": amount, "outcome_on": on}).Error; err != nil {
			return err
		}
		if err := stats.AddOnTx(tx, clock.DateOf(on, time.UTC), stats.Delta{Metric: stats.Awarded, BrandID: c.BrandID, N: amount}); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "claim." + in.Outcome, ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"amount_minor": amount, "on": in.On}}); err != nil {
			return err
		}
		return notify.TellBrandTx(ctx, tx, s.queue, notify.CaseJudged, c.Reference, c.BrandID)
	})
}

// AddHearing records a hearing of the claim.
func (s *Service) AddHearing(ctx context.Context, actor authz.Actor, caseID int64, heldOn, note string) error {
	errs := valid.Errors{}
	on := valid.Date(errs, "held_on", heldOn) // a hearing may be set ahead
	if err := errs.Err(); err != nil {
		return err
	}
	return s.claimTx(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case, cl Claim) error {
		h := Hearing{ClaimID: cl.ID, HeldOn: on, Note: strings.TrimSpace(note), CreatedBy: actor.UserID, CreatedAt: s.db.Now()}
		if err := tx.Create(&h).Error; err != nil {
			return err
		}
		if err := hearingStep(tx, caseID, actor, clock.DateOf(on, time.UTC), s.today(), s.loc); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "claim.hearing", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"held_on": heldOn, "note": h.Note}})
		return err
	})
}

// hearingStep: a hearing set for today or later is a day staff must be
// ready for (reminded before it; overdue if it passes with no outcome and
// no next hearing); one recorded after it was held closes that wait.
func hearingStep(tx *gorm.DB, caseID int64, actor authz.Actor, on, today clock.Date, loc *time.Location) error {
	if on.Before(today) {
		return deadline.MeetTx(tx, deadline.Hearing, caseID)
	}
	st := staffStep(deadline.Hearing, caseID, actor)
	st.Due = deadline.EndOf(on, loc)
	return deadline.StartTx(tx, st)
}

// AddPayment records money received from the seller (also after the
// case has closed, as payments come in).
func (s *Service) AddPayment(ctx context.Context, actor authz.Actor, caseID int64, amount, receivedOn, note string) error {
	errs := valid.Errors{}
	minor, ok := valid.Amount(amount)
	if !ok || minor == 0 {
		errs.Add("payment_amount", "error.amount")
	}
	on := valid.DateNotFuture(errs, "received_on", receivedOn, s.today())
	if err := errs.Err(); err != nil {
		return err
	}
	return s.claimTx(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case, cl Claim) error {
		p := Payment{ClaimID: cl.ID, CaseID: caseID, AmountMinor: minor, ReceivedOn: on, Note: strings.TrimSpace(note),
			CreatedBy: actor.UserID, CreatedAt: s.db.Now()}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		if err := stats.AddOnTx(tx, clock.DateOf(p.ReceivedOn, time.UTC), stats.Delta{Metric: stats.Collected, BrandID: c.BrandID, N: minor}); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "claim.payment", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"amount_minor": minor, "received_on": receivedOn}}); err != nil {
			return err
		}
		return notify.TellBrandTx(ctx, tx, s.queue, notify.ClaimPaid, c.Reference, c.BrandID)
	})
}

// claimTx runs fn on the case's claim in a transaction, as staff.
func (s *Service) claimTx(ctx context.Context, actor authz.Actor, caseID int64, fn func(*gorm.DB, casework.Case, Claim) error) error {
	return s.caseTx(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case) error {
		var cl Claim
		if err := tx.Where("case_id = ?", caseID).Take(&cl).Error; err != nil {
			return database.NotFound(err)
		}
		return fn(tx, c, cl)
	})
}

// ClaimOf loads a case's claim with its hearings and payments (nil: none).
func (s *Service) ClaimOf(ctx context.Context, caseID int64) (*Claim, error) {
	db := s.db.Gorm.WithContext(ctx)
	var cl Claim
	err := db.Where("case_id = ?", caseID).Take(&cl).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := db.Where("claim_id = ?", cl.ID).Order("held_on, id").Find(&cl.Hearings).Error; err != nil {
		return nil, err
	}
	if err := db.Where("claim_id = ?", cl.ID).Order("received_on, id").Find(&cl.Payments).Error; err != nil {
		return nil, err
	}
	return &cl, nil
}
