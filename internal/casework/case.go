package casework

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/role"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// Case is one suspect shop and brand on the road.
type Case struct {
	ID                  int64
	Reference           string
	ShopID              int64
	BrandID             int64
	State               State
	CloseReason         CloseReason
	Priority            int
	RepeatOffender      bool // a flag of a shop tied to one found selling fakes before opened or joined it
	RiskScore           float64
	InvestigatorID      *int64
	EstimatedValueMinor int64
	SearchText          string
	Version             int
	OpenedAt            time.Time
	UpdatedAt           time.Time
	ClosedAt            *time.Time
	StateSince          time.Time // when it entered its state
}

// Subject describes the case to the policy.
func (c Case) Subject() authz.Subject { return authz.Subject{Kind: "case", BrandID: c.BrandID} }

// Entry is one line of a case's timeline.
type Entry struct {
	ID        int64
	CaseID    int64
	At        time.Time
	ActorID   *int64
	Kind      string // transition, comment, assignment, flag
	Event     string
	FromState string
	ToState   string
	Note      string
}

func (Entry) TableName() string { return "case_events" }

var (
	// ErrConflict: someone changed the case since this actor loaded it.
	ErrConflict = errors.New("the case was changed by someone else")
	// ErrNotAllowed: the transition does not exist from this state, or the
	// policy refuses it to this actor.
	ErrNotAllowed = errors.New("this action is not possible on the case now")
)

// Service holds the case use cases.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

// Get loads a case the actor may see; any other case is not found.
func (s *Service) Get(ctx context.Context, actor authz.Actor, id int64) (Case, error) {
	var c Case
	if err := s.db.Gorm.WithContext(ctx).Take(&c, id).Error; err != nil {
		return Case{}, database.NotFound(err)
	}
	if !authz.Can(actor, authz.ViewCase, c.Subject()) {
		return Case{}, database.ErrNotFound
	}
	return c, nil
}

// Fire moves case id along the table with the plain transition endpoint:
// rows fired through their own use case (Via) are refused here.
func (s *Service) Fire(ctx context.Context, actor authz.Actor, id int64, version int, ev Event, note string) (Case, error) {
	if slices.ContainsFunc(Table, func(t Transition) bool { return t.Event == ev && t.Via != "" }) {
		return Case{}, ErrNotAllowed
	}
	var out Case
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		var err error
		out, err = FireTx(ctx, tx, actor, Firing{CaseID: id, Version: version, Event: ev, Note: note})
		return err
	})
	return out, err
}

// Firing is one event fired at one case.
type Firing struct {
	CaseID  int64
	Version int // the version the actor saw
	Event   Event
	Note    string
	// Owner is the volunteer whose purchase the event concerns (0: none),
	// so that a volunteer may fire what the policy allows them on their own.
	Owner int64
	// Shared: the caller has checked that the case's item has reached the
	// brand, so the brand's users may act on it.
	Shared bool
}

