package bundle

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/brand"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/internal/shop"
	"spotcheck/internal/verdict"
)

// record is everything the bundle says about a case, read in one
// snapshot so that the summary, the file list, the audit events and the
// audit head agree with each other.
type record struct {
	Case      casework.Case
	Brand     brand.Brand
	Shop      shop.Shop
	Network   []shop.Shop             // the linked shops, the case's own shop left out
	Links     []shop.Link             // every link inside the network
	Related   map[int64][]relatedCase // other cases, by shop
	Listings  []shop.Listing          // the flagged listings of the case
	Purchases []purchase.Purchase
	Chains    []purchase.Chain
	Verdicts  []verdict.Verdict
	Referral  *enforcement.Referral
	Raids     []enforcement.Raid
	Evidence  []evidence.Evidence
	Timeline  []casework.Entry
	Audit     []audit.Event
	Head      AuditHead
	People    map[int64]string // user id → name; buyers by their pseudonym on the case only
	Roles     map[int64]string // user id → role, of everyone in People

	Kind        Kind
	Derivatives map[int64]map[evidence.Transform]evidence.Derivative // by file
	Pseudonyms  map[int64]string                                     // the case's buyers: volunteer id → pseudonym
}

// relatedCase is another case of a shop in the network.
type relatedCase struct {
	ID        int64
	Reference string
	ShopID    int64
	State     casework.State
	BrandName string
}

// CaseID finds a case by its reference, for the shell (which acts for no
// signed-in user: whoever runs it has the database). A web handler asks
// the policy about the case before calling Write.
func CaseID(ctx context.Context, db *database.DB, reference string) (int64, error) {
	var c casework.Case
	err := db.Gorm.WithContext(ctx).Select("id").Where("reference = ?", strings.ToUpper(strings.TrimSpace(reference))).Take(&c).Error
	return c.ID, database.NotFound(err)
}

// load reads the case in one read-only transaction; on PostgreSQL at
// repeatable read, so every query sees the same moment. SQLite's single
// connection gives the same.
func load(ctx context.Context, db *database.DB, caseID int64) (record, error) {
	var rec record
	var opts *sql.TxOptions
	if db.Dialect == database.Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	err := db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&rec.Case, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		for _, step := range []func(*gorm.DB, *record) error{loadParties, loadNetwork, loadPurchases, loadEnforcement, loadFiles, loadAudit, loadPeople} {
			if err := step(tx, &rec); err != nil {
				return err
			}
		}
		return nil
	}, opts)
	if err != nil {
		return record{}, fmt.Errorf("bundle of case %d: %w", caseID, err)
	}
	return rec, nil
}

func loadParties(tx *gorm.DB, rec *record) error {
	if err := tx.Take(&rec.Brand, rec.Case.BrandID).Error; err != nil {
		return err
	}
	if err := tx.Take(&rec.Shop, rec.Case.ShopID).Error; err != nil {
		return err
	}
	return tx.Where("id IN (SELECT listing_id FROM flags WHERE case_id = ?)", rec.Case.ID).Order("id").Find(&rec.Listings).Error
}

// loadNetwork reads the shops linked to the case's shop, directly or
// through others, the links between them and their other cases.
func loadNetwork(tx *gorm.DB, rec *record) error {
	ids, err := shop.Group(tx, rec.Shop.ID)
	if err != nil {
		return err
	}
	if len(ids) > 1 {
		if err := tx.Where("id IN ?", ids[1:]).Order("id").Find(&rec.Network).Error; err != nil {
			return err
		}
	}
	if err := tx.Where("shop_a_id IN ? AND shop_b_id IN ?", ids, ids).Order("id").Find(&rec.Links).Error; err != nil {
		return err
	}
	var rel []relatedCase
	err = tx.Table("cases c").Select("c.id, c.reference, c.shop_id, c.state, b.name AS brand_name").
		Joins("JOIN brands b ON b.id = c.brand_id").Where("c.shop_id IN ? AND c.id <> ?", ids, rec.Case.ID).
		Order("c.id").Scan(&rel).Error
	rec.Related = map[int64][]relatedCase{}
	for _, r := range rel {
		rec.Related[r.ShopID] = append(rec.Related[r.ShopID], r)
	}
	return err
}

func loadPurchases(tx *gorm.DB, rec *record) error {
	id := rec.Case.ID
	if err := tx.Where("case_id = ?", id).Order("id").Find(&rec.Purchases).Error; err != nil {
		return err
	}
	var items []purchase.Item
	if err := tx.Where("case_id = ?", id).Order("id").Find(&items).Error; err != nil {
		return err
	}
	for _, it := range items {
		c := purchase.Chain{Item: it}
		if err := tx.Where("item_id = ?", it.ID).Order("seq").Find(&c.Events).Error; err != nil {
			return err
		}
		rec.Chains = append(rec.Chains, c)
	}
	var err error
	rec.Verdicts, err = verdict.List(tx, id)
	return err
}

