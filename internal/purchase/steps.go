package purchase

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// The volunteer's three steps. Each is one transaction: the purchase moves
// on only from the step before, the uploaded files (already streamed to
// blob storage) are recorded as evidence, staff are notified.

// visibility: photos of the item are shown to the brand (as metadata-free
// derivatives); receipts and screenshots carry the buyer persona, and the
// sealed parcel its shipping label (name, address, tracking number), so
// they stay with staff.
func visibility(k evidence.Kind) evidence.Visibility {
	if k == evidence.ItemPhoto {
		return evidence.BrandVisible
	}
	return evidence.StaffOnly
}

// OrderStep is what the volunteer records once the order is placed.
type OrderStep struct {
	Version     int
	OrderNumber string
	AmountPaid  string
	Fee         string
	OrderDate   string
}

// RecordOrder records the order with its receipt (at least one) and
// screenshots, and opens the volunteer's reimbursement.
func (s *Service) RecordOrder(ctx context.Context, actor authz.Actor, id int64, in OrderStep, files []evidence.Upload) error {
	errs := valid.Errors{}
	in.OrderNumber = strings.TrimSpace(in.OrderNumber)
	switch {
	case in.OrderNumber == "":
		errs.Add("order_number", "error.required")
	case len(in.OrderNumber) > 100:
		errs.Add("order_number", "error.too_long")
	}
	paid, ok := valid.Amount(in.AmountPaid)
	if !ok || paid == 0 {
		errs.Add("amount_paid", "error.amount")
	}
	var fee int64
	if strings.TrimSpace(in.Fee) != "" {
		if fee, ok = valid.Amount(in.Fee); !ok {
			errs.Add("fee", "error.amount")
		}
	}
	date := valid.DateNotFuture(errs, "order_date", in.OrderDate, s.today())
	if !hasKind(files, evidence.Receipt) {
		errs.Add("receipt", "error.receipt_required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.step(ctx, actor, id, in.Version, Assigned, func(tx *gorm.DB, p Purchase, ref string) error {
		if err := s.setStatus(tx, p, Ordered, map[string]any{"order_number": in.OrderNumber, "amount_paid_minor": paid,
			"fee_minor": fee, "order_date": date}); err != nil {
			return err
		}
		if err := tx.Create(&Reimbursement{PurchaseID: p.ID, VolunteerID: p.VolunteerID, AmountMinor: paid, FeeMinor: fee,
			Currency: p.Currency, Status: ReimbursementNew, CreatedAt: s.db.Now()}).Error; err != nil {
			return err
		}
		if err := s.recordFiles(ctx, tx, actor, p, ref, nil, files); err != nil {
			return err
		}
		if err := s.nextStep(tx, p, deadline.Order, deadline.Delivery); err != nil {
			return err
		}
		brandID, err := caseBrand(tx, p.CaseID)
		if err != nil {
			return err
		}
		// On the order's own day, as the recoveries ledger dates it.
		if err := stats.AddOnTx(tx, clock.DateOf(date, time.UTC), stats.Delta{Metric: stats.PurchasesOrdered, BrandID: brandID, N: 1},
			stats.Delta{Metric: stats.Spend, BrandID: brandID, N: paid}, stats.Delta{Metric: stats.Fees, BrandID: brandID, N: fee}); err != nil {
			return err
		}
		return s.tellStaff(ctx, tx, p, ref, notify.OrderRecorded)
	}, "purchase.record_order", map[string]any{"order_number": in.OrderNumber, "amount_paid_minor": paid, "fee_minor": fee})
}

// DeliveryStep is what the volunteer records when the parcel arrives.
type DeliveryStep struct {
	Version     int
	DeliveredOn string
	SealNumber  string
	Carrier     string
	Tracking    string
}

// RecordDelivery records the parcel's arrival with photos of it sealed:
// the item gets its number and its custody chain starts with the volunteer.
func (s *Service) RecordDelivery(ctx context.Context, actor authz.Actor, id int64, in DeliveryStep, files []evidence.Upload) error {
	errs := valid.Errors{}
	date := valid.DateNotFuture(errs, "delivered_on", in.DeliveredOn, s.today())
	in.SealNumber = strings.TrimSpace(in.SealNumber)
	if in.SealNumber == "" || len(in.SealNumber) > 100 {
		errs.Add("seal_number", "error.required")
	}
	if !hasKind(files, evidence.ParcelPhoto) {
		errs.Add("parcel_photo", "error.photo_required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.step(ctx, actor, id, in.Version, Ordered, func(tx *gorm.DB, p Purchase, ref string) error {
		if err := s.setStatus(tx, p, Received, map[string]any{"delivered_on": date, "seal_number": in.SealNumber}); err != nil {
			return err
		}
		ev, err := s.startCustody(ctx, tx, actor, p, ref, Handover{Method: MethodCourier, Carrier: in.Carrier,
			Tracking: in.Tracking, Seal: in.SealNumber})
		if err != nil {
			return err
		}
		if err := s.recordFiles(ctx, tx, actor, p, ref, &ev.ID, files); err != nil {
			return err
		}
		if err := s.nextStep(tx, p, deadline.Delivery, deadline.Dispatch); err != nil {
			return err
		}
		return s.tellStaff(ctx, tx, p, ref, notify.DeliveryRecorded)
	}, "purchase.record_delivery", map[string]any{"delivered_on": in.DeliveredOn, "seal_number": in.SealNumber})
}

