package flag

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
)

// Flag is one stored signal.
type Flag struct {
	ID            int64
	Source        string
	ExternalID    string
	Rule          string
	Score         float64
	ShopID        int64
	ListingID     *int64
	BrandID       int64
	DetectedAt    time.Time
	Payload       string
	CaseID        *int64
	Status        string // open, attached, dismissed
	DismissReason string
	ReceivedAt    time.Time
}

// Result is the answer to one ingestion: the API's response body.
type Result struct {
	Received     int         `json:"received"`
	Created      int         `json:"created"`
	Duplicates   int         `json:"duplicates"`
	Rejected     []Rejection `json:"rejected"`
	CasesOpened  int         `json:"cases_opened"`
	CasesUpdated int         `json:"cases_updated"`
}

// Service holds the flag use cases.
type Service struct {
	db        *database.DB
	threshold float64
}

// NewService: flags scoring at least autoOpen open a case by themselves.
func NewService(db *database.DB, autoOpen float64) *Service {
	return &Service{db: db, threshold: autoOpen}
}

// chunk bounds the rows of one multi-row statement (SQLite allows 32766
// parameters, PostgreSQL 65535).
const chunk = 1000

// Ingest validates recs (rejections already found while decoding are
// passed in), stores the new flags with their shops and listings, and
// groups them into cases: a flag joins the open case of its shop and
// brand; without one, a flag scoring at least the threshold opens a case.
// Resent flags (same source and external id) change nothing. All of it is
// one transaction; hook, when given, runs inside it last.
func (s *Service) Ingest(ctx context.Context, actor authz.Actor, via string, recs []Record, pre []Rejection,
	hook func(tx *gorm.DB, res Result) error) (Result, error) {
	res := Result{Received: len(recs), Rejected: append([]Rejection{}, pre...)}
	rejected := map[int]bool{}
	for _, r := range pre {
		rejected[r.Index] = true
	}
	brands, err := s.brandIDs(ctx)
	if err != nil {
		return res, err
	}
	now := time.Now().UTC()
	var ok []checked
	seen := map[[2]string]bool{}
	for i, r := range recs {
		if rejected[i] {
			continue
		}
		c, rej := check(i, r, brands, now)
		if rej != nil {
			res.Rejected = append(res.Rejected, *rej)
			continue
		}
		key := [2]string{c.rec.Source, c.rec.ExternalID}
		if seen[key] { // the same flag twice in one request
			res.Duplicates++
			continue
		}
		seen[key] = true
		ok = append(ok, c)
	}
	sort.Slice(res.Rejected, func(i, j int) bool { return res.Rejected[i].Index < res.Rejected[j].Index })

	// Flags are inserted in key order, like shops and listings, so that
	// concurrent requests take their locks in the same order.
	slices.SortFunc(ok, func(a, b checked) int {
		return cmp.Or(cmp.Compare(a.rec.Source, b.rec.Source), cmp.Compare(a.rec.ExternalID, b.rec.ExternalID))
	})
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		fresh, err := dropKnown(tx, ok)
		if err != nil {
			return err
		}
		res.Duplicates += len(ok) - len(fresh)
		ids, err := s.store(tx, fresh, now)
		if err != nil {
			return err
		}
		res.Created = len(ids)
		res.Duplicates += len(fresh) - len(ids)
		if res.CasesOpened, res.CasesUpdated, err = s.group(tx, actor, ids, now); err != nil {
			return err
		}
		// A request that stores nothing (all duplicates or rejected) wrote
		// nothing, so it leaves no audit event either: a resend changes nothing.
		if res.Created == 0 {
			if hook != nil {
				return hook(tx, res)
			}
			return nil
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "flags.ingest", ObjectType: "flags", ObjectID: via,
			Detail: map[string]any{"received": res.Received, "created": res.Created, "duplicates": res.Duplicates,
				"rejected": len(res.Rejected), "cases_opened": res.CasesOpened, "cases_updated": res.CasesUpdated}}); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, res)
		}
		return nil
	})
	return res, err
}

func (s *Service) brandIDs(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		ID   int64
		Name string
	}
	if err := s.db.Gorm.WithContext(ctx).Table("brands").Select("id, name").Find(&rows).Error; err != nil {
		return nil, err
	}
	m := make(map[string]int64, len(rows))
	for _, r := range rows {
		m[strings.ToLower(r.Name)] = r.ID
	}
	return m, nil
}

// dropKnown leaves out flags already stored, so that a resend writes
// nothing at all (not even a shop's updated_at).
func dropKnown(tx *gorm.DB, cs []checked) ([]checked, error) {
	known := map[[2]string]bool{}
	if isPostgres(tx) {
		var err error
		if known, err = pgDropKnown(tx, cs); err != nil {
			return nil, err
		}
		cs2 := cs[:0:0]
		for _, c := range cs {
			if !known[[2]string{c.rec.Source, c.rec.ExternalID}] {
				cs2 = append(cs2, c)
			}
		}
		return cs2, nil
	}
	for start := 0; start < len(cs); start += chunk {
		part := cs[start:min(start+chunk, len(cs))]
		args := make([]any, 0, 2*len(part))
		for _, c := range part {
			args = append(args, c.rec.Source, c.rec.ExternalID)
		}
		var rows []struct{ Source, ExternalID string }
		err := tx.Raw("SELECT source, external_id FROM flags WHERE (source, external_id) IN ("+
			valuesList(len(part), "CAST(? AS text)", "CAST(? AS text)")+")", args...).Find(&rows).Error
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			known[[2]string{r.Source, r.ExternalID}] = true
		}
	}
	out := cs[:0:0]
	for _, c := range cs {
		if !known[[2]string{c.rec.Source, c.rec.ExternalID}] {
			out = append(out, c)
		}
	}
	return out, nil
}

