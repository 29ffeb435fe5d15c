package purchase

import (
	"context"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// ReimbursementStatus: new → approved → paid.
type ReimbursementStatus string

const (
	ReimbursementNew      ReimbursementStatus = "new"
	ReimbursementApproved ReimbursementStatus = "approved"
	ReimbursementPaid     ReimbursementStatus = "paid"
)

// Reimbursement pays a volunteer back what the purchase cost them.
type Reimbursement struct {
	ID          int64
	PurchaseID  int64
	VolunteerID int64
	AmountMinor int64
	FeeMinor    int64
	// RefundedMinor is what the shop or platform gave back to the buyer of
	// a purchase cancelled before delivery (see SettledOnRefund).
	RefundedMinor int64
	Currency      string
	Status        ReimbursementStatus
	CreatedAt     time.Time
	ApprovedBy    *int64
	ApprovedAt    *time.Time
	PaidBy        *int64
	PaidAt        *time.Time
}

// Total is what the volunteer is owed: what they paid, less any refund.
func (r Reimbursement) Total() int64 { return r.AmountMinor + r.FeeMinor - r.RefundedMinor }

// SettledOnRefund reports whether the purchase's reimbursement is approved
// on the refund rather than on its item: it was cancelled before delivery,
// so there is no item to log in (the parcel never came, or went back to
// the shop). One rule, for the approval and for the form that offers it.
func (p Purchase) SettledOnRefund() bool { return p.Status == Cancelled && p.DeliveredOn == nil }

// Approval is what staff state when approving: for a purchase settled on
// its refund, the amount refunded to the buyer ("0" when nothing was).
type Approval struct {
	Refunded string
}

// MyReimbursement is a line of the volunteer's list.
type MyReimbursement struct {
	Reimbursement
	CaseReference string
}

// MyReimbursements lists the volunteer's own reimbursements, newest first.
func (s *Service) MyReimbursements(ctx context.Context, actor authz.Actor) ([]MyReimbursement, error) {
	if !authz.Can(actor, authz.ViewReimbursements, authz.Subject{}) {
		return nil, ErrNotAllowed
	}
	var out []MyReimbursement
	err := s.db.Gorm.WithContext(ctx).Table("reimbursements r").Select("r.*, c.reference AS case_reference").
		Joins("JOIN purchases p ON p.id = r.purchase_id").Joins("JOIN cases c ON c.id = p.case_id").
		Where("r.volunteer_id = ?", actor.UserID).Order("r.id DESC").Limit(500).Scan(&out).Error
	return out, err
}

// ReimbursementOf returns a purchase's reimbursement, if the order is recorded.
func (s *Service) ReimbursementOf(ctx context.Context, purchaseID int64) (*Reimbursement, error) {
	var r Reimbursement
	err := s.db.Gorm.WithContext(ctx).Where("purchase_id = ?", purchaseID).Take(&r).Error
	if database.NotFound(err) == database.ErrNotFound {
		return nil, nil
	}
	return &r, err
}

// Approve approves a reimbursement: once the purchased item has been
// logged into custody by the party after the volunteer, or, for a purchase
// settled on its refund, with the refund stated (at most what was paid).
func (s *Service) Approve(ctx context.Context, actor authz.Actor, id int64, in Approval) error {
	return s.moveReimbursement(ctx, actor, id, ReimbursementNew, ReimbursementApproved, func(tx *gorm.DB, r *Reimbursement) error {
		var p Purchase
		if err := tx.Take(&p, r.PurchaseID).Error; err != nil {
			return err
		}
		if !p.SettledOnRefund() {
			if in.Refunded != "" {
				return valid.Errors{"refunded": "error.reimbursement_refund_not_applicable"}
			}
			var n int64
			err := tx.Table("custody_events e").Joins("JOIN items i ON i.id = e.item_id").
				Where("i.purchase_id = ? AND e.step = 'accept'", r.PurchaseID).Count(&n).Error
			if err == nil && n == 0 {
				return valid.Errors{"reimbursement": "error.reimbursement_not_in_custody"}
			}
			return err
		}
		if in.Refunded == "" {
			return valid.Errors{"refunded": "error.reimbursement_refund_required"}
		}
		refunded, ok := valid.Amount(in.Refunded)
		switch {
		case !ok:
			return valid.Errors{"refunded": "error.amount"}
		case refunded > r.AmountMinor+r.FeeMinor:
			return valid.Errors{"refunded": "error.reimbursement_refund_too_much"}
		}
		r.RefundedMinor = refunded
		return nil
	})
}

// MarkPaid records that an approved reimbursement was paid.
func (s *Service) MarkPaid(ctx context.Context, actor authz.Actor, id int64) error {
	return s.moveReimbursement(ctx, actor, id, ReimbursementApproved, ReimbursementPaid, nil)
}

func (s *Service) moveReimbursement(ctx context.Context, actor authz.Actor, id int64, from, to ReimbursementStatus, guard func(*gorm.DB, *Reimbursement) error) error {
	if !authz.Can(actor, authz.ApproveReimbursement, authz.Subject{}) {
		return ErrNotAllowed
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var r Reimbursement
		if err := tx.Take(&r, id).Error; err != nil {
			return database.NotFound(err)
		}
		if r.Status != from {
			return ErrConflict
		}
		if guard != nil {
			if err := guard(tx, &r); err != nil {
				return err
			}
		}
		now := s.db.Now()
		updates := map[string]any{"status": to}
		if to == ReimbursementApproved {
			updates["approved_by"], updates["approved_at"], updates["refunded_minor"] = actor.UserID, now, r.RefundedMinor
		} else {
			updates["paid_by"], updates["paid_at"] = actor.UserID, now
		}
		res := tx.Model(&Reimbursement{}).Where("id = ? AND status = ?", id, from).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrConflict
		}
		if err := reimbursementSteps(tx, r, to, actor.UserID); err != nil {
			return err
		}
		if to == ReimbursementApproved && r.RefundedMinor > 0 {
			if err := refundCounted(tx, r); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "reimbursement." + string(to), ObjectType: "reimbursement",
			ObjectID: itoa(id), Detail: map[string]any{"purchase_id": r.PurchaseID,
				"refunded_minor": r.RefundedMinor, "total_minor": r.Total(), "currency": r.Currency}})
		return err
	})
}

