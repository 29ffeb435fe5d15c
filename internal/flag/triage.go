package flag

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
)

// InboxFilter narrows the triage inbox; the zero value shows everything.
type InboxFilter struct {
	BrandID  int64
	Source   string
	MinScore *float64
	MaxScore *float64
	From     *time.Time // detected at or after
	To       *time.Time // detected before
	After    string     // cursor of the last row seen
	Limit    int
}

// InboxRow is one unattached flag as the inbox shows it.
type InboxRow struct {
	ID           int64
	Source       string
	ExternalID   string
	Rule         string
	Score        float64
	DetectedAt   time.Time
	BrandID      int64
	BrandName    string
	ShopID       int64
	ShopName     string
	Platform     string
	ListingTitle string
	ListingURL   string
	RepeatOf     string // the reference of the earlier case that makes it a repeat offender's
}

// Inbox lists open flags, highest score first, a page at a time (keyset:
// no OFFSET). The next cursor is empty on the last page.
func (s *Service) Inbox(ctx context.Context, f InboxFilter) ([]InboxRow, string, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := s.db.Gorm.WithContext(ctx).Table("flags f").
		Select(`f.id, f.source, f.external_id, f.rule, f.score, f.detected_at, f.brand_id, b.name AS brand_name,
			f.shop_id, s.name AS shop_name, s.platform, COALESCE(l.title, '') AS listing_title, COALESCE(l.url, '') AS listing_url,
			COALESCE(rc.reference, '') AS repeat_of`).
		Joins("LEFT JOIN cases rc ON rc.id = f.repeat_of_case_id").
		Joins("JOIN brands b ON b.id = f.brand_id").
		Joins("JOIN shops s ON s.id = f.shop_id").
		Joins("LEFT JOIN listings l ON l.id = f.listing_id").
		Where("f.status = 'open'")
	if f.BrandID != 0 {
		q = q.Where("f.brand_id = ?", f.BrandID)
	}
	if f.Source != "" {
		q = q.Where("f.source = ?", f.Source)
	}
	if f.MinScore != nil {
		q = q.Where("f.score >= ?", *f.MinScore)
	}
	if f.MaxScore != nil {
		q = q.Where("f.score <= ?", *f.MaxScore)
	}
	if f.From != nil {
		q = q.Where("f.detected_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("f.detected_at < ?", *f.To)
	}
	if f.After != "" {
		score, id, err := decodeCursor(f.After)
		if err != nil {
			return nil, "", valid.Errors{"after": "error.cursor_invalid"}
		}
		q = q.Where("(f.score < ? OR (f.score = ? AND f.id < ?))", score, score, id)
	}
	var rows []InboxRow
	if err := q.Order("f.score DESC, f.id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[len(rows)-1]
		next = encodeCursor(last.Score, last.ID)
	}
	return rows, next, nil
}

func encodeCursor(score float64, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatFloat(score, 'g', -1, 64) + "|" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (float64, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, err
	}
	a, b2, ok := strings.Cut(string(b), "|")
	if !ok {
		return 0, 0, errors.New("bad cursor")
	}
	score, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return 0, 0, err
	}
	id, err := strconv.ParseInt(b2, 10, 64)
	return score, id, err
}

// Sources lists the flag sources seen, for the inbox filter.
func (s *Service) Sources(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.Gorm.WithContext(ctx).Table("flags").Distinct("source").Order("source").Limit(200).Pluck("source", &out).Error
	return out, err
}

// ErrNotOpen: a selected flag was already triaged by someone else.
var ErrNotOpen = errors.New("a selected flag is no longer in the inbox")

// loadOpen locks in the selected flags, all of which must still be open.
func loadOpen(tx *gorm.DB, ids []int64) ([]Flag, error) {
	if len(ids) == 0 {
		return nil, valid.Errors{"flags": "error.select_flags"}
	}
	if len(ids) > 1000 {
		return nil, valid.Errors{"flags": "error.too_many_selected"}
	}
	var fs []Flag
	if err := tx.Where("id IN ?", ids).Find(&fs).Error; err != nil {
		return nil, err
	}
	if len(fs) != len(dedupe(ids)) {
		return nil, ErrNotOpen // gone, or never there: not in the inbox either way
	}
	for _, f := range fs {
		if f.Status != "open" {
			return nil, ErrNotOpen
		}
	}
	return fs, nil
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// claim moves flags out of the inbox only if they are still open, so that
// two people triaging the same flags cannot both succeed.
func claim(tx *gorm.DB, ids []int64, updates map[string]any) error {
	res := tx.Table("flags").Where("id IN ? AND status = 'open'", ids).Updates(updates)
	if res.Error != nil {
		return res.Error
	}
	if int(res.RowsAffected) != len(ids) {
		return ErrNotOpen
	}
	return nil
}

// OpenCases opens cases from selected flags: one per shop and brand among
// them, or the flags join that pair's open case if there is one. It
// returns the cases the flags ended up in.
func (s *Service) OpenCases(ctx context.Context, actor authz.Actor, ids []int64) ([]casework.Case, error) {
	if !authz.Can(actor, authz.TriageFlags, authz.Subject{}) {
		return nil, casework.ErrNotAllowed
	}
	ids = dedupe(ids)
	var out []casework.Case
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		fs, err := loadOpen(tx, ids)
		if err != nil {
			return err
		}
		rows, err := s.rowsFor(tx, fs)
		if err != nil {
			return err
		}
		g, err := groupIntoCases(tx, actor, rows, s.db.Now(), func(float64) bool { return true },
			func(n int, _ float64) string { return fmt.Sprintf("opened from %d flag(s) in the inbox", n) })
		if err != nil {
			return err
		}
		if err := attachFlags(tx, g.attachments(rows)); err != nil {
			return err
		}
		out = g.cases
		refs := make([]string, len(out))
		for i, c := range out {
			refs[i] = c.Reference
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "flags.open_case", ObjectType: "flags", ObjectID: joinIDs(ids),
			Detail: map[string]any{"cases": refs, "opened": g.opened}})
		return err
	})
	return out, err
}

