package purchase

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/valid"
)

// A purchase cancelled after delivery leaves its item with the volunteer
// (the dispatch step is for a live purchase only) and their reimbursement
// waiting for the next holder's acceptance. The return to staff is its way
// home: once staff accept it, the reimbursement can be approved. It never
// goes to the brand (releaseTx refuses): the item of a cancelled purchase
// is not the brand's.

// AwaitingReturn reports whether a cancelled purchase's item is still
// with its buyer, not yet on its way back.
func AwaitingReturn(p Purchase, it Item) bool {
	return p.Status == Cancelled && it.PurchaseID == p.ID && it.HolderKind == PartyVolunteer &&
		it.HolderID == p.VolunteerID && it.PendingKind == nil
}

// ReturnStep is how the volunteer sends a cancelled purchase's item back
// to staff: by hand, or by courier with carrier and tracking number.
type ReturnStep struct {
	Version   int
	Method    string
	Carrier   string
	Tracking  string
	Seal      string
	Condition string
}

// ReturnToStaff releases a cancelled purchase's item from the volunteer
// to staff, who accept it on the case page.
func (s *Service) ReturnToStaff(ctx context.Context, actor authz.Actor, id int64, in ReturnStep, files []evidence.Upload) error {
	errs := valid.Errors{}
	switch in.Method {
	case MethodHand:
	case MethodCourier:
		if strings.TrimSpace(in.Carrier) == "" {
			errs.Add("carrier", "error.required")
		}
		if strings.TrimSpace(in.Tracking) == "" {
			errs.Add("tracking", "error.custody_tracking_required")
		}
	default:
		errs.Add("method", "error.required")
	}
	if len(in.Condition) > 1000 {
		errs.Add("condition", "error.too_long")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	h := Handover{ToKind: PartyStaff, Method: in.Method, Seal: in.Seal, Condition: in.Condition}
	if in.Method == MethodCourier {
		h.Carrier, h.Tracking = in.Carrier, in.Tracking
	}
	return s.step(ctx, actor, id, in.Version, Cancelled, func(tx *gorm.DB, p Purchase, ref string) error {
		it, err := itemOf(tx, p.ID)
		if errors.Is(err, database.ErrNotFound) {
			return ErrNotAllowed // cancelled before delivery: nothing to return
		} else if err != nil {
			return err
		}
		ev, err := s.releaseTx(ctx, tx, actor, it, h)
		if err != nil {
			return err
		}
		if err := s.recordFiles(ctx, tx, actor, p, ref, &ev.ID, files); err != nil {
			return err
		}
		return s.afterRelease(ctx, tx, actor, p, it, ev, ref)
	}, "purchase.return", map[string]any{"to": PartyStaff, "method": h.Method, "carrier": h.Carrier, "tracking": h.Tracking})
}
