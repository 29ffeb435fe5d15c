package purchase

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/valid"
)

// Party is who can hold a purchased item. A volunteer party is one person
// (id = user id), a brand party is the brand (id = brand id), staff and
// police are the governance team and the police (id 0); the person who
// acted for the party is the event's actor.
type Party = string

const (
	PartyVolunteer Party = "volunteer"
	PartyStaff     Party = "staff"
	PartyBrand     Party = "brand"
	PartyPolice    Party = "police"
)

// Method is how an item changed hands.
const (
	MethodHand    = "hand"
	MethodCourier = "courier"
)

// Item is a purchased item. Exactly one party holds it at any time; while
// it is in transit Pending names who is to accept it.
type Item struct {
	ID          int64
	PurchaseID  int64
	CaseID      int64
	Number      string
	HolderKind  Party
	HolderID    int64
	PendingKind *Party
	PendingID   *int64
	CustodySeq  int
	CreatedAt   time.Time
}

// CustodyEvent is one link of an item's chain: the first receipt from the
// seller, then release and accept in turn.
type CustodyEvent struct {
	ID             int64
	ItemID         int64
	Seq            int
	Step           string // receive, release, accept
	FromKind       Party
	FromID         *int64
	ToKind         Party
	ToID           int64
	At             time.Time
	Place          string
	Method         string
	Carrier        string
	TrackingNumber string
	SealNumber     string
	SealIntact     *bool
	Condition      string
	ActorID        int64
}

// Handover is what a release records.
type Handover struct {
	ToKind    Party
	ToID      int64
	Method    string
	Carrier   string
	Tracking  string
	Seal      string
	Place     string
	Condition string
}

var (
	// ErrNotHolder: only the party holding the item may release it, and
	// only the party it was released to may accept it.
	ErrNotHolder = errors.New("the item is not held by, or on its way to, you")
	// ErrInTransit: a released item must be accepted before it moves again.
	ErrInTransit = errors.New("the item is already on its way")
)

// actsFor asks the policy whether actor acts for a party.
func actsFor(actor authz.Actor, kind Party, id int64) bool {
	switch kind {
	case PartyStaff, PartyPolice: // staff record what the police receive
		return authz.Can(actor, authz.HandleCustody, authz.Subject{Kind: authz.CustodyStaff})
	case PartyVolunteer:
		return authz.Can(actor, authz.HandleCustody, authz.Subject{Kind: authz.CustodyVolunteer, OwnerID: id})
	case PartyBrand:
		return authz.Can(actor, authz.HandleCustody, authz.Subject{Kind: authz.CustodyBrand, BrandID: id})
	}
	return false
}

// startCustody numbers the purchase's item and records the volunteer
// receiving it from the seller: the first link of the chain.
func (s *Service) startCustody(ctx context.Context, tx *gorm.DB, actor authz.Actor, p Purchase, ref string, h Handover) (CustodyEvent, error) {
	var n int64
	if err := tx.Model(&Item{}).Where("case_id = ?", p.CaseID).Count(&n).Error; err != nil {
		return CustodyEvent{}, err
	}
	it := Item{PurchaseID: p.ID, CaseID: p.CaseID, Number: fmt.Sprintf("%s-%d", ref, n+1), HolderKind: PartyVolunteer,
		HolderID: p.VolunteerID, CustodySeq: 1, CreatedAt: s.db.Now()}
	if err := tx.Create(&it).Error; err != nil {
		return CustodyEvent{}, err
	}
	ev := CustodyEvent{ItemID: it.ID, Seq: 1, Step: "receive", ToKind: PartyVolunteer, ToID: p.VolunteerID, At: s.db.Now(),
		Method: h.Method, Carrier: h.Carrier, TrackingNumber: h.Tracking, SealNumber: h.Seal, Condition: h.Condition, ActorID: actor.UserID}
	return ev, s.appendEvent(ctx, tx, it, &ev)
}

// Release hands the item on from its holder (staff use; a volunteer's
// release is their dispatch step, or the return of a cancelled purchase's item).
func (s *Service) Release(ctx context.Context, actor authz.Actor, itemID int64, h Handover) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var it Item
		if err := tx.Take(&it, itemID).Error; err != nil {
			return database.NotFound(err)
		}
		ev, err := s.releaseTx(ctx, tx, actor, it, h)
		if err != nil {
			return err
		}
		p, ref, err := purchaseOf(tx, it)
		if err != nil {
			return err
		}
		return s.afterRelease(ctx, tx, actor, p, it, ev, ref)
	})
}

