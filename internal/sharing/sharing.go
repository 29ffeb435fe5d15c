// Package sharing decides what of a case leaves the staff side, and shapes
// it for the actor who asks: a brand user's view of a case (the items
// released to the brand, their brand-facing custody, derivatives of their
// photos, the verdicts), the brand's list of its cases, and which bytes of
// an evidence file an actor gets. Handlers render what it returns; they
// filter nothing.
package sharing

import (
	"context"
	"errors"
	"time"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"
)

// Service holds the sharing use cases.
type Service struct {
	db        *database.DB
	store     *evidence.Store
	purchases *purchase.Service
}

// NewService wires the use cases to the database, the evidence store and
// the purchases (custody chains).
func NewService(db *database.DB, store *evidence.Store, purchases *purchase.Service) *Service {
	return &Service{db: db, store: store, purchases: purchases}
}

// BrandCase is a case as a brand user may see it.
type BrandCase struct {
	Case      casework.Case
	BrandName string
	ShopName  string
	Platform  string
	Listings  []Listing
	Items     []BrandItem
	Files     []File // every file shared with the brand: the items' and the case's own
	Verdicts  []verdict.Verdict
	Current   *verdict.Verdict
	CanJudge  bool // an item is in the brand's hands and the case waits on its verdict
}

// Listing is a listing the case was flagged for.
type Listing struct{ Title, URL string }

// BrandItem is an item released to the brand.
type BrandItem struct {
	purchase.BrandChain
	CanAccept bool // on its way to the brand, and the actor acts for it
}

// File is an evidence file as a list shows it to the actor.
type File struct {
	ID          int64
	Kind        evidence.Kind
	Name        string // generated for everyone outside staff
	ContentType string
	UploadedAt  time.Time
	Thumbnail   bool // a thumbnail can be made of it
}

// BrandCase loads case ref for a brand user: not found unless the actor
// belongs to the case's brand and an item of the case was released to it.
func (s *Service) BrandCase(ctx context.Context, actor authz.Actor, ref string) (BrandCase, error) {
	db := s.db.Gorm.WithContext(ctx)
	var out BrandCase
	if err := db.Where("reference = ?", ref).Take(&out.Case).Error; err != nil {
		return out, database.NotFound(err)
	}
	cs := out.Case
	sub := cs.Subject()
	if actor.HasBrand(cs.BrandID) {
		reached, err := purchase.ReachedBrandTx(db, cs.ID)
		if err != nil {
			return out, err
		}
		sub.Shared = reached
	}
	if !authz.Can(actor, authz.ViewBrandCase, sub) {
		return BrandCase{}, database.ErrNotFound
	}
	var head struct{ BrandName, ShopName, Platform string }
	if err := db.Raw(`SELECT b.name AS brand_name, sh.name AS shop_name, sh.platform FROM cases c
		JOIN brands b ON b.id = c.brand_id JOIN shops sh ON sh.id = c.shop_id WHERE c.id = ?`, cs.ID).Scan(&head).Error; err != nil {
		return out, err
	}
	out.BrandName, out.ShopName, out.Platform = head.BrandName, head.ShopName, head.Platform
	if err := db.Raw(`SELECT DISTINCT l.title, l.url FROM flags f JOIN listings l ON l.id = f.listing_id
		WHERE f.case_id = ? ORDER BY l.title, l.url`, cs.ID).Scan(&out.Listings).Error; err != nil {
		return out, err
	}
	chains, err := s.purchases.BrandChains(ctx, cs.ID, out.BrandName)
	if err != nil {
		return out, err
	}
	waiting := cs.State == casework.Authenticating || cs.State == casework.Confirmed
	for _, ch := range chains {
		out.Items = append(out.Items, BrandItem{BrandChain: ch, CanAccept: purchase.MayAccept(actor, ch.Item)})
		held := ch.Item.HolderKind == purchase.PartyBrand && ch.Item.PendingKind == nil
		out.CanJudge = out.CanJudge || (held && waiting)
	}
	if out.Files, err = s.brandFiles(ctx, cs.ID); err != nil {
		return out, err
	}
	if out.Verdicts, err = verdict.List(db, cs.ID); err != nil {
		return out, err
	}
	out.Current = verdict.Current(out.Verdicts)
	return out, nil
}

// brandFiles lists the files of case caseID shared with its brand, with
// the names the brand knows them by.
func (s *Service) brandFiles(ctx context.Context, caseID int64) ([]File, error) {
	rows, err := sharedFiles(s.db.Gorm.WithContext(ctx), caseID, 0)
	if err != nil {
		return nil, err
	}
	out := make([]File, 0, len(rows))
	for _, r := range rows {
		if !r.outsiderMay() {
			continue
		}
		out = append(out, File{ID: r.ID, Kind: r.Kind, Name: r.name(), ContentType: r.outsiderType(), UploadedAt: r.UploadedAt,
			Thumbnail: evidence.Derivable(r.ContentType)})
	}
	return out, nil
}

// ErrNotShared: the file is not the actor's to have in this form.
var ErrNotShared = errors.New("the file is not shared with you")