// FireTx is the one way a case moves, inside the caller's transaction:
// it checks the policy and the guard, writes the new state only if the
// case is still at the version seen, adds the timeline entry and the audit
// event, and keeps the per-state counts current. A use case that fires a
// Via row checks that row's own guard in the same transaction first.
func FireTx(ctx context.Context, tx *gorm.DB, actor authz.Actor, f Firing) (Case, error) {
	id, version, ev, note := f.CaseID, f.Version, f.Event, strings.TrimSpace(f.Note)
	var c Case
	if err := tx.Take(&c, id).Error; err != nil {
		return Case{}, database.NotFound(err)
	}
	subject := c.Subject()
	subject.OwnerID, subject.Shared = f.Owner, f.Shared
	if !authz.Can(actor, authz.ViewCase, subject) && !authz.Can(actor, authz.ViewPurchase, subject) &&
		!authz.Can(actor, authz.ViewBrandCase, subject) {
		return Case{}, database.ErrNotFound
	}
	if c.Version != version {
		return Case{}, ErrConflict
	}
	t, ok := Lookup(c.State, ev)
	if !ok || !authz.Can(actor, t.Action, subject) {
		return Case{}, ErrNotAllowed
	}
	if err := guard(tx, t, c, note); err != nil {
		return Case{}, err
	}
	now := database.Now(tx)
	updates := map[string]any{"state": t.To, "close_reason": t.CloseReason, "version": gorm.Expr("version + 1"), "updated_at": now}
	if t.To == Closed {
		updates["closed_at"] = now
	} else {
		updates["closed_at"] = nil
	}
	if t.To != c.State {
		updates["state_since"] = now
	}
	res := tx.Model(&Case{}).Where("id = ? AND version = ?", id, version).Updates(updates)
	if database.IsUniqueViolation(res.Error) {
		return Case{}, valid.Errors{"event": "error.open_case_exists"}
	}
	if res.Error != nil {
		return Case{}, res.Error
	}
	if res.RowsAffected != 1 {
		return Case{}, ErrConflict
	}
	if err := moveCount(tx, c.BrandID, c.State, t.To, 1); err != nil {
		return Case{}, err
	}
	if err := stats.AddTx(tx, now, counted(c.BrandID, t)...); err != nil {
		return Case{}, err
	}
	if err := moveAge(tx, c, t.To, now); err != nil {
		return Case{}, err
	}
	if t.To == Closed {
		if err := deadline.CloseCaseTx(tx, id); err != nil {
			return Case{}, err
		}
	}
	if err := addEntry(tx, Entry{CaseID: id, At: now, ActorID: actorID(actor), Kind: "transition", Event: string(ev),
		FromState: string(c.State), ToState: string(t.To), Note: note}); err != nil {
		return Case{}, err
	}
	if _, err := audit.Append(ctx, tx, audit.Record{Action: "case." + string(ev), ObjectType: "case", ObjectID: c.Reference,
		Detail: map[string]any{"from": c.State, "to": t.To, "close_reason": t.CloseReason, "note": note, "version": version + 1}}); err != nil {
		return Case{}, err
	}
	var out Case
	return out, tx.Take(&out, id).Error
}

// counted is what a transition adds to the day's figures.
func counted(brandID int64, t Transition) []stats.Delta {
	var ms []stats.Metric
	switch t.Event {
	case VerdictCounterfeit:
		ms = []stats.Metric{stats.Verdicts, stats.Counterfeit}
	case VerdictGenuine, VerdictInconclusive:
		ms = []stats.Metric{stats.Verdicts}
	case ReferToPolice:
		ms = []stats.Metric{stats.Referrals}
	}
	if t.To == Closed {
		ms = append(ms, stats.ClosedAs(string(t.CloseReason)))
	}
	ds := make([]stats.Delta, len(ms))
	for i, m := range ms {
		ds[i] = stats.Delta{Metric: m, BrandID: brandID, N: 1}
	}
	return ds
}

// guard checks what a transition needs beyond the state.
func guard(tx *gorm.DB, t Transition, c Case, note string) error {
	if t.NeedsNote && note == "" {
		return valid.Errors{"note": "error.reason_required"}
	}
	if len(note) > 4000 {
		return valid.Errors{"note": "error.too_long"}
	}
	if t.To.Open() && !c.State.Open() {
		var other Case
		err := tx.Select("reference").Where("shop_id = ? AND brand_id = ? AND state <> ? AND id <> ?", c.ShopID, c.BrandID, Closed, c.ID).
			Take(&other).Error
		if err == nil {
			return valid.Errors{"event": "error.open_case_exists"}
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
	}
	return nil
}

// Assign sets (or clears, with 0) the case's investigator: an active
// staff member or admin.
func (s *Service) Assign(ctx context.Context, actor authz.Actor, id int64, version int, investigatorID int64) (Case, error) {
	var out Case
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		c, err := s.loadFor(tx, actor, id, authz.AssignCase)
		if err != nil {
			return err
		}
		if c.Version != version {
			return ErrConflict
		}
		inv, note, err := investigatorTx(tx, investigatorID)
		if err != nil {
			return err
		}
		if err := s.assignTx(ctx, tx, actor, c, inv, note, false); err != nil {
			return err
		}
		return tx.Take(&out, id).Error
	})
	return out, err
}

// MaxBulk is how many cases one bulk assignment may name (a page and more).
const MaxBulk = 200

