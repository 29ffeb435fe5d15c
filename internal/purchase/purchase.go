// Package purchase is the covert test purchase of the case road: the
// volunteer pool and its buyer personas, the rotation rules that keep a
// buyer away from a shop network that has seen them, the purchase a staff
// member orders and the volunteer's steps (order, delivery, dispatch), the
// purchased item's custody chain and the volunteer's reimbursement.
package purchase

import (
	"context"
	"errors"
	"strconv"
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
	"spotcheck/internal/valid"
)

// Status is where a purchase stands.
type Status string

const (
	Assigned   Status = "assigned"
	Ordered    Status = "ordered"
	Received   Status = "received"
	Dispatched Status = "dispatched"
	Cancelled  Status = "cancelled"
)

// Live reports whether the purchase is still under way.
func (s Status) Live() bool { return s == Assigned || s == Ordered || s == Received }

// Purchase is one test purchase ordered on a case.
type Purchase struct {
	ID              int64
	CaseID          int64
	ShopID          int64
	VolunteerID     int64
	PersonaID       int64
	OrderedBy       int64
	Status          Status
	BudgetMinor     int64
	Currency        string
	Instructions    string
	ShipTo          string
	DueOn           time.Time
	OrderNumber     string
	AmountPaidMinor *int64
	FeeMinor        *int64
	OrderDate       *time.Time
	DeliveredOn     *time.Time
	SealNumber      string
	CancelReason    string
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Subject describes the purchase to the policy: its volunteer owns it.
func (p Purchase) Subject() authz.Subject {
	return authz.Subject{Kind: "purchase", OwnerID: p.VolunteerID}
}

var (
	// ErrNotAllowed: the actor may not do this, or not at this step.
	ErrNotAllowed = errors.New("this is not possible on the purchase now")
	// ErrConflict: the purchase changed since the actor loaded it.
	ErrConflict = errors.New("the purchase was changed by someone else")
)

// DefaultWindow keeps a buyer away from a shop network for 90 days.
const DefaultWindow = 90 * 24 * time.Hour

// Service holds the purchase use cases.
type Service struct {
	db     *database.DB
	queue  notify.Inserter
	window time.Duration
	loc    *time.Location // the platform's zone, in which typed dates are days
}

// NewService: window is the rotation window (0: DefaultWindow); loc is the
// platform's zone (SPOTCHECK_TIMEZONE). The clock is db's.
func NewService(db *database.DB, queue notify.Inserter, window time.Duration, loc *time.Location) *Service {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Service{db: db, queue: queue, window: window, loc: loc}
}

// today is the calendar day it is now in the platform's zone.
func (s *Service) today() clock.Date { return clock.Today(s.db.Clock(), s.loc) }

// Window is the rotation window in force.
func (s *Service) Window() time.Duration { return s.window }

// Get loads a purchase the actor may see; any other is not found.
func (s *Service) Get(ctx context.Context, actor authz.Actor, id int64) (Purchase, error) {
	var p Purchase
	if err := s.db.Gorm.WithContext(ctx).Take(&p, id).Error; err != nil {
		return p, database.NotFound(err)
	}
	if !authz.Can(actor, authz.ViewPurchase, p.Subject()) {
		return Purchase{}, database.ErrNotFound
	}
	return p, nil
}

// ForCase lists a case's purchases, newest first (staff).
func (s *Service) ForCase(ctx context.Context, caseID int64) ([]Purchase, error) {
	var ps []Purchase
	err := s.db.Gorm.WithContext(ctx).Where("case_id = ?", caseID).Order("id DESC").Find(&ps).Error
	return ps, err
}

// Assignment is a volunteer's view of one of their purchases.
type Assignment struct {
	Purchase
	CaseReference string
	ShopName      string
	Platform      string
	ListingURL    string
	ListingTitle  string
}

// Mine lists the volunteer's own purchases, newest first: nothing else.
func (s *Service) Mine(ctx context.Context, actor authz.Actor) ([]Assignment, error) {
	if !authz.Can(actor, authz.ViewAssignments, authz.Subject{}) {
		return nil, ErrNotAllowed
	}
	return s.assignments(s.db.Gorm.WithContext(ctx).Where("p.volunteer_id = ?", actor.UserID))
}

// Assignment loads one of the actor's own purchases with what buying it needs.
func (s *Service) Assignment(ctx context.Context, actor authz.Actor, id int64) (Assignment, error) {
	as, err := s.assignments(s.db.Gorm.WithContext(ctx).Where("p.id = ? AND p.volunteer_id = ?", id, actor.UserID))
	if err != nil {
		return Assignment{}, err
	}
	if len(as) == 0 || !authz.Can(actor, authz.RecordPurchase, as[0].Subject()) {
		return Assignment{}, database.ErrNotFound
	}
	return as[0], nil
}

func (s *Service) assignments(q *gorm.DB) ([]Assignment, error) {
	var rows []Assignment
	// The listing to buy: that of the case's highest-scoring flag.
	err := q.Table("purchases p").Select(`p.*, c.reference AS case_reference, sh.name AS shop_name, sh.platform,
		COALESCE(l.url, '') AS listing_url, COALESCE(l.title, '') AS listing_title`).
		Joins("JOIN cases c ON c.id = p.case_id").Joins("JOIN shops sh ON sh.id = p.shop_id").
		Joins(`LEFT JOIN listings l ON l.id = (SELECT f.listing_id FROM flags f
			WHERE f.case_id = c.id AND f.listing_id IS NOT NULL ORDER BY f.score DESC, f.id LIMIT 1)`).
		Order("p.id DESC").Limit(200).Scan(&rows).Error
	return rows, err
}

// OrderInput is the staff's purchase order form.
type OrderInput struct {
	CaseVersion  int
	VolunteerID  int64
	PersonaID    int64
	Budget       string // decimal, e.g. 199.00
	Currency     string
	Instructions string
	ShipTo       string // where the volunteer sends the item
	DueOn        string // YYYY-MM-DD
}

// Order fires order_purchase: the case moves to purchasing with a
// volunteer, a persona and a budget, if the rotation rules allow them.
func (s *Service) Order(ctx context.Context, actor authz.Actor, caseID int64, in OrderInput) (Purchase, error) {
	budget, due, err := checkOrder(&in, s.today())
	if err != nil {
		return Purchase{}, err
	}
	var p Purchase
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		var c casework.Case
		if err := tx.Take(&c, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		if _, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: c.ID, Version: in.CaseVersion,
			Event: casework.OrderPurchase, Note: in.Instructions}); err != nil {
			return err
		}
		if err := s.checkBuyer(tx, c.ShopID, in.VolunteerID, in.PersonaID); err != nil {
			return err
		}
		now := s.db.Now()
		p = Purchase{CaseID: c.ID, ShopID: c.ShopID, VolunteerID: in.VolunteerID, PersonaID: in.PersonaID, OrderedBy: actor.UserID,
			Status: Assigned, BudgetMinor: budget, Currency: in.Currency, Instructions: in.Instructions, ShipTo: in.ShipTo,
			DueOn: due, Version: 1, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			if database.IsUniqueViolation(err) {
				return casework.ErrConflict
			}
			return err
		}
		if err := buyerTx(tx, c.ID, p.VolunteerID, now); err != nil {
			return err
		}
		if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Order, CaseID: c.ID, SubjectID: p.ID,
			Party: deadline.Volunteer, PartyID: p.VolunteerID, Due: deadline.EndOf(clock.DateOf(due, time.UTC), s.loc)}); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "purchase.order", ObjectType: "purchase", ObjectID: itoa(p.ID),
			Detail: map[string]any{"case": c.Reference, "volunteer_id": p.VolunteerID, "persona_id": p.PersonaID,
				"budget_minor": budget, "currency": in.Currency, "due_on": in.DueOn}}); err != nil {
			return err
		}
		return s.queue.InsertTx(ctx, tx, notify.Args{Event: notify.AssignmentNew, Subject: c.Reference,
			Link: "/assignments/" + itoa(p.ID), UserIDs: []int64{p.VolunteerID}})
	})
	return p, err
}