func (s *Service) releaseTx(ctx context.Context, tx *gorm.DB, actor authz.Actor, it Item, h Handover) (CustodyEvent, error) {
	if !actsFor(actor, it.HolderKind, it.HolderID) {
		return CustodyEvent{}, ErrNotHolder
	}
	if it.PendingKind != nil {
		return CustodyEvent{}, ErrInTransit
	}
	if h.ToKind == PartyBrand {
		var err error
		if h.ToID, err = caseBrand(tx, it.CaseID); err != nil {
			return CustodyEvent{}, err
		}
		// A cancelled purchase's item is not the brand's: it goes back to
		// staff (ReturnToStaff), never to the brand.
		var status string
		if err := scalar(tx, &status, "SELECT status FROM purchases WHERE id = ?", it.PurchaseID); err != nil {
			return CustodyEvent{}, err
		}
		if Status(status) == Cancelled {
			return CustodyEvent{}, valid.Errors{"to": "error.custody_cancelled_not_brand"}
		}
	}
	switch {
	case h.ToKind != PartyStaff && h.ToKind != PartyBrand && h.ToKind != PartyPolice:
		return CustodyEvent{}, valid.Errors{"to": "error.required"}
	case h.ToKind == it.HolderKind && h.ToID == it.HolderID:
		return CustodyEvent{}, valid.Errors{"to": "error.custody_same_holder"}
	case h.Method != MethodHand && h.Method != MethodCourier:
		return CustodyEvent{}, valid.Errors{"method": "error.required"}
	case h.Method == MethodCourier && (strings.TrimSpace(h.Carrier) == "" || strings.TrimSpace(h.Tracking) == ""):
		return CustodyEvent{}, valid.Errors{"tracking": "error.custody_tracking_required"}
	}
	from := it.HolderID
	ev := CustodyEvent{ItemID: it.ID, Seq: it.CustodySeq + 1, Step: "release", FromKind: it.HolderKind, FromID: &from,
		ToKind: h.ToKind, ToID: h.ToID, At: s.db.Now(), Place: strings.TrimSpace(h.Place), Method: h.Method,
		Carrier: strings.TrimSpace(h.Carrier), TrackingNumber: strings.TrimSpace(h.Tracking), SealNumber: strings.TrimSpace(h.Seal),
		Condition: strings.TrimSpace(h.Condition), ActorID: actor.UserID}
	return ev, s.appendEvent(ctx, tx, it, &ev)
}

// Acceptance is what the receiver records.
type Acceptance struct {
	SealIntact bool
	Condition  string
	Place      string
}

// Accept logs the item into the custody of the party it was released to.
func (s *Service) Accept(ctx context.Context, actor authz.Actor, itemID int64, a Acceptance, files []evidence.Upload) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var it Item
		if err := tx.Take(&it, itemID).Error; err != nil {
			return database.NotFound(err)
		}
		if it.PendingKind == nil || !actsFor(actor, *it.PendingKind, *it.PendingID) {
			return ErrNotHolder
		}
		if !a.SealIntact && strings.TrimSpace(a.Condition) == "" {
			return valid.Errors{"condition": "error.custody_condition_required"}
		}
		intact := a.SealIntact
		from := it.HolderID
		var last CustodyEvent
		if err := tx.Where("item_id = ? AND seq = ?", it.ID, it.CustodySeq).Take(&last).Error; err != nil {
			return err
		}
		ev := CustodyEvent{ItemID: it.ID, Seq: it.CustodySeq + 1, Step: "accept", FromKind: it.HolderKind, FromID: &from,
			ToKind: *it.PendingKind, ToID: *it.PendingID, At: s.db.Now(), Place: strings.TrimSpace(a.Place), Method: last.Method,
			Carrier: last.Carrier, TrackingNumber: last.TrackingNumber, SealNumber: last.SealNumber, SealIntact: &intact,
			Condition: strings.TrimSpace(a.Condition), ActorID: actor.UserID}
		if err := s.appendEvent(ctx, tx, it, &ev); err != nil {
			return err
		}
		p, ref, err := purchaseOf(tx, it)
		if err != nil {
			return err
		}
		if err := s.acceptedSteps(tx, p, it, ev); err != nil {
			return err
		}
		if len(files) == 0 {
			return nil
		}
		return s.recordFiles(ctx, tx, actor, p, ref, &ev.ID, files)
	})
}