// DispatchStep sends the item on: to the brand (which fires
// send_to_brand) or to staff.
type DispatchStep struct {
	Version  int
	To       Party // PartyBrand or PartyStaff
	Carrier  string
	Tracking string
	Seal     string
}

// Dispatch releases the item from the volunteer into a courier's hands.
func (s *Service) Dispatch(ctx context.Context, actor authz.Actor, id int64, in DispatchStep, files []evidence.Upload) error {
	errs := valid.Errors{}
	if in.To != PartyBrand && in.To != PartyStaff {
		errs.Add("to", "error.required")
	}
	if strings.TrimSpace(in.Carrier) == "" {
		errs.Add("carrier", "error.required")
	}
	if strings.TrimSpace(in.Tracking) == "" {
		errs.Add("tracking", "error.required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.step(ctx, actor, id, in.Version, Received, func(tx *gorm.DB, p Purchase, ref string) error {
		if err := s.setStatus(tx, p, Dispatched, nil); err != nil {
			return err
		}
		if err := deadline.MeetTx(tx, deadline.Dispatch, p.ID); err != nil {
			return err
		}
		it, err := itemOf(tx, p.ID)
		if err != nil {
			return err
		}
		h := Handover{Method: MethodCourier, Carrier: in.Carrier, Tracking: in.Tracking, Seal: in.Seal, ToKind: in.To}
		ev, err := s.releaseTx(ctx, tx, actor, it, h)
		if err != nil {
			return err
		}
		if err := s.recordFiles(ctx, tx, actor, p, ref, &ev.ID, files); err != nil {
			return err
		}
		return s.afterRelease(ctx, tx, actor, p, it, ev, ref)
	}, "purchase.dispatch", map[string]any{"to": in.To, "carrier": in.Carrier, "tracking": in.Tracking})
}

// nextStep closes the volunteer's step done and starts the next one's.
func (s *Service) nextStep(tx *gorm.DB, p Purchase, done, next deadline.Kind) error {
	if err := deadline.MeetTx(tx, done, p.ID); err != nil {
		return err
	}
	return deadline.StartTx(tx, deadline.Step{Kind: next, CaseID: p.CaseID, SubjectID: p.ID,
		Party: deadline.Volunteer, PartyID: p.VolunteerID})
}

// step runs one volunteer step on their own purchase, from status from.
func (s *Service) step(ctx context.Context, actor authz.Actor, id int64, version int, from Status,
	fn func(tx *gorm.DB, p Purchase, ref string) error, action string, detail map[string]any) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var p Purchase
		if err := tx.Take(&p, id).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.RecordPurchase, p.Subject()) {
			return database.ErrNotFound
		}
		if p.Version != version {
			return ErrConflict
		}
		if p.Status != from {
			return ErrNotAllowed
		}
		ref, err := caseRef(tx, p.CaseID)
		if err != nil {
			return err
		}
		if err := fn(tx, p, ref); err != nil {
			return err
		}
		detail["case"] = ref
		_, err = audit.Append(ctx, tx, audit.Record{Action: action, ObjectType: "purchase", ObjectID: itoa(p.ID), Detail: detail})
		return err
	})
}

func (s *Service) recordFiles(ctx context.Context, tx *gorm.DB, actor authz.Actor, p Purchase, ref string, custodyEvent *int64, files []evidence.Upload) error {
	if len(files) == 0 {
		return nil
	}
	in := make([]evidence.New, len(files))
	for i, f := range files {
		in[i] = evidence.New{CaseID: p.CaseID, PurchaseID: &p.ID, CustodyEventID: custodyEvent, Kind: f.Kind,
			Visibility: visibility(f.Kind), Stored: f.Stored}
	}
	_, err := evidence.RecordTx(ctx, tx, actor, ref, in)
	return err
}

