package purchase

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// What of an item its case's brand may see. An item is shared with the
// brand from the moment its holder released it towards the brand, and
// from then on only: another purchase's item on the same case, bought and
// perhaps cancelled, stays the platform's.

// releasedToBrand is the one definition of "the item has reached the
// brand", as SQL over an item aliased i.
const releasedToBrand = `EXISTS (SELECT 1 FROM custody_events ce JOIN cases cb ON cb.id = i.case_id
	WHERE ce.item_id = i.id AND ce.step = 'release' AND ce.to_kind = 'brand' AND ce.to_id = cb.brand_id)`

// SharedItemsSQL selects the ids of the items of case ? released to its
// brand, for other areas' queries (evidence sharing, the brand's lists).
const SharedItemsSQL = `SELECT i.id FROM items i WHERE i.case_id = ? AND ` + releasedToBrand

// SharedPurchasesSQL selects the ids of the purchases of case ? whose item
// was released to the brand.
const SharedPurchasesSQL = `SELECT i.purchase_id FROM items i WHERE i.case_id = ? AND ` + releasedToBrand

// CaseReachedBrandSQL is the same rule for a case aliased c: some item of
// it was released to its brand.
const CaseReachedBrandSQL = `EXISTS (SELECT 1 FROM items i WHERE i.case_id = c.id AND ` + releasedToBrand + `)`

// ReachedBrand reports whether an item of the case was released to the
// case's brand: from then on the brand's users see the case.
func (s *Service) ReachedBrand(ctx context.Context, caseID int64) (bool, error) {
	return ReachedBrandTx(s.db.Gorm.WithContext(ctx), caseID)
}

// ReachedBrandTx is ReachedBrand inside the caller's transaction.
func ReachedBrandTx(db *gorm.DB, caseID int64) (bool, error) {
	var n int64
	err := db.Raw("SELECT COUNT(*) FROM ("+SharedItemsSQL+") s", caseID).Scan(&n).Error
	return n > 0, err
}

// Line is one line of an item's custody as a brand sees it: parties by
// kind and, for buyers and brands, by name (the buyer's pseudonym on the
// case); no tracking numbers, no places a buyer gave, no people.
type Line struct {
	Step       string // bought and receive (the buyer's leg, summarised), then release and accept
	FromKind   Party
	From       string
	ToKind     Party
	To         string
	At         time.Time
	Method     string
	Carrier    string
	Seal       string
	SealIntact *bool
	Condition  string
	Place      string
}

// BrandChain is an item released to the brand, with the custody the brand
// may see.
type BrandChain struct {
	Item  Item
	Lines []Line
}

// BrandChains lists the items of a case that were released to its brand,
// each with its brand-facing custody: the buyer's leg only as "bought" and
// "receive" with their dates (no carrier, tracking, seal or place), then
// every link from the release towards the brand on, without tracking
// numbers and without the places a buyer typed. brandName names the brand.
func (s *Service) BrandChains(ctx context.Context, caseID int64, brandName string) ([]BrandChain, error) {
	db := s.db.Gorm.WithContext(ctx)
	var items []Item
	if err := db.Raw("SELECT i.* FROM items i WHERE i.case_id = ? AND "+releasedToBrand+" ORDER BY i.id", caseID).Scan(&items).Error; err != nil || len(items) == 0 {
		return nil, err
	}
	ids := make([]int64, len(items))
	purchases := make([]int64, len(items))
	for i, it := range items {
		ids[i], purchases[i] = it.ID, it.PurchaseID
	}
	var events []CustodyEvent
	if err := db.Where("item_id IN ?", ids).Order("item_id, seq").Find(&events).Error; err != nil {
		return nil, err
	}
	var bought []struct {
		ID          int64
		VolunteerID int64
		OrderDate   *time.Time
	}
	if err := db.Model(&Purchase{}).Select("id, volunteer_id, order_date").Where("id IN ?", purchases).Scan(&bought).Error; err != nil {
		return nil, err
	}
	pseudonyms, err := CasePseudonyms(db, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]BrandChain, len(items))
	name := func(kind Party, id int64) string {
		switch kind {
		case PartyVolunteer:
			return pseudonyms[id]
		case PartyBrand:
			return brandName
		}
		return ""
	}
	for n, it := range items {
		out[n].Item = it
		var buyer string
		var ordered *time.Time
		for _, b := range bought {
			if b.ID == it.PurchaseID {
				buyer, ordered = pseudonyms[b.VolunteerID], b.OrderDate
			}
		}
		var mine []CustodyEvent
		for _, ev := range events {
			if ev.ItemID == it.ID {
				mine = append(mine, ev)
			}
		}
		out[n].Lines = OutsideLines(mine, ordered, buyer, name, ReleasedToBrand)
	}
	return out, nil
}

// ReleasedToBrand: the custody event hands the item towards a brand. A
// brand's view of a chain starts there.
func ReleasedToBrand(ev CustodyEvent) bool { return ev.Step == "release" && ev.ToKind == PartyBrand }

// OutsideLines shapes one item's custody events (in order) for eyes
// outside staff — a brand, or the papers that leave the platform: the
// buyer's leg only as "bought" (on orderDate, if known) and "receive" with
// its date, by the buyer's pseudonym on the case (no carrier, tracking,
// seal or place); then every link from the first event from(ev) accepts,
// without tracking numbers and without a place where a buyer is one of the
// parties (a buyer's place says where they live). name names a party.
func OutsideLines(events []CustodyEvent, orderDate *time.Time, buyer string, name func(Party, int64) string,
	from func(CustodyEvent) bool) []Line {
	var out []Line
	if orderDate != nil {
		out = append(out, Line{Step: "bought", ToKind: PartyVolunteer, To: buyer, At: *orderDate})
	}
	shown := false
	for _, ev := range events {
		if ev.Step == "receive" {
			out = append(out, Line{Step: "receive", ToKind: PartyVolunteer, To: buyer, At: ev.At})
			continue
		}
		shown = shown || from(ev)
		if !shown {
			continue
		}
		var fromID int64
		if ev.FromID != nil {
			fromID = *ev.FromID
		}
		l := Line{Step: ev.Step, FromKind: ev.FromKind, From: name(ev.FromKind, fromID), ToKind: ev.ToKind, To: name(ev.ToKind, ev.ToID),
			At: ev.At, Method: ev.Method, Carrier: ev.Carrier, Seal: ev.SealNumber, SealIntact: ev.SealIntact, Condition: ev.Condition}
		if ev.FromKind != PartyVolunteer && ev.ToKind != PartyVolunteer {
			l.Place = ev.Place
		}
		out = append(out, l)
	}
	return out
}