// acceptedSteps: a brand that logs the item in has done its acceptance;
// an item logged in from the volunteer lets staff approve their
// reimbursement.
func (s *Service) acceptedSteps(tx *gorm.DB, p Purchase, it Item, ev CustodyEvent) error {
	if ev.ToKind == PartyBrand {
		if err := deadline.MeetTx(tx, deadline.Acceptance, it.ID); err != nil {
			return err
		}
	}
	if ev.FromKind == PartyVolunteer {
		return s.awaitApprovalTx(tx, p)
	}
	return nil
}

// purchaseOf loads the purchase an item was bought on and its case's reference.
func purchaseOf(tx *gorm.DB, it Item) (Purchase, string, error) {
	var p Purchase
	if err := tx.Take(&p, it.PurchaseID).Error; err != nil {
		return p, "", err
	}
	ref, err := caseRef(tx, it.CaseID)
	return p, ref, err
}

// appendEvent writes the next link and moves the item: the item row is
// updated only if no other link was added since it was read, so the chain
// has no gaps and no forks.
func (s *Service) appendEvent(ctx context.Context, tx *gorm.DB, it Item, ev *CustodyEvent) error {
	if ev.Seq != 1 {
		updates := map[string]any{"custody_seq": ev.Seq}
		switch ev.Step {
		case "release":
			updates["pending_kind"], updates["pending_id"] = ev.ToKind, ev.ToID
		case "accept":
			updates["holder_kind"], updates["holder_id"] = ev.ToKind, ev.ToID
			updates["pending_kind"], updates["pending_id"] = nil, nil
		}
		res := tx.Model(&Item{}).Where("id = ? AND custody_seq = ?", it.ID, it.CustodySeq).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrConflict
		}
	}
	if err := tx.Create(ev).Error; err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, audit.Record{Action: "custody." + ev.Step, ObjectType: "item", ObjectID: it.Number,
		Detail: map[string]any{"seq": ev.Seq, "from": ev.FromKind, "from_id": ev.FromID, "to": ev.ToKind, "to_id": ev.ToID,
			"method": ev.Method, "carrier": ev.Carrier, "tracking": ev.TrackingNumber, "seal": ev.SealNumber,
			"seal_intact": ev.SealIntact, "condition": ev.Condition, "place": ev.Place}})
	return err
}

func itemOf(tx *gorm.DB, purchaseID int64) (Item, error) {
	var it Item
	err := tx.Where("purchase_id = ?", purchaseID).Take(&it).Error
	return it, database.NotFound(err)
}

// Chain is an item with its custody events, oldest first.
type Chain struct {
	Item   Item
	Events []CustodyEvent
}

// Chains lists the items of a case with their chains (two queries,
// whatever the number of items).
func (s *Service) Chains(ctx context.Context, caseID int64) ([]Chain, error) {
	db := s.db.Gorm.WithContext(ctx)
	var items []Item
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&items).Error; err != nil || len(items) == 0 {
		return nil, err
	}
	ids := make([]int64, len(items))
	at := make(map[int64]int, len(items))
	out := make([]Chain, len(items))
	for i, it := range items {
		ids[i], at[it.ID], out[i].Item = it.ID, i, it
	}
	var events []CustodyEvent
	if err := db.Where("item_id IN ?", ids).Order("item_id, seq").Find(&events).Error; err != nil {
		return nil, err
	}
	for _, ev := range events {
		out[at[ev.ItemID]].Events = append(out[at[ev.ItemID]].Events, ev)
	}
	return out, nil
}