// flagRow is a stored flag with what grouping needs.
type flagRow struct {
	id      int64
	shopID  int64
	brandID int64
	score   float64
	title   string
	shop    string
}

// store upserts the shops and listings of cs and inserts the flags,
// returning those actually inserted (a concurrent request may have won).
func (s *Service) store(tx *gorm.DB, cs []checked, now time.Time) ([]flagRow, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	shopIDs, err := upsertShops(tx, cs, now)
	if err != nil {
		return nil, err
	}
	listingIDs, err := upsertListings(tx, cs, shopIDs, now)
	if err != nil {
		return nil, err
	}
	var out []flagRow
	if isPostgres(tx) {
		byKey, err := pgInsertFlags(tx, cs, shopIDs, listingIDs, now)
		if err != nil {
			return nil, err
		}
		return appendInserted(out, cs, byKey, shopIDs), nil
	}
	for start := 0; start < len(cs); start += chunk {
		part := cs[start:min(start+chunk, len(cs))]
		args := make([]any, 0, 11*len(part))
		for _, c := range part {
			sk := shopKey(c.rec.Shop)
			var lid *int64
			if c.rec.Listing != nil {
				id := listingIDs[listingKey{shopIDs[sk], c.rec.Listing.ID}]
				lid = &id
			}
			payload := string(c.rec.raw)
			if payload == "" {
				b, _ := json.Marshal(c.rec)
				payload = string(b)
			}
			args = append(args, c.rec.Source, c.rec.ExternalID, c.rec.Rule, c.score, shopIDs[sk], lid, c.brandID,
				c.detectedAt, payload, "open", now)
		}
		var rows []struct {
			ID         int64
			Source     string
			ExternalID string
		}
		err := tx.Raw(`INSERT INTO flags (source, external_id, rule, score, shop_id, listing_id, brand_id, detected_at, payload, status, received_at)
			VALUES `+placeholders(len(part), 11, nil)+`
			ON CONFLICT (source, external_id) DO NOTHING RETURNING id, source, external_id`, args...).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("insert flags: %w", err)
		}
		byKey := make(map[[2]string]int64, len(rows))
		for _, r := range rows {
			byKey[[2]string{r.Source, r.ExternalID}] = r.ID
		}
		out = appendInserted(out, part, byKey, shopIDs)
	}
	return out, nil
}

// appendInserted adds the flags of cs that were inserted (found in byKey)
// to out, with what grouping needs.
func appendInserted(out []flagRow, cs []checked, byKey map[[2]string]int64, shopIDs map[shopKeyT]int64) []flagRow {
	for _, c := range cs {
		id, ok := byKey[[2]string{c.rec.Source, c.rec.ExternalID}]
		if !ok {
			continue
		}
		fr := flagRow{id: id, shopID: shopIDs[shopKey(c.rec.Shop)], brandID: c.brandID, score: c.score, shop: c.rec.Shop.Name}
		if c.rec.Listing != nil {
			fr.title = c.rec.Listing.Title
		}
		out = append(out, fr)
	}
	return out
}

// group attaches new flags to the open case of their shop and brand, and
// opens cases for the pairs without one whose best new flag reaches the
// threshold.
func (s *Service) group(tx *gorm.DB, actor authz.Actor, flags []flagRow, now time.Time) (opened, updated int, err error) {
	g, err := groupIntoCases(tx, actor, flags, now, func(best float64) bool { return best >= s.threshold },
		func(n int, best float64) string { return fmt.Sprintf("%d flag(s), best score %.2f", n, best) })
	return g.opened, g.grown, err
}

// searchText adds the shop name and listing titles of fs to the case's
// search text, once each, within a bound.
func searchText(current string, fs []flagRow) string {
	out := current
	for _, f := range fs {
		for _, s := range []string{f.shop, f.title} {
			s = strings.ToLower(strings.TrimSpace(s))
			if s != "" && !strings.Contains(out, s) && len(out)+len(s) < 4000 {
				out = strings.TrimSpace(out + " " + s)
			}
		}
	}
	return out
}

// attachFlags puts flags into cases (pairs of flag id, case id), but only
// flags still in the inbox: if any was triaged meanwhile, ErrNotOpen.
func attachFlags(tx *gorm.DB, pairs [][2]int64) error {
	if isPostgres(tx) {
		return pgAttachFlags(tx, pairs)
	}
	var n int64
	for start := 0; start < len(pairs); start += chunk {
		part := pairs[start:min(start+chunk, len(pairs))]
		args := make([]any, 0, 2*len(part))
		for _, p := range part {
			args = append(args, p[0], p[1])
		}
		res := tx.Exec(`UPDATE flags SET case_id = v.column2, status = 'attached' FROM (`+
			valuesList(len(part), "CAST(? AS bigint)", "CAST(? AS bigint)")+`) AS v WHERE flags.id = v.column1 AND flags.status = 'open'`, args...)
		if res.Error != nil {
			return fmt.Errorf("attach flags: %w", res.Error)
		}
		n += res.RowsAffected
	}
	if n != int64(len(pairs)) {
		return ErrNotOpen
	}
	return nil
}
