package flag

import (
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/network"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
)

// Flag is one stored signal.
type Flag struct {
	ID             int64
	Source         string
	ExternalID     string
	Rule           string
	Score          float64
	ShopID         int64
	ListingID      *int64
	BrandID        int64
	DetectedAt     time.Time
	Payload        string
	CaseID         *int64
	RepeatOfCaseID *int64 // the earlier case that makes this a repeat offender's flag
	Status         string // open, attached, dismissed
	DismissReason  string
	ReceivedAt     time.Time
}

// Result is the answer to one ingestion: the API's response body.
type Result struct {
	Received     int         `json:"received"`
	Created      int         `json:"created"`
	Duplicates   int         `json:"duplicates"`
	Rejected     []Rejection `json:"rejected"`
	CasesOpened  int         `json:"cases_opened"`
	CasesUpdated int         `json:"cases_updated"`
	// LinksSuggested counts the links between shops suggested to staff,
	// new or with new evidence, because the flags' shops share identifiers.
	LinksSuggested int `json:"links_suggested"`
	// RepeatOffenders counts the new flags whose shop shares identifiers
	// with one already found selling fakes; each opened or joined a case.
	RepeatOffenders int `json:"repeat_offenders"`
}

// Service holds the flag use cases.
type Service struct {
	db        *database.DB
	threshold float64
	key       network.Key      // hashes shop identifiers; nil: none are taken
	matching  network.Matching // how they match
	queue     notify.Inserter  // tells staff of repeat offenders; nil: nobody
}

// UseIdentifiers lets flags carry shop identifiers, hashed with key, and
// tells staff through q when one marks a repeat offender.
func (s *Service) UseIdentifiers(key network.Key, m network.Matching, q notify.Inserter) {
	s.key, s.matching, s.queue = key, m, q
}

// NewService: flags scoring at least autoOpen open a case by themselves.
func NewService(db *database.DB, autoOpen float64) *Service {
	return &Service{db: db, threshold: autoOpen}
}

// chunk bounds the rows of one multi-row statement (SQLite allows 32766
// parameters, PostgreSQL 65535).
const chunk = 1000

// channel is how a batch of flags reached Spotcheck.
type channel struct {
	via string // the flags.ingest event's object id: "token:7", "import:3", "brand"
	// updatesKnown: the batch may rename or re-own a known shop and change
	// a known listing. Only the platform's own data (the risk systems' API,
	// staff CSV imports) is trusted with that; anyone else's report adds a
	// flag, and a shop or listing not known yet, and changes nothing else.
	updatesKnown bool
}

// brandReports is the channel of brand users' reports.
var brandReports = channel{via: "brand"}

// Ingest validates recs (rejections already found while decoding are
// passed in), stores the new flags with their shops and listings, and
// groups them into cases: a flag joins the open case of its shop and
// brand; without one, a flag scoring at least the threshold opens a case.
// Resent flags (same source and external id) change nothing. All of it is
// one transaction; hook, when given, runs inside it last.
//
// Ingest is for the platform's own data (via names the token or import):
// its flags also bring known shops and listings up to date.
func (s *Service) Ingest(ctx context.Context, actor authz.Actor, via string, recs []Record, pre []Rejection,
	hook func(tx *gorm.DB, res Result) error) (Result, error) {
	return s.ingest(ctx, actor, channel{via: via, updatesKnown: true}, recs, pre, hook)
}