// AssignMany gives the cases to one investigator (0: to nobody) in one
// transaction, each audited and on its timeline as a single assignment
// is: all of them or, when one is not the actor's to assign, none. A case
// already with that investigator is left as it is. It returns how many
// changed hands.
func (s *Service) AssignMany(ctx context.Context, actor authz.Actor, ids []int64, investigatorID int64) (int, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids))) // rows locked in id order: two bulk actions cannot deadlock
	if len(ids) == 0 {
		return 0, valid.Errors{"case": "error.bulk_none"}
	}
	if len(ids) > MaxBulk {
		return 0, valid.Errors{"case": "error.bulk_too_many"}
	}
	changed := 0
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		inv, note, err := investigatorTx(tx, investigatorID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c, err := s.loadFor(tx, actor, id, authz.AssignCase)
			if err != nil {
				return err
			}
			if (c.InvestigatorID == nil && inv == nil) || (c.InvestigatorID != nil && inv != nil && *c.InvestigatorID == *inv) {
				continue
			}
			if err := s.assignTx(ctx, tx, actor, c, inv, note, true); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, err
}

// investigatorTx checks that the id names an active staff member or admin
// (0: nobody) and returns it with the name the timeline shows.
func investigatorTx(tx *gorm.DB, investigatorID int64) (*int64, string, error) {
	if investigatorID == 0 {
		return nil, "", nil
	}
	var who struct {
		Name string
		Role role.Role
	}
	err := tx.Table("users").Select("name, role").Where("id = ? AND disabled_at IS NULL", investigatorID).Take(&who).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && who.Role != role.Staff && who.Role != role.Admin) {
		return nil, "", valid.Errors{"investigator": "error.investigator_invalid"}
	} else if err != nil {
		return nil, "", err
	}
	return &investigatorID, who.Name, nil
}

// assignTx writes one assignment of c, seen at its version: the case, its
// timeline entry and the audit event (bulk says it came with others).
func (s *Service) assignTx(ctx context.Context, tx *gorm.DB, actor authz.Actor, c Case, inv *int64, note string, bulk bool) error {
	now := s.db.Now()
	res := tx.Model(&Case{}).Where("id = ? AND version = ?", c.ID, c.Version).
		Updates(map[string]any{"investigator_id": inv, "version": gorm.Expr("version + 1"), "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrConflict
	}
	if err := addEntry(tx, Entry{CaseID: c.ID, At: now, ActorID: actorID(actor), Kind: "assignment", Note: note}); err != nil {
		return err
	}
	var to int64
	if inv != nil {
		to = *inv
	}
	detail := map[string]any{"investigator_id": to, "before": c.InvestigatorID}
	if bulk {
		detail["bulk"] = true
	}
	_, err := audit.Append(ctx, tx, audit.Record{Action: "case.assign", ObjectType: "case", ObjectID: c.Reference, Detail: detail})
	return err
}

// Comment adds a staff comment to the timeline.
func (s *Service) Comment(ctx context.Context, actor authz.Actor, id int64, body string) error {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return valid.Errors{"body": "error.required"}
	case len(body) > 10000:
		return valid.Errors{"body": "error.too_long"}
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		c, err := s.loadFor(tx, actor, id, authz.CommentCase)
		if err != nil {
			return err
		}
		now := s.db.Now()
		if err := addEntry(tx, Entry{CaseID: id, At: now, ActorID: actorID(actor), Kind: "comment", Note: body}); err != nil {
			return err
		}
		if err := tx.Model(&Case{}).Where("id = ?", id).Update("updated_at", now).Error; err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "case.comment", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"length": len(body)}})
		return err
	})
}

func (s *Service) loadFor(tx *gorm.DB, actor authz.Actor, id int64, action authz.Action) (Case, error) {
	var c Case
	if err := tx.Take(&c, id).Error; err != nil {
		return Case{}, database.NotFound(err)
	}
	if !authz.Can(actor, authz.ViewCase, c.Subject()) {
		return Case{}, database.ErrNotFound
	}
	if !authz.Can(actor, action, c.Subject()) {
		return Case{}, ErrNotAllowed
	}
	return c, nil
}

// Timeline lists a case's entries, oldest first.
func (s *Service) Timeline(ctx context.Context, id int64) ([]Entry, error) {
	var es []Entry
	err := s.db.Gorm.WithContext(ctx).Where("case_id = ?", id).Order("id").Find(&es).Error
	return es, err
}

// Counts returns how many cases are in each state, from the counter table:
// of one brand, or of every brand (brandID 0).
func (s *Service) Counts(ctx context.Context, brandID int64) (map[State]int64, error) {
	var rows []struct {
		State State
		N     int64
	}
	q := s.db.Gorm.WithContext(ctx).Table("case_counts").Select("state, sum(n) AS n").Group("state")
	if brandID != 0 {
		q = q.Where("brand_id = ?", brandID)
	}
	err := q.Find(&rows).Error
	m := make(map[State]int64, len(rows))
	for _, r := range rows {
		m[r.State] = r.N
	}
	return m, err
}