func checkOrder(in *OrderInput, today clock.Date) (budget int64, due time.Time, err error) {
	errs := valid.Errors{}
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	in.Instructions = strings.TrimSpace(in.Instructions)
	in.ShipTo = strings.TrimSpace(in.ShipTo)
	if in.VolunteerID == 0 {
		errs.Add("volunteer", "error.required")
	}
	if in.PersonaID == 0 {
		errs.Add("persona", "error.required")
	}
	budget, ok := valid.Amount(in.Budget)
	if !ok || budget == 0 {
		errs.Add("budget", "error.amount")
	}
	if !valid.Currency(in.Currency) {
		errs.Add("currency", "error.currency")
	}
	due = valid.DateNotPast(errs, "due_on", in.DueOn, today)
	if len(in.Instructions) > 4000 {
		errs.Add("instructions", "error.too_long")
	}
	if in.ShipTo == "" {
		errs.Add("ship_to", "error.required")
	} else if len(in.ShipTo) > 1000 {
		errs.Add("ship_to", "error.too_long")
	}
	return budget, due, errs.Err()
}

// Cancel fires cancel_purchase: the purchase under way is cancelled with
// a reason and the case goes back to flagged. burn marks the persona as
// spotted by the seller.
func (s *Service) Cancel(ctx context.Context, actor authz.Actor, caseID int64, caseVersion int, reason string, burn bool) error {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return valid.Errors{"reason": "error.reason_required"}
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var p Purchase
		err := tx.Where("case_id = ? AND status IN ?", caseID, []Status{Assigned, Ordered, Received}).Take(&p).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return casework.ErrConflict
		} else if err != nil {
			return err
		}
		c, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: caseID, Version: caseVersion, Event: casework.CancelPurchase, Note: reason})
		if err != nil {
			return err
		}
		if err := s.setStatus(tx, p, Cancelled, map[string]any{"cancel_reason": reason}); err != nil {
			return err
		}
		if err := s.cancelSteps(tx, p); err != nil {
			return err
		}
		if burn {
			if err := tx.Model(&Persona{}).Where("id = ? AND burned_at IS NULL", p.PersonaID).
				Updates(map[string]any{"burned_at": s.db.Now(), "burned_reason": reason}).Error; err != nil {
				return err
			}
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "purchase.cancel", ObjectType: "purchase", ObjectID: itoa(p.ID),
			Detail: map[string]any{"case": c.Reference, "reason": reason, "persona_burned": burn}})
		return err
	})
}