func (s *Service) ingest(ctx context.Context, actor authz.Actor, ch channel, recs []Record, pre []Rejection,
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
	now := s.db.Now()
	ok := make([]checked, 0, len(recs))
	memo := identifierMemo{}
	seen := make(map[[2]string]bool, len(recs))
	for i, r := range recs {
		if rejected[i] {
			continue
		}
		c, rej := check(i, r, brands, s.key, memo, now)
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
		var g grouping
		var changes []change
		if res.Created, res.LinksSuggested, g, changes, err = s.store(tx, actor, ch, fresh, now); err != nil {
			return err
		}
		for _, c := range changes {
			if _, err := audit.Append(ctx, tx, c.record()); err != nil {
				return err
			}
		}
		res.Duplicates += len(fresh) - res.Created
		res.CasesOpened, res.CasesUpdated, res.RepeatOffenders = g.opened, g.grown, g.repeat
		// A request that stores nothing (all duplicates or rejected) wrote
		// nothing, so it leaves no audit event either: a resend changes nothing.
		if res.Created == 0 {
			if hook != nil {
				return hook(tx, res)
			}
			return nil
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "flags.ingest", ObjectType: "flags", ObjectID: ch.via,
			Detail: map[string]any{"received": res.Received, "created": res.Created, "duplicates": res.Duplicates,
				"rejected": len(res.Rejected), "cases_opened": res.CasesOpened, "cases_updated": res.CasesUpdated,
				"links_suggested": res.LinksSuggested, "repeat_offenders": res.RepeatOffenders}}); err != nil {
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
	if database.IsPostgres(tx) {
		var err error
		if known, err = pgDropKnown(tx, cs); err != nil {
			return nil, err
		}
		if len(known) == 0 {
			return cs, nil
		}
		cs2 := make([]checked, 0, max(len(cs)-len(known), 0))
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
	out := make([]checked, 0, len(cs))
	for _, c := range cs {
		if !known[[2]string{c.rec.Source, c.rec.ExternalID}] {
			out = append(out, c)
		}
	}
	return out, nil
}

// flagRow is a flag with what grouping needs.
type flagRow struct {
	id      int64 // 0 for a flag not stored yet
	shopID  int64
	brandID int64
	score   float64
	title   string
	shop    string
	repeat  bool // a repeat offender's: it opens a case whatever its score
}

// store upserts the shops and listings of cs, opens or grows their cases
// and inserts the flags into them, returning how many flags it inserted
// and where they went.
//
// The flags are inserted last, with their case, so that each is written
// once. A concurrent request may store some of the same flags, or open a
// case for the same shop and brand, first: then the cases are rolled back
// to a savepoint and done again.
func (s *Service) store(tx *gorm.DB, actor authz.Actor, ch channel, cs []checked, now time.Time) (int, int, grouping, []change, error) {
	if len(cs) == 0 {
		return 0, 0, grouping{}, nil, nil
	}
	shopIDs, changes, err := upsertShops(tx, cs, ch.updatesKnown, now)
	if err != nil {
		return 0, 0, grouping{}, nil, err
	}
	listingIDs, listingChanges, err := upsertListings(tx, cs, shopIDs, ch.updatesKnown, now)
	if err != nil {
		return 0, 0, grouping{}, nil, err
	}
	changes = append(changes, listingChanges...)
	recorded, err := s.recordIdentifiers(tx, cs, shopIDs, now)
	if err != nil {
		return 0, 0, grouping{}, nil, err
	}
	suggested := recorded.Suggested
	if err := markRepeats(tx, cs, recorded.Holders); err != nil {
		return 0, 0, grouping{}, nil, err
	}
	for attempt := 1; len(cs) > 0; attempt++ {
		if err := tx.SavePoint("flags").Error; err != nil {
			return 0, 0, grouping{}, nil, err
		}
		n, g, err := s.place(tx, actor, cs, shopIDs, listingIDs, now)
		switch {
		case err == nil && n == len(cs):
			perBrand := map[int64]int64{}
			for _, c := range cs {
				perBrand[c.brandID]++
			}
			ds := make([]stats.Delta, 0, len(perBrand))
			for b, k := range perBrand {
				ds = append(ds, stats.Delta{Metric: stats.FlagsReceived, BrandID: b, N: k})
			}
			return n, suggested, g, changes, stats.AddTx(tx, now, ds...)
		case err != nil && !errors.Is(err, casework.ErrOpenCaseExists):
			return 0, 0, g, nil, err
		case attempt == 5:
			return 0, 0, g, nil, fmt.Errorf("store flags: concurrent requests conflicted %d times", attempt)
		}
		// A concurrent request stored some of the flags, or opened one of
		// the cases, first: do it again in the light of that.
		if err := tx.RollbackTo("flags").Error; err != nil {
			return 0, 0, g, nil, err
		}
		if cs, err = dropKnown(tx, cs); err != nil {
			return 0, 0, g, nil, err
		}
	}
	return 0, 0, grouping{}, changes, nil
}

// place groups cs into cases and inserts them.
func (s *Service) place(tx *gorm.DB, actor authz.Actor, cs []checked, shopIDs map[shopKeyT]int64,
	listingIDs map[listingKey]int64, now time.Time) (int, grouping, error) {
	rows := make([]flagRow, len(cs))
	for i, c := range cs {
		rows[i] = flagRow{shopID: shopIDs[shopKey(c.rec.Shop)], brandID: c.brandID, score: c.score, shop: c.rec.Shop.Name, repeat: c.repeatOf != 0}
		if c.rec.Listing != nil {
			rows[i].title = c.rec.Listing.Title
		}
	}
	g, err := s.group(tx, actor, rows, now)
	if err != nil {
		return 0, g, err
	}
	n, err := insertFlags(tx, cs, shopIDs, listingIDs, g.caseOf, now)
	if err != nil || n != len(cs) {
		return n, g, err
	}
	for _, c := range cs {
		if c.repeatOf != 0 {
			g.repeat++
		}
	}
	return n, g, s.repeatCases(tx, cs, shopIDs, g, now)
}

// insertFlags inserts the flags of cs, in their case if they have one,
// and returns how many it inserted (a flag stored meanwhile by a
// concurrent request is left out).
func insertFlags(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, listingIDs map[listingKey]int64,
	caseOf map[[2]int64]int64, now time.Time) (int, error) {
	if database.IsPostgres(tx) {
		return pgInsertFlags(tx, cs, shopIDs, listingIDs, caseOf, now)
	}
	n := 0
	for start := 0; start < len(cs); start += chunk {
		part := cs[start:min(start+chunk, len(cs))]
		args := make([]any, 0, 12*len(part))
		for _, c := range part {
			f := newFlag(c, shopIDs, listingIDs, caseOf)
			args = append(args, f.Source, f.ExternalID, f.Rule, f.Score, f.ShopID, f.ListingID, f.BrandID,
				f.DetectedAt, f.Payload, f.CaseID, f.Status, now, f.RepeatOfCaseID)
		}
		res := tx.Exec(`INSERT INTO flags (source, external_id, rule, score, shop_id, listing_id, brand_id, detected_at, payload, case_id, status, received_at, repeat_of_case_id)
			VALUES `+placeholders(len(part), 13, nil)+`
			ON CONFLICT (source, external_id) DO NOTHING`, args...)
		if res.Error != nil {
			return 0, fmt.Errorf("insert flags: %w", res.Error)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// newFlag is the row of c: in the inbox, or attached to its case.
func newFlag(c checked, shopIDs map[shopKeyT]int64, listingIDs map[listingKey]int64, caseOf map[[2]int64]int64) Flag {
	f := Flag{Source: c.rec.Source, ExternalID: c.rec.ExternalID, Rule: c.rec.Rule, Score: c.score,
		ShopID: shopIDs[shopKey(c.rec.Shop)], BrandID: c.brandID, DetectedAt: c.detectedAt, Payload: string(c.rec.raw), Status: "open"}
	if c.rec.Listing != nil {
		id := listingIDs[listingKey{f.ShopID, c.rec.Listing.ID}]
		f.ListingID = &id
	}
	if len(c.ids) > 0 {
		f.Payload = maskedPayload(c)
	} else if f.Payload == "" {
		b, _ := json.Marshal(c.rec)
		f.Payload = string(b)
	}
	if id, ok := caseOf[[2]int64{f.ShopID, f.BrandID}]; ok {
		f.CaseID, f.Status = &id, "attached"
	}
	if c.repeatOf != 0 {
		f.RepeatOfCaseID = &c.repeatOf
	}
	return f
}

// group finds the open case of each shop and brand of new flags, and
// opens cases for the pairs without one whose best new flag reaches the
// threshold.
func (s *Service) group(tx *gorm.DB, actor authz.Actor, flags []flagRow, now time.Time) (grouping, error) {
	return groupIntoCases(tx, actor, flags, now, func(best float64) bool { return best >= s.threshold },
		func(n int, best float64) string { return fmt.Sprintf("%d flag(s), best score %.2f", n, best) })
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
	if database.IsPostgres(tx) {
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

// recordIdentifiers keeps the identifiers the new flags' shops carry and
// suggests the links they reveal (network.Matching.RecordTx).
func (s *Service) recordIdentifiers(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, now time.Time) (network.Recorded, error) {
	var shops map[int64][]network.Identifier
	for _, c := range cs {
		if len(c.ids) == 0 {
			continue
		}
		if shops == nil {
			shops = map[int64][]network.Identifier{}
		}
		id := shopIDs[shopKey(c.rec.Shop)]
		shops[id] = append(shops[id], c.ids...)
	}
	if shops == nil {
		return network.Recorded{}, nil
	}
	return s.matching.RecordTx(tx, now, shops)
}

// markRepeats finds the flags whose shop shares an identifier with a shop
// already found selling fakes (network.PenalisedTx, over the holders
// RecordTx found) and names the earlier case on them.
func markRepeats(tx *gorm.DB, cs []checked, holders map[string][]int64) error {
	if len(holders) == 0 {
		return nil
	}
	earlier, err := network.PenalisedTx(tx, holders)
	if err != nil || len(earlier) == 0 {
		return err
	}
	for i := range cs {
		for _, id := range cs[i].ids {
			if e, ok := earlier[hex.EncodeToString(id.Digest)]; ok && (cs[i].repeatOf == 0 || e < cs[i].repeatOf) {
				cs[i].repeatOf = e
			}
		}
	}
	return nil
}

// repeatCases marks the cases repeat offenders' flags opened or joined
// and tells the earlier cases' staff and the admins.
func (s *Service) repeatCases(tx *gorm.DB, cs []checked, shopIDs map[shopKeyT]int64, g grouping, now time.Time) error {
	earlier := map[int64]int64{} // case → the earlier case
	for _, c := range cs {
		if c.repeatOf == 0 {
			continue
		}
		if id, ok := g.caseOf[[2]int64{shopIDs[shopKey(c.rec.Shop)], c.brandID}]; ok && id != c.repeatOf {
			earlier[id] = c.repeatOf
		}
	}
	if err := casework.MarkRepeatTx(tx, earlier, now); err != nil || s.queue == nil {
		return err
	}
	var admins []int64
	if err := tx.Raw(`SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id`).Scan(&admins).Error; err != nil {
		return err
	}
	ids := slices.Sorted(maps.Keys(earlier))
	refs, err := casework.References(tx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		staff, err := notify.CaseStaffTx(tx, earlier[id])
		if err != nil {
			return err
		}
		ref := refs[id]
		if err := s.queue.InsertTx(tx.Statement.Context, tx, notify.Args{Event: notify.RepeatOffender, Subject: ref, Link: "/cases/" + ref,
			UserIDs: append(staff, admins...)}); err != nil {
			return err
		}
	}
	return nil
}
