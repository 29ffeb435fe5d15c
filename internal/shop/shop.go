// Package shop keeps the platform shops under suspicion, their listings,
// and the links between shops run by the same people.
package shop

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
	"spotcheck/internal/valid"
)

// Shop is one seller's shop on a platform.
type Shop struct {
	ID              int64
	Platform        string
	PlatformShopID  string
	Name            string
	RegisteredOwner string
	ClusterID       *int64 // the seller network it is in; nil without links
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Listing is one item offered by a shop.
type Listing struct {
	ID                int64
	ShopID            int64
	PlatformListingID string
	URL               string
	Title             string
	PriceMinor        *int64
	Currency          string
	BrandID           *int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// LinkKind says why two shops are thought to be run together.
type LinkKind string

const (
	SameController    LinkKind = "same_controller"
	SamePhone         LinkKind = "same_phone"
	SameAddress       LinkKind = "same_address"
	SamePayoutAccount LinkKind = "same_payout_account"
	OtherLink         LinkKind = "other"
)

// LinkKinds lists every kind.
var LinkKinds = []LinkKind{SameController, SamePhone, SameAddress, SamePayoutAccount, OtherLink}

// Link joins two shops; it is stored once with the smaller id first.
type Link struct {
	ID        int64
	ShopAID   int64
	ShopBID   int64
	Kind      LinkKind
	Note      string
	CreatedBy *int64
	CreatedAt time.Time
}

func (Link) TableName() string { return "shop_links" }

// Other returns the shop at the other end of the link from id.
func (l Link) Other(id int64) int64 {
	if l.ShopAID == id {
		return l.ShopBID
	}
	return l.ShopAID
}

// Service holds the shop use cases.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

// Get loads a shop.
func (s *Service) Get(ctx context.Context, id int64) (Shop, error) {
	var sh Shop
	err := s.db.Gorm.WithContext(ctx).Take(&sh, id).Error
	return sh, database.NotFound(err)
}

// View is the shop as the actor may see it; to anyone who may not view
// shops it is not found.
func (s *Service) View(ctx context.Context, actor authz.Actor, id int64) (Shop, error) {
	if !authz.Can(actor, authz.ViewShop, authz.Subject{Kind: "shop"}) {
		return Shop{}, database.ErrNotFound
	}
	return s.Get(ctx, id)
}

// Shops loads several shops by id.
func (s *Service) Shops(ctx context.Context, ids []int64) (map[int64]Shop, error) {
	var shops []Shop
	if len(ids) == 0 {
		return map[int64]Shop{}, nil
	}
	if err := s.db.Gorm.WithContext(ctx).Where("id IN ?", ids).Find(&shops).Error; err != nil {
		return nil, err
	}
	m := make(map[int64]Shop, len(shops))
	for _, sh := range shops {
		m[sh.ID] = sh
	}
	return m, nil
}

// Links lists the direct links of a shop.
func (s *Service) Links(ctx context.Context, id int64) ([]Link, error) {
	var ls []Link
	err := s.db.Gorm.WithContext(ctx).Where("shop_a_id = ? OR shop_b_id = ?", id, id).Order("id").Find(&ls).Error
	return ls, err
}

// Group returns the ids of every shop reachable from id through links
// (the shop itself first): the seller's whole network, its cluster.
func (s *Service) Group(ctx context.Context, id int64) ([]int64, error) {
	return Group(s.db.Gorm.WithContext(ctx), id)
}

// Group is Service.Group inside a transaction or any query scope: the
// shops of id's cluster, read through shops_cluster_idx.
func Group(db *gorm.DB, id int64) ([]int64, error) {
	c, err := clusterOf(db, id)
	if err != nil {
		return nil, database.NotFound(err)
	}
	if c == 0 {
		return []int64{id}, nil
	}
	var ids []int64
	if err := db.Raw("SELECT id FROM shops WHERE cluster_id = ? AND id <> ? ORDER BY id", c, id).Scan(&ids).Error; err != nil {
		return nil, err
	}
	return append([]int64{id}, ids...), nil
}

// ErrSelfLink is returned when a shop is linked to itself.
var ErrSelfLink = errors.New("a shop cannot be linked to itself")

// AddLink records that two shops are run together.
func (s *Service) AddLink(ctx context.Context, actorID, a, b int64, kind, note string) (Link, error) {
	var l Link
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		var err error
		l, err = AddLinkTx(ctx, tx, actorID, a, b, kind, note)
		return err
	})
	return l, err
}

// AddLinkTx is AddLink inside the caller's transaction.
func AddLinkTx(ctx context.Context, tx *gorm.DB, actorID, a, b int64, kind, note string) (Link, error) {
	k := LinkKind(kind)
	errs := valid.Errors{}
	if !slices.Contains(LinkKinds, k) {
		errs.Add("kind", "error.link_kind")
	}
	if a == b {
		errs.Add("shop", "error.link_self")
	}
	if len(note) > 2000 {
		errs.Add("note", "error.too_long")
	}
	if err := errs.Err(); err != nil {
		return Link{}, err
	}
	if a > b {
		a, b = b, a
	}
	l := Link{ShopAID: a, ShopBID: b, Kind: k, Note: strings.TrimSpace(note), CreatedAt: database.Now(tx)}
	if actorID != 0 {
		l.CreatedBy = &actorID
	}
	var n int64
	if err := tx.Table("shops").Where("id IN ?", []int64{a, b}).Count(&n).Error; err != nil {
		return Link{}, err
	}
	if n != 2 {
		return Link{}, valid.Errors{"shop": "error.shop_unknown"}
	}
	if err := tx.Create(&l).Error; database.IsUniqueViolation(err) {
		return Link{}, valid.Errors{"shop": "error.link_exists"}
	} else if err != nil {
		return Link{}, err
	}
	if err := joinTx(tx, a, b); err != nil {
		return Link{}, err
	}
	_, err := audit.Append(ctx, tx, audit.Record{Action: "shop.link", ObjectType: "shop", ObjectID: a,
		Detail: map[string]any{"link_id": l.ID, "shop_a": a, "shop_b": b, "kind": string(k), "note": l.Note}})
	return l, err
}

// RemoveLink deletes a link between shops; shopID must be one of its ends.
func (s *Service) RemoveLink(ctx context.Context, shopID, linkID int64) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var l Link
		if err := tx.Where("id = ? AND (shop_a_id = ? OR shop_b_id = ?)", linkID, shopID, shopID).Take(&l).Error; err != nil {
			return database.NotFound(err)
		}
		if err := tx.Delete(&l).Error; err != nil {
			return err
		}
		if err := splitTx(tx, l.ShopAID, l.ShopBID); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "shop.unlink", ObjectType: "shop", ObjectID: shopID,
			Detail: map[string]any{"link_id": l.ID, "shop_a": l.ShopAID, "shop_b": l.ShopBID, "kind": string(l.Kind)}})
		return err
	})
}

// FindByPlatformID finds a shop by its platform and platform id.
func (s *Service) FindByPlatformID(ctx context.Context, platform, id string) (Shop, error) {
	var sh Shop
	err := s.db.Gorm.WithContext(ctx).Where("platform = ? AND platform_shop_id = ?", platform, id).Take(&sh).Error
	return sh, database.NotFound(err)
}