// loadEnforcement reads the police referral and its raids, if any.
func loadEnforcement(tx *gorm.DB, rec *record) (err error) {
	rec.Referral, rec.Raids, err = enforcement.Load(tx, rec.Case.ID)
	return err
}

func loadFiles(tx *gorm.DB, rec *record) error {
	if err := tx.Where("case_id = ?", rec.Case.ID).Order("id").Find(&rec.Evidence).Error; err != nil {
		return err
	}
	ids := make([]int64, len(rec.Evidence))
	for i, e := range rec.Evidence {
		ids[i] = e.ID
	}
	var err error
	if rec.Derivatives, err = evidence.Derivatives(tx.Statement.Context, tx, ids); err != nil {
		return err
	}
	return tx.Where("case_id = ?", rec.Case.ID).Order("id").Find(&rec.Timeline).Error
}

// loadAudit reads the audit events whose object is the case or one of its
// purchases, items, reimbursements or files — the names the use cases
// give them — and the head of the whole chain.
func loadAudit(tx *gorm.DB, rec *record) error {
	objects := map[string][]string{"case": {rec.Case.Reference}}
	for _, p := range rec.Purchases {
		objects["purchase"] = append(objects["purchase"], itoa(p.ID))
	}
	for _, c := range rec.Chains {
		objects["item"] = append(objects["item"], c.Item.Number)
	}
	for _, e := range rec.Evidence {
		objects["evidence"] = append(objects["evidence"], itoa(e.ID))
	}
	var reimbursements []int64
	if err := tx.Model(&purchase.Reimbursement{}).Where("purchase_id IN (SELECT id FROM purchases WHERE case_id = ?)", rec.Case.ID).
		Order("id").Pluck("id", &reimbursements).Error; err != nil {
		return err
	}
	for _, id := range reimbursements {
		objects["reimbursement"] = append(objects["reimbursement"], itoa(id))
	}
	q := tx.Where("object_type = ? AND object_id IN ?", "case", objects["case"])
	for _, kind := range []string{"purchase", "item", "evidence", "reimbursement"} {
		if len(objects[kind]) > 0 {
			q = q.Or("object_type = ? AND object_id IN ?", kind, objects[kind])
		}
	}
	if err := tx.Where(q).Order("seq").Find(&rec.Audit).Error; err != nil {
		return err
	}
	var head audit.Event
	if err := tx.Select("seq", "hash").Order("seq DESC").Limit(1).Find(&head).Error; err != nil {
		return err
	}
	rec.Head = AuditHead{ID: head.Seq, Hash: head.Hash}
	if head.Seq == 0 {
		rec.Head.Hash = audit.Genesis
	}
	return nil
}

// loadPeople names everyone the summary mentions. A volunteer is named by
// their pseudonym on this case only, as the brand sees them (not by the
// pseudonym of their profile, which would tie cases together): the bundle
// leaves the platform.
func loadPeople(tx *gorm.DB, rec *record) (err error) {
	if rec.Pseudonyms, err = purchase.CasePseudonyms(tx, rec.Case.ID); err != nil {
		return err
	}
	var ids []int64
	add := func(id *int64) {
		if id != nil && *id != 0 && !slices.Contains(ids, *id) {
			ids = append(ids, *id)
		}
	}
	add(rec.Case.InvestigatorID)
	for _, p := range rec.Purchases {
		add(&p.VolunteerID)
		add(&p.OrderedBy)
	}
	for _, c := range rec.Chains {
		for _, ev := range c.Events {
			add(&ev.ActorID)
			if ev.FromKind == purchase.PartyVolunteer {
				add(ev.FromID)
			}
			if ev.ToKind == purchase.PartyVolunteer {
				add(&ev.ToID)
			}
		}
	}
	for _, v := range rec.Verdicts {
		add(&v.SignedBy)
	}
	if rec.Referral != nil {
		add(&rec.Referral.CreatedBy)
	}
	for _, e := range rec.Evidence {
		add(&e.UploadedBy)
		add(e.WithdrawnBy)
	}
	for _, e := range rec.Timeline {
		add(e.ActorID)
	}
	rec.People, rec.Roles = map[int64]string{}, map[int64]string{}
	if len(ids) == 0 {
		return nil
	}
	var users []struct {
		ID   int64
		Name string
		Role string
	}
	err = tx.Table("users").Select("id, name, role").Where("id IN ?", ids).Scan(&users).Error
	for _, u := range users {
		rec.Roles[u.ID] = u.Role
		switch {
		case u.Role != role.Volunteer.String():
			rec.People[u.ID] = u.Name
		case rec.Pseudonyms[u.ID] != "":
			rec.People[u.ID] = rec.Pseudonyms[u.ID]
		default:
			rec.People[u.ID] = "Buyer" // bought nothing on this case: still no name
		}
	}
	return err
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