// moveCount moves n of the brand's cases from one state to another in the
// counter table (from "" for cases just opened).
func moveCount(tx *gorm.DB, brandID int64, from, to State, n int) error {
	if from == to || n == 0 {
		return nil
	}
	// Counter rows are updated in state-name order whatever the direction,
	// so that a dismiss and a reopen at once cannot deadlock.
	steps := []struct {
		state State
		delta int
	}{{from, -n}, {to, n}}
	if from > to {
		steps[0], steps[1] = steps[1], steps[0]
	}
	for _, st := range steps {
		if st.state == "" {
			continue
		}
		if err := tx.Exec(`INSERT INTO case_counts (brand_id, state, n) VALUES (?, ?, ?)
			ON CONFLICT (brand_id, state) DO UPDATE SET n = case_counts.n + excluded.n`, brandID, st.state, st.delta).Error; err != nil {
			return err
		}
	}
	return nil
}

// moveAge moves the case in the ageing histogram (stats.AgeTx): out of
// its old state's entry day, into today's of the new state. Closed cases
// are not counted there.
func moveAge(tx *gorm.DB, c Case, to State, now time.Time) error {
	if c.State == to {
		return nil
	}
	var ms []stats.AgeMove
	if c.State != Closed {
		ms = append(ms, stats.AgeMove{State: string(c.State), BrandID: c.BrandID, Since: c.StateSince, N: -1})
	}
	if to != Closed {
		ms = append(ms, stats.AgeMove{State: string(to), BrandID: c.BrandID, Since: now, N: 1})
	}
	return stats.AgeTx(tx, ms...)
}

func addEntry(tx *gorm.DB, e Entry) error { return tx.Create(&e).Error }

func actorID(a authz.Actor) *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}

// NewCase is what opening a case needs.
type NewCase struct {
	ShopID     int64
	BrandID    int64
	RiskScore  float64
	SearchText string
	Note       string // why it was opened, for the timeline
}

// OpenTx opens cases in flagged inside tx, numbering them from the
// year's counter; the caller audits the action that opened them.
func OpenTx(tx *gorm.DB, actor authz.Actor, in []NewCase) ([]Case, error) {
	if len(in) == 0 {
		return nil, nil
	}
	now := database.Now(tx)
	refs, err := nextReferences(tx, now.Year(), len(in))
	if err != nil {
		return nil, err
	}
	cases := make([]Case, len(in))
	for i, nc := range in {
		cases[i] = Case{Reference: refs[i], ShopID: nc.ShopID, BrandID: nc.BrandID, State: Flagged, RiskScore: nc.RiskScore,
			SearchText: strings.ToLower(refs[i] + " " + nc.SearchText), Version: 1, OpenedAt: now, UpdatedAt: now, StateSince: now}
	}
	if database.IsPostgres(tx) {
		err = pgInsertCases(tx, cases)
	} else {
		err = tx.CreateInBatches(&cases, 500).Error
	}
	if database.IsUniqueViolation(err) {
		return nil, fmt.Errorf("%w: %v", ErrOpenCaseExists, err)
	}
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(cases))
	for i, c := range cases {
		entries[i] = Entry{CaseID: c.ID, At: now, ActorID: actorID(actor), Kind: "transition", Event: "open", ToState: string(Flagged), Note: in[i].Note}
	}
	if err := addEntries(tx, entries); err != nil {
		return nil, err
	}
	// Brands in id order, like the counter rows' states: concurrent
	// openings take their locks in one order.
	perBrand := map[int64]int{}
	for _, c := range cases {
		perBrand[c.BrandID]++
	}
	brands := slices.Sorted(maps.Keys(perBrand))
	ds := make([]stats.Delta, 0, len(brands))
	ages := make([]stats.AgeMove, 0, len(brands))
	for _, b := range brands {
		if err := moveCount(tx, b, "", Flagged, perBrand[b]); err != nil {
			return nil, err
		}
		ds = append(ds, stats.Delta{Metric: stats.CasesOpened, BrandID: b, N: int64(perBrand[b])})
		ages = append(ages, stats.AgeMove{State: string(Flagged), BrandID: b, Since: now, N: int64(perBrand[b])})
	}
	if err := stats.AgeTx(tx, ages...); err != nil {
		return nil, err
	}
	return cases, stats.AddTx(tx, now, ds...)
}