// cancelSteps closes the steps nobody will take on a cancelled purchase;
// an order already paid for waits on its reimbursement's approval, which
// the refund settles.
func (s *Service) cancelSteps(tx *gorm.DB, p Purchase) error {
	for _, k := range []deadline.Kind{deadline.Order, deadline.Delivery, deadline.Dispatch} {
		if err := deadline.MeetTx(tx, k, p.ID); err != nil {
			return err
		}
	}
	if p.Status != Ordered {
		return nil // not paid (assigned) or delivered: approved once the item is logged in
	}
	return s.awaitApprovalTx(tx, p)
}

// awaitApprovalTx starts the staff's approval of the purchase's
// reimbursement, if it has one still new.
func (s *Service) awaitApprovalTx(tx *gorm.DB, p Purchase) error {
	var r Reimbursement
	err := tx.Where("purchase_id = ? AND status = ?", p.ID, ReimbursementNew).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return deadline.StartTx(tx, deadline.Step{Kind: deadline.ReimbursementApproval, CaseID: p.CaseID, SubjectID: r.ID,
		Party: deadline.Staff, PartyID: p.OrderedBy})
}

// setStatus moves a purchase on if nobody moved it first.
func (s *Service) setStatus(tx *gorm.DB, p Purchase, to Status, more map[string]any) error {
	updates := map[string]any{"status": to, "version": gorm.Expr("version + 1"), "updated_at": s.db.Now()}
	for k, v := range more {
		updates[k] = v
	}
	res := tx.Model(&Purchase{}).Where("id = ? AND version = ?", p.ID, p.Version).Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrConflict
	}
	return nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
