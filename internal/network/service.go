package network

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
)

// Service holds the seller-network use cases.
type Service struct {
	db *database.DB
}

// NewService returns the seller-network use cases.
func NewService(db *database.DB) *Service { return &Service{db: db} }

// Evidence is one pair of matching identifiers behind a suggestion, as
// staff see it: masked, with the day both were known.
type Evidence struct {
	Kind           Kind
	MaskedA        string
	MaskedB        string
	Since          time.Time
	KindA, KindB   Kind
	IdentifierAID  int64
	IdentifierBID  int64
	SuggestionID   int64
	FirstA, FirstB time.Time
}

// Open is a suggestion waiting on staff, from one shop's side: the other
// shop and the evidence.
type Open struct {
	Suggestion
	OtherID  int64
	Evidence []Evidence
}

// Since is when the two shops were first known to share an identifier.
func (o Open) Since() time.Time {
	var t time.Time
	for _, e := range o.Evidence {
		if t.IsZero() || e.Since.Before(t) {
			t = e.Since
		}
	}
	return t
}

// Kinds are the kinds of identifier the shops share, in Kinds order.
func (o Open) Kinds() []Kind {
	var out []Kind
	for _, k := range Kinds {
		for _, e := range o.Evidence {
			if e.Kind == k && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Identifiers lists a shop's identifiers, masked, for staff.
func (s *Service) Identifiers(ctx context.Context, actor authz.Actor, shopID int64) ([]Row, error) {
	if !authz.Can(actor, authz.ViewShop, authz.Subject{Kind: "shop"}) {
		return nil, database.ErrNotFound
	}
	var rows []Row
	err := s.db.Gorm.WithContext(ctx).Where("shop_id = ?", shopID).Order("kind, first_seen, id").Find(&rows).Error
	return rows, err
}

// Suggested lists the suggestions waiting on staff that involve a shop,
// newest evidence first.
func (s *Service) Suggested(ctx context.Context, actor authz.Actor, shopID int64) ([]Open, error) {
	if !authz.Can(actor, authz.LinkShops, authz.Subject{Kind: "shop"}) {
		return nil, nil
	}
	db := s.db.Gorm.WithContext(ctx)
	var sugs []Suggestion
	if err := db.Where("(shop_a_id = ? OR shop_b_id = ?) AND status = 'suggested'", shopID, shopID).
		Order("updated_at DESC, id DESC").Limit(200).Find(&sugs).Error; err != nil {
		return nil, err
	}
	out := make([]Open, len(sugs))
	ids := make([]int64, len(sugs))
	at := map[int64]*Open{}
	for i, sg := range sugs {
		other := sg.ShopBID
		if other == shopID {
			other = sg.ShopAID
		}
		out[i] = Open{Suggestion: sg, OtherID: other}
		ids[i] = sg.ID
		at[sg.ID] = &out[i]
	}
	ev, err := evidenceOf(db, ids)
	if err != nil {
		return nil, err
	}
	for _, e := range ev {
		at[e.SuggestionID].Evidence = append(at[e.SuggestionID].Evidence, e)
	}
	return out, nil
}

func evidenceOf(db *gorm.DB, suggestionIDs []int64) ([]Evidence, error) {
	if len(suggestionIDs) == 0 {
		return nil, nil
	}
	var ev []Evidence
	err := db.Raw(`SELECT e.suggestion_id, e.identifier_a_id, e.identifier_b_id, a.kind AS kind_a, b.kind AS kind_b,
			a.masked AS masked_a, b.masked AS masked_b, a.first_seen AS first_a, b.first_seen AS first_b
		FROM link_evidence e JOIN shop_identifiers a ON a.id = e.identifier_a_id JOIN shop_identifiers b ON b.id = e.identifier_b_id
		WHERE e.suggestion_id IN ? ORDER BY e.suggestion_id, a.kind, e.identifier_a_id, e.identifier_b_id`, suggestionIDs).Scan(&ev).Error
	for i := range ev {
		ev[i].Kind = ev[i].KindA
		ev[i].Since = ev[i].FirstA
		if ev[i].FirstB.After(ev[i].Since) { // shared from when the second had it
			ev[i].Since = ev[i].FirstB
		}
	}
	return ev, err
}

// linkKind is the shop link a confirmed suggestion becomes, from the
// strongest evidence it has.
func linkKind(ev []Evidence) shop.LinkKind {
	has := func(ks ...Kind) bool {
		for _, e := range ev {
			if slices.Contains(ks, e.KindA) {
				return true
			}
		}
		return false
	}
	switch {
	case has(IDDocument):
		return shop.SameController
	case has(PayoutAccount):
		return shop.SamePayoutAccount
	case has(Phone):
		return shop.SamePhone
	case has(ReturnAddress, WarehouseAddress):
		return shop.SameAddress
	}
	return shop.OtherLink
}

// ErrDecided is returned when a suggestion was decided meanwhile.
var ErrDecided = errors.New("network: the suggestion was decided meanwhile")

// Decide confirms a suggestion that involves shopID — it becomes a shop
// link of the kind its strongest evidence says, unless the shops are
// linked so already — or rejects it; either with a note, audited, in one
// transaction.
func (s *Service) Decide(ctx context.Context, actor authz.Actor, shopID, suggestionID int64, confirm bool, note string) error {
	if !authz.Can(actor, authz.LinkShops, authz.Subject{Kind: "shop"}) {
		return database.ErrNotFound
	}
	note = strings.TrimSpace(note)
	switch {
	case note == "":
		return valid.Errors{"note": "error.reason_required"}
	case len(note) > 2000:
		return valid.Errors{"note": "error.too_long"}
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var sg Suggestion
		if err := tx.Where("id = ? AND (shop_a_id = ? OR shop_b_id = ?)", suggestionID, shopID, shopID).Take(&sg).Error; err != nil {
			return database.NotFound(err)
		}
		if sg.Status != "suggested" {
			return ErrDecided
		}
		ev, err := evidenceOf(tx, []int64{sg.ID})
		if err != nil {
			return err
		}
		status, action := "rejected", "shop.suggestion_reject"
		detail := map[string]any{"suggestion_id": sg.ID, "shop_a": sg.ShopAID, "shop_b": sg.ShopBID, "evidence": len(ev), "note": note}
		if confirm {
			status, action = "confirmed", "shop.suggestion_confirm"
			kind := linkKind(ev)
			var n int64
			if err := tx.Table("shop_links").Where("shop_a_id = ? AND shop_b_id = ? AND kind = ?", sg.ShopAID, sg.ShopBID, kind).
				Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				l, err := shop.AddLinkTx(ctx, tx, actor.UserID, sg.ShopAID, sg.ShopBID, string(kind), note)
				if err != nil {
					return err
				}
				detail["link_id"] = l.ID
			}
			detail["kind"] = string(kind)
		}
		now := database.Now(tx)
		res := tx.Model(&Suggestion{}).Where("id = ? AND status = 'suggested'", sg.ID).
			Updates(map[string]any{"status": status, "note": note, "decided_by": actor.UserID, "decided_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrDecided
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: action, ObjectType: "shop", ObjectID: shopID, Detail: detail})
		return err
	})
}

// Tie is an identifier some shops of a network share, masked.
type Tie struct {
	Kind   Kind
	Masked string
	Shops  int
}

// Ties are the identifiers two or more of the shops share (image hashes,
// which match by distance, show in the suggestions' evidence instead).
func (s *Service) Ties(ctx context.Context, actor authz.Actor, shopIDs []int64) ([]Tie, error) {
	if !authz.Can(actor, authz.ViewShop, authz.Subject{Kind: "shop"}) || len(shopIDs) == 0 {
		return nil, nil
	}
	var out []Tie
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT min(kind) AS kind, min(masked) AS masked, count(DISTINCT shop_id) AS shops
		FROM shop_identifiers WHERE shop_id IN ? AND kind <> 'image_hash'
		GROUP BY digest HAVING count(DISTINCT shop_id) > 1 ORDER BY shops DESC, kind, masked LIMIT 200`, shopIDs).Scan(&out).Error
	return out, err
}