// ErrOpenCaseExists: the shop and brand already have an open case.
var ErrOpenCaseExists = errors.New("an open case for this shop and brand exists")

// nextReferences reserves n case references of the year: SC-2026-000123.
// ReserveReferencesTx reserves n case references of the year for a bulk
// loader (the demo's volume), as opening does.
func ReserveReferencesTx(tx *gorm.DB, year, n int) ([]string, error) {
	return nextReferences(tx, year, n)
}

func nextReferences(tx *gorm.DB, year, n int) ([]string, error) {
	name := fmt.Sprintf("case_ref:%d", year)
	var last int64
	err := tx.Raw(`INSERT INTO counters (name, value) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value RETURNING value`, name, n).Scan(&last).Error
	if err != nil {
		return nil, err
	}
	refs := make([]string, n)
	for i := range n {
		refs[i] = fmt.Sprintf("SC-%d-%06d", year, last-int64(n)+int64(i)+1)
	}
	return refs, nil
}

// OpenFor finds the open case of each (shop, brand) pair given, in tx.
func OpenFor(tx *gorm.DB, pairs [][2]int64) (map[[2]int64]Case, error) {
	if database.IsPostgres(tx) {
		return pgOpenFor(tx, pairs)
	}
	out := map[[2]int64]Case{}
	for start := 0; start < len(pairs); start += 500 {
		part := pairs[start:min(start+500, len(pairs))]
		rows := make([]string, len(part))
		args := make([]any, 0, 2*len(part)+1)
		for i, p := range part {
			rows[i] = "(CAST(? AS bigint), CAST(? AS bigint))"
			args = append(args, p[0], p[1])
		}
		args = append(args, Closed)
		var cs []Case
		err := tx.Raw(`SELECT * FROM cases WHERE (shop_id, brand_id) IN (VALUES `+strings.Join(rows, ", ")+`) AND state <> ?`, args...).
			Find(&cs).Error
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			out[[2]int64{c.ShopID, c.BrandID}] = c
		}
	}
	return out, nil
}

// Growth is what new flags add to an open case.
type Growth struct {
	CaseID     int64
	Flags      int
	RiskScore  float64
	SearchText string
}

// GrowTx records new flags on open cases: a higher risk score, more search
// text and a timeline line. The version stays: flags do not change what a
// person may do to the case.
func GrowTx(tx *gorm.DB, actor authz.Actor, gs []Growth, now time.Time) error {
	if database.IsPostgres(tx) {
		return pgGrowTx(tx, actor, gs, now)
	}
	for start := 0; start < len(gs); start += 500 {
		part := gs[start:min(start+500, len(gs))]
		args := make([]any, 0, 3*len(part)+1)
		args = append(args, now)
		rows := make([]string, len(part))
		entries := make([]Entry, len(part))
		for i, g := range part {
			rows[i] = "(CAST(? AS bigint), CAST(? AS double precision), CAST(? AS text))"
			args = append(args, g.CaseID, g.RiskScore, g.SearchText)
			entries[i] = Entry{CaseID: g.CaseID, At: now, ActorID: actorID(actor), Kind: "flag", Note: fmt.Sprintf("%d", g.Flags)}
		}
		err := tx.Exec(`UPDATE cases SET risk_score = v.column2, search_text = v.column3, updated_at = ?
			FROM (VALUES `+strings.Join(rows, ", ")+`) AS v WHERE cases.id = v.column1`, args...).Error
		if err != nil {
			return fmt.Errorf("grow cases: %w", err)
		}
		if err := tx.CreateInBatches(&entries, 500).Error; err != nil {
			return err
		}
	}
	return nil
}

// Reference is the reference of case id: the one lookup from a case's id
// to the name people know it by.
func Reference(db *gorm.DB, id int64) (string, error) {
	var ref string
	err := db.Model(&Case{}).Select("reference").Where("id = ?", id).Row().Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return "", database.ErrNotFound
	}
	return ref, err
}

// Reference is the reference of case id.
func (s *Service) Reference(ctx context.Context, id int64) (string, error) {
	return Reference(s.db.Gorm.WithContext(ctx), id)
}

// Waiting is an open case that has been long in its state.
type Waiting struct {
	ID         int64
	Reference  string
	State      State
	StateSince time.Time
}