// Verify checks a chain's invariants: it starts with a receipt, links are
// numbered without gaps, every release comes from the holder of the time
// and is followed by the matching acceptance, and the item row names the
// holder the chain arrives at.
func (c Chain) Verify() error {
	var holderKind Party
	var holderID int64
	var pending *CustodyEvent
	for i, ev := range c.Events {
		if ev.Seq != i+1 {
			return fmt.Errorf("link %d numbered %d", i+1, ev.Seq)
		}
		switch {
		case i == 0:
			if ev.Step != "receive" {
				return fmt.Errorf("chain starts with %s", ev.Step)
			}
			holderKind, holderID = ev.ToKind, ev.ToID
		case ev.Step == "release":
			if pending != nil || ev.FromKind != holderKind || ev.FromID == nil || *ev.FromID != holderID {
				return fmt.Errorf("link %d: release not by the holder", ev.Seq)
			}
			pending = &c.Events[i]
		case ev.Step == "accept":
			if pending == nil || ev.ToKind != pending.ToKind || ev.ToID != pending.ToID {
				return fmt.Errorf("link %d: acceptance without a matching release", ev.Seq)
			}
			holderKind, holderID, pending = ev.ToKind, ev.ToID, nil
		default:
			return fmt.Errorf("link %d: %s", ev.Seq, ev.Step)
		}
	}
	if c.Item.HolderKind != holderKind || c.Item.HolderID != holderID || (pending == nil) != (c.Item.PendingKind == nil) {
		return fmt.Errorf("item %s says %s/%d, chain says %s/%d", c.Item.Number, c.Item.HolderKind, c.Item.HolderID, holderKind, holderID)
	}
	return nil
}

// Awaiting is an item a brand is to authenticate, as its queue shows it.
type Awaiting struct {
	Item
	CaseReference      string
	CaseState          string
	ShopName           string
	AuthenticationDays int
	SentAt             time.Time // released to the brand
}

// Due is when the brand's authentication is expected.
func (a Awaiting) Due() time.Time { return verdictDue(a.SentAt, a.AuthenticationDays) }

// verdictDue is the one rule of the brand's authentication days: they run
// from the item's sending.
func verdictDue(sentAt time.Time, days int) time.Time { return sentAt.AddDate(0, 0, days) }

// Queue lists the items on their way to, or held by, the actor's brands
// whose case is still with the brand (authenticating, or confirmed while
// the verdict may be superseded), oldest first.
func (s *Service) Queue(ctx context.Context, actor authz.Actor) ([]Awaiting, error) {
	if len(actor.BrandIDs) == 0 {
		return nil, nil
	}
	db := s.db.Gorm.WithContext(ctx)
	var rows []Awaiting
	err := db.Table("items i").
		Select("i.*, c.reference AS case_reference, c.state AS case_state, sh.name AS shop_name, b.authentication_days").
		Joins("JOIN cases c ON c.id = i.case_id").Joins("JOIN shops sh ON sh.id = c.shop_id").Joins("JOIN brands b ON b.id = c.brand_id").
		Where("c.brand_id IN ? AND c.state IN ('authenticating', 'confirmed')", actor.BrandIDs).
		Where("(i.pending_kind = 'brand' AND i.pending_id = c.brand_id) OR (i.holder_kind = 'brand' AND i.holder_id = c.brand_id)").
		Order("i.id").Limit(500).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return rows, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var sent []CustodyEvent
	if err := db.Where("item_id IN ? AND step = 'release' AND to_kind = ?", ids, PartyBrand).Order("seq").Find(&sent).Error; err != nil {
		return nil, err
	}
	for i := range rows {
		for _, ev := range sent {
			if ev.ItemID == rows[i].ID {
				rows[i].SentAt = ev.At // the last release to the brand
			}
		}
	}
	slices.SortStableFunc(rows, func(a, b Awaiting) int { return a.SentAt.Compare(b.SentAt) })
	return rows, nil
}

// ChainOf returns the chain of a purchase's item (ok false: no item yet).
func (s *Service) ChainOf(ctx context.Context, purchaseID int64) (Chain, bool, error) {
	db := s.db.Gorm.WithContext(ctx)
	it, err := itemOf(db, purchaseID)
	if errors.Is(err, database.ErrNotFound) {
		return Chain{}, false, nil
	}
	if err != nil {
		return Chain{}, false, err
	}
	c := Chain{Item: it}
	return c, true, db.Where("item_id = ?", it.ID).Order("seq").Find(&c.Events).Error
}

// GetItem loads an item.
func (s *Service) GetItem(ctx context.Context, id int64) (Item, error) {
	var it Item
	err := s.db.Gorm.WithContext(ctx).Take(&it, id).Error
	return it, database.NotFound(err)
}

// MayAccept reports whether actor acts for the party an item is on its
// way to (checked again, in the transaction, by Accept).
func MayAccept(actor authz.Actor, it Item) bool {
	return it.PendingKind != nil && actsFor(actor, *it.PendingKind, *it.PendingID)
}