// refundCounted takes a refund off the dashboard's spend and fees, on the
// order's day: off the amount paid first, then off the fee — the rule the
// recoveries ledger applies in SQL (enforcement/ledger.go), held to it by
// TestAPurchaseCancelledInTransitIsSettledOnTheRefund.
func refundCounted(tx *gorm.DB, r Reimbursement) error {
	var p Purchase
	if err := tx.Take(&p, r.PurchaseID).Error; err != nil {
		return err
	}
	if p.OrderDate == nil {
		return nil
	}
	brandID, err := caseBrand(tx, p.CaseID)
	if err != nil {
		return err
	}
	offPaid := min(r.RefundedMinor, r.AmountMinor)
	return stats.AddOnTx(tx, clock.DateOf(*p.OrderDate, time.UTC), stats.Delta{Metric: stats.Spend, BrandID: brandID, N: -offPaid},
		stats.Delta{Metric: stats.Fees, BrandID: brandID, N: -(r.RefundedMinor - offPaid)})
}

// reimbursementSteps: an approved reimbursement waits on its payment, a
// paid one on nothing.
func reimbursementSteps(tx *gorm.DB, r Reimbursement, to ReimbursementStatus, by int64) error {
	if to == ReimbursementPaid {
		return deadline.MeetTx(tx, deadline.ReimbursementPayment, r.ID)
	}
	if err := deadline.MeetTx(tx, deadline.ReimbursementApproval, r.ID); err != nil {
		return err
	}
	var caseID int64
	if err := tx.Raw(`SELECT case_id FROM purchases WHERE id = ?`, r.PurchaseID).Scan(&caseID).Error; err != nil {
		return err
	}
	return deadline.StartTx(tx, deadline.Step{Kind: deadline.ReimbursementPayment, CaseID: caseID, SubjectID: r.ID,
		Party: deadline.Staff, PartyID: by})
}

// ReimbursementCase returns the reference of a reimbursement's case.
func (s *Service) ReimbursementCase(ctx context.Context, id int64) (string, error) {
	var ref string
	return ref, scalar(s.db.Gorm.WithContext(ctx), &ref, `SELECT c.reference FROM reimbursements r
		JOIN purchases p ON p.id = r.purchase_id JOIN cases c ON c.id = p.case_id WHERE r.id = ?`, id)
}