// Attach puts selected flags into an existing open case. Each flag must be
// of the case's brand and of its shop or a shop linked to it.
func (s *Service) Attach(ctx context.Context, actor authz.Actor, ids []int64, caseRef string) (casework.Case, error) {
	if !authz.Can(actor, authz.TriageFlags, authz.Subject{}) {
		return casework.Case{}, casework.ErrNotAllowed
	}
	ids = dedupe(ids)
	var c casework.Case
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("reference = ?", strings.ToUpper(strings.TrimSpace(caseRef))).Take(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return valid.Errors{"case": "error.case_unknown"}
			}
			return err
		}
		if !c.State.Open() {
			return valid.Errors{"case": "error.case_closed"}
		}
		fs, err := loadOpen(tx, ids)
		if err != nil {
			return err
		}
		group, err := shop.Group(tx, c.ShopID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.BrandID != c.BrandID {
				return valid.Errors{"case": "error.attach_other_brand"}
			}
			if !containsID(group, f.ShopID) {
				return valid.Errors{"case": "error.attach_unlinked_shop"}
			}
		}
		rows, err := s.rowsFor(tx, fs)
		if err != nil {
			return err
		}
		if err := claim(tx, ids, map[string]any{"status": "attached", "case_id": c.ID}); err != nil {
			return err
		}
		g := casework.Growth{CaseID: c.ID, Flags: len(rows), RiskScore: bestScore(rows, c.RiskScore), SearchText: searchText(c.SearchText, rows)}
		if err := casework.GrowTx(tx, actor, []casework.Growth{g}, s.db.Now()); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "flags.attach", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"flags": ids}})
		return err
	})
	return c, err
}

// Dismiss takes selected flags out of the inbox with a reason.
func (s *Service) Dismiss(ctx context.Context, actor authz.Actor, ids []int64, reason string) error {
	if !authz.Can(actor, authz.TriageFlags, authz.Subject{}) {
		return casework.ErrNotAllowed
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return valid.Errors{"reason": "error.reason_required"}
	}
	if len(reason) > 2000 {
		return valid.Errors{"reason": "error.too_long"}
	}
	ids = dedupe(ids)
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		if _, err := loadOpen(tx, ids); err != nil {
			return err
		}
		if err := claim(tx, ids, map[string]any{"status": "dismissed", "dismiss_reason": reason}); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "flags.dismiss", ObjectType: "flags", ObjectID: joinIDs(ids),
			Detail: map[string]any{"reason": reason, "count": len(ids)}})
		return err
	})
}

// rowsFor gathers what grouping needs for stored flags.
func (s *Service) rowsFor(tx *gorm.DB, fs []Flag) ([]flagRow, error) {
	ids := make([]int64, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	var rows []struct {
		ID      int64
		ShopID  int64
		BrandID int64
		Score   float64
		Title   string
		Shop    string
	}
	err := tx.Table("flags f").Select("f.id, f.shop_id, f.brand_id, f.score, COALESCE(l.title, '') AS title, s.name AS shop").
		Joins("JOIN shops s ON s.id = f.shop_id").Joins("LEFT JOIN listings l ON l.id = f.listing_id").
		Where("f.id IN ?", ids).Order("f.id").Find(&rows).Error
	out := make([]flagRow, len(rows))
	for i, r := range rows {
		out[i] = flagRow{id: r.ID, shopID: r.ShopID, brandID: r.BrandID, score: r.Score, title: r.Title, shop: r.Shop}
	}
	return out, err
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func joinIDs(ids []int64) string {
	parts := make([]string, 0, min(len(ids), 20))
	for i, id := range ids {
		if i == 20 {
			parts = append(parts, fmt.Sprintf("…+%d", len(ids)-20))
			break
		}
		parts = append(parts, strconv.FormatInt(id, 10))
	}
	return strings.Join(parts, ",")
}

// ForCase lists the flags of a case, newest first.
func (s *Service) ForCase(ctx context.Context, caseID int64) ([]InboxRow, error) {
	return s.listWhere(ctx, "f.case_id = ?", caseID)
}

// ForShops lists the flags of some shops, newest first.
func (s *Service) ForShops(ctx context.Context, shopIDs []int64) ([]InboxRow, error) {
	return s.listWhere(ctx, "f.shop_id IN ?", shopIDs)
}

func (s *Service) listWhere(ctx context.Context, where string, arg any) ([]InboxRow, error) {
	var rows []InboxRow
	err := s.db.Gorm.WithContext(ctx).Table("flags f").
		Select(`f.id, f.source, f.external_id, f.rule, f.score, f.detected_at, f.brand_id, b.name AS brand_name,
			f.shop_id, s.name AS shop_name, s.platform, COALESCE(l.title, '') AS listing_title, COALESCE(l.url, '') AS listing_url,
			COALESCE(rc.reference, '') AS repeat_of`).
		Joins("LEFT JOIN cases rc ON rc.id = f.repeat_of_case_id").
		Joins("JOIN brands b ON b.id = f.brand_id").Joins("JOIN shops s ON s.id = f.shop_id").
		Joins("LEFT JOIN listings l ON l.id = f.listing_id").
		Where(where, arg).Order("f.detected_at DESC, f.id DESC").Limit(500).Find(&rows).Error
	return rows, err
}