// tellStaff notifies whoever ordered the purchase and the case's investigator.
func (s *Service) tellStaff(ctx context.Context, tx *gorm.DB, p Purchase, ref string, ev notify.Event) error {
	ids := []int64{p.OrderedBy}
	var inv *int64
	if err := scalar(tx, &inv, "SELECT investigator_id FROM cases WHERE id = ?", p.CaseID); err != nil {
		return err
	}
	if inv != nil && *inv != p.OrderedBy {
		ids = append(ids, *inv)
	}
	return s.queue.InsertTx(ctx, tx, notify.Args{Event: ev, Subject: ref, Link: "/cases/" + ref + "#purchase", UserIDs: ids})
}

func hasKind(files []evidence.Upload, k evidence.Kind) bool {
	for _, f := range files {
		if f.Kind == k {
			return true
		}
	}
	return false
}

// sendToBrandGuard is send_to_brand's guard: the order recorded with a
// receipt still on record, the delivery with parcel photos, and the item
// on its way to, or with, the brand.
func sendToBrandGuard(tx *gorm.DB, p Purchase, it Item) error {
	count := func(kind evidence.Kind) (int64, error) {
		var n int64
		err := tx.Table("evidence").Where("purchase_id = ? AND kind = ? AND withdrawn_at IS NULL", p.ID, kind).Count(&n).Error
		return n, err
	}
	errs := valid.Errors{}
	if p.OrderNumber == "" {
		errs.Add("guard", "error.guard_order_missing")
	} else if n, err := count(evidence.Receipt); err != nil {
		return err
	} else if n == 0 {
		errs.Add("guard", "error.guard_receipt_missing")
	}
	if p.DeliveredOn == nil {
		errs.Add("guard_delivery", "error.guard_delivery_missing")
	} else if n, err := count(evidence.ParcelPhoto); err != nil {
		return err
	} else if n == 0 {
		errs.Add("guard_delivery", "error.guard_photo_missing")
	}
	if it.HolderKind != PartyBrand && (it.PendingKind == nil || *it.PendingKind != PartyBrand) {
		errs.Add("guard_item", "error.guard_item_not_to_brand")
	}
	return errs.Err()
}

// afterRelease: an item released to the brand while the case is still in
// purchasing fires send_to_brand (its guard checked first); the receiver
// is told it is coming.
func (s *Service) afterRelease(ctx context.Context, tx *gorm.DB, actor authz.Actor, p Purchase, it Item, ev CustodyEvent, ref string) error {
	var c casework.Case
	if err := tx.Take(&c, p.CaseID).Error; err != nil {
		return err
	}
	if ev.ToKind == PartyBrand && c.State == casework.Purchasing {
		if err := tx.Take(&p, p.ID).Error; err != nil {
			return err
		}
		it.PendingKind, it.PendingID = &ev.ToKind, &ev.ToID
		if err := sendToBrandGuard(tx, p, it); err != nil {
			return err
		}
		if _, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: c.ID, Version: c.Version,
			Event: casework.SendToBrand, Note: it.Number, Owner: p.VolunteerID}); err != nil {
			return err
		}
		var days int
		if err := tx.Raw(`SELECT authentication_days FROM brands WHERE id = ?`, c.BrandID).Scan(&days).Error; err != nil {
			return err
		}
		if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Verdict, CaseID: c.ID, SubjectID: c.ID,
			Party: deadline.Brand, PartyID: c.BrandID, Due: verdictDue(ev.At, days)}); err != nil {
			return err
		}
	}
	if ev.ToKind == PartyBrand {
		if err := deadline.StartTx(tx, deadline.Step{Kind: deadline.Acceptance, CaseID: c.ID, SubjectID: it.ID,
			Party: deadline.Brand, PartyID: c.BrandID, BrandID: c.BrandID}); err != nil {
			return err
		}
	}
	args := notify.Args{Event: notify.ItemDispatched, Subject: it.Number, Link: "/cases/" + ref + "#custody", UserIDs: []int64{p.OrderedBy}}
	if ev.ToKind == PartyBrand {
		args.BrandID, args.BrandLink = c.BrandID, "/authentications"
	}
	return s.queue.InsertTx(ctx, tx, args)
}

// AddEvidence adds files to a purchase after its steps (a receipt that was
// missing, more photos): the volunteer on their own, or staff.
func (s *Service) AddEvidence(ctx context.Context, actor authz.Actor, id int64, files []evidence.Upload) error {
	if len(files) == 0 {
		return valid.Errors{"files": "error.required"}
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var p Purchase
		if err := tx.Take(&p, id).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.ViewPurchase, p.Subject()) {
			return database.ErrNotFound
		}
		if !authz.Can(actor, authz.UploadEvidence, p.Subject()) {
			return ErrNotAllowed
		}
		ref, err := caseRef(tx, p.CaseID)
		if err != nil {
			return err
		}
		return s.recordFiles(ctx, tx, actor, p, ref, nil, files)
	})
}