// Oldest returns, for each open state, the n cases longest in it, of a
// brand or of all (0), longest first: n rows per state read from
// cases_state_since_idx or cases_brand_state_since_idx. Staff only.
func (s *Service) Oldest(ctx context.Context, actor authz.Actor, brandID int64, n int) ([]Waiting, error) {
	if !authz.Can(actor, authz.ViewCases, authz.Subject{}) {
		return nil, database.ErrNotFound
	}
	var parts []string
	var args []any
	for _, st := range States {
		if !st.Open() {
			continue
		}
		where := "state = ?"
		if brandID != 0 {
			where = "brand_id = ? AND state = ?"
			args = append(args, brandID)
		}
		args = append(args, st)
		parts = append(parts, fmt.Sprintf(`SELECT * FROM (SELECT id, reference, state, state_since FROM cases
			WHERE %s AND state <> 'closed' ORDER BY state_since, id LIMIT %d) AS s%d`, where, n, len(parts)))
	}
	var out []Waiting
	if err := s.db.Gorm.WithContext(ctx).Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&out).Error; err != nil {
		return nil, err
	}
	// UNION ALL promises no order.
	slices.SortFunc(out, func(a, b Waiting) int {
		if c := a.StateSince.Compare(b.StateSince); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// RecountTx rebuilds what the transactions keep about the cases — the
// counts per brand and state, and the ageing histogram — from the cases
// themselves: for data loaded in bulk (the bench's seed, the demo's
// volume), not for a request.
func RecountTx(tx *gorm.DB) error {
	for _, q := range RecountSQL(database.IsPostgres(tx)) {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// RecountSQL is RecountTx's statements, for a loader that holds a bare
// PostgreSQL connection (the bench).
func RecountSQL(postgres bool) []string {
	// The UTC day and its month's first day, as the driver writes a
	// midnight UTC time.Time on SQLite.
	day, month := "date(state_since) || ' 00:00:00+00:00'", "strftime('%Y-%m-01', state_since) || ' 00:00:00+00:00'"
	if postgres {
		day, month = "(state_since AT TIME ZONE 'UTC')::date", "date_trunc('month', state_since AT TIME ZONE 'UTC')::date"
	}
	hist := func(prefix, on string) string {
		return `INSERT INTO daily_counts (metric, brand_id, day, n, rolled)
		SELECT '` + prefix + `' || state, b, d, count(*), true FROM (
			SELECT state, brand_id AS b, ` + on + ` AS d FROM cases WHERE state <> 'closed'
			UNION ALL SELECT state, 0, ` + on + ` FROM cases WHERE state <> 'closed') AS o
		GROUP BY state, b, d`
	}
	return []string{
		`DELETE FROM case_counts`,
		`INSERT INTO case_counts (brand_id, state, n) SELECT brand_id, state, count(*) FROM cases GROUP BY brand_id, state`,
		`DELETE FROM daily_counts WHERE metric LIKE 'in!_%' ESCAPE '!' OR metric LIKE 'inm!_%' ESCAPE '!'`,
		hist("in_", day),
		hist("inm_", month),
	}
}

// RepeatPriority is the priority of a repeat offender's case.
const RepeatPriority = 3

// MarkRepeatTx marks cases that a repeat offender's flag opened or joined:
// flagged as such on the list, their priority raised, and a line on the
// timeline naming the earlier case (by its reference).
func MarkRepeatTx(tx *gorm.DB, earlier map[int64]int64, now time.Time) error {
	if len(earlier) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(earlier))
	if err := tx.Exec(`UPDATE cases SET repeat_offender = true, priority = CASE WHEN priority < ? THEN ? ELSE priority END
		WHERE id IN ?`, RepeatPriority, RepeatPriority, ids).Error; err != nil {
		return err
	}
	refs, err := References(tx, slices.Collect(maps.Values(earlier)))
	if err != nil {
		return err
	}
	entries := make([]Entry, 0, len(ids))
	for _, id := range ids {
		entries = append(entries, Entry{CaseID: id, At: now, Kind: "comment", Note: "Repeat offender: its shop shares identifiers with the shop of " + refs[earlier[id]] + "."})
	}
	return addEntries(tx, entries)
}

// References are the references of the cases ids, in one query.
func References(db *gorm.DB, ids []int64) (map[int64]string, error) {
	var rows []struct {
		ID        int64
		Reference string
	}
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	if err := db.Model(&Case{}).Select("id, reference").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r.Reference
	}
	return out, nil
}
