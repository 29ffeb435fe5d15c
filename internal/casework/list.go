package casework

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/valid"
)

// Sort orders of the case list.
const (
	SortUpdated = "updated" // last change first (the default)
	SortOpened  = "opened"  // newest first
	SortScore   = "score"   // highest risk first
)

// Filter narrows the case list; every field is optional.
type Filter struct {
	States         []State
	BrandID        int64
	ShopID         int64
	InvestigatorID int64
	Unassigned     bool   // no investigator (InvestigatorID is then ignored)
	Open           bool   // not closed
	Overdue        bool   // with a step open and past due
	OverdueKind    string // and that step of this kind (deadline.Kind), with Overdue
	OverdueParty   string // and waiting on this party (deadline.Party), with Overdue
	WaitingOn      int64  // with a step past due that this staff member must move (deadline.WaitingOnIn)
	MinScore       *float64
	MaxScore       *float64
	Dated          Dated       // the step whose time From and To bound; the opening when empty
	Reason         CloseReason // closed for this reason; with Dated closed, closed for it between From and To
	From           *time.Time  // opened (or the Dated step) at or after
	To             *time.Time  // opened (or the Dated step) before
	Q              string      // words in the reference, shop name or listing titles
	Sort           string
	After          string // cursor
	Limit          int
}

// Row is one case in the list.
type Row struct {
	ID             int64
	Reference      string
	State          State
	CloseReason    CloseReason
	RiskScore      float64
	Priority       int
	BrandID        int64
	BrandName      string
	ShopID         int64
	ShopName       string
	Platform       string
	InvestigatorID *int64
	Investigator   string
	OpenedAt       time.Time
	UpdatedAt      time.Time
	RepeatOffender bool
	Overdue        bool `gorm:"-"` // a step of the case is open and past due
}

// List returns one page of the cases the actor may see, and the cursor of
// the next page (empty on the last). It pages by keyset, never by OFFSET,
// and counts nothing.
func (s *Service) List(ctx context.Context, actor authz.Actor, f Filter) ([]Row, string, error) {
	if !authz.Can(actor, authz.ViewCases, authz.Subject{}) {
		return nil, "", ErrNotAllowed
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	q, err := s.query(ctx, f)
	if err != nil {
		return nil, "", err
	}
	var rows []Row
	if err := q.Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		next = cursorOf(f.Sort, rows[len(rows)-1])
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	late, err := deadline.OverdueOf(s.db.Gorm.WithContext(ctx), s.db.Now(), ids)
	if err != nil {
		return nil, "", err
	}
	for i := range rows {
		rows[i].Overdue = late[rows[i].ID]
	}
	return rows, next, nil
}

// Each streams every case matching f (ignoring its cursor and limit) to
// fn, a page at a time, for exports.
func (s *Service) Each(ctx context.Context, actor authz.Actor, f Filter, fn func(Row) error) error {
	if !authz.Can(actor, authz.ExportCases, authz.Subject{}) {
		return ErrNotAllowed
	}
	f.After, f.Limit = "", 1000
	for {
		rows, next, err := s.List(ctx, actor, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// QueueCap is where the work queues' counts stop counting: a queue of
// more is shown as that many and more, so a count reads at most this many
// index entries.
const QueueCap = 1000

// Queues are the counts of the staff's work queues: the open cases the
// investigator works, the open cases nobody does, and the cases with a
// step past due that the investigator must move (each at most QueueCap).
// Each reads an index of the cases or steps concerned only
// (cases_open_investigator_idx, cases_unassigned_idx, deadlines_open_due_idx).
func (s *Service) Queues(ctx context.Context, investigatorID int64) (mine, unassigned, waiting int64, err error) {
	db := s.db.Gorm.WithContext(ctx)
	capped := func(where string, args ...any) (int64, error) {
		var n int64
		err := db.Raw("SELECT count(*) FROM (SELECT 1 FROM cases WHERE "+where+" AND state <> 'closed' LIMIT ?) q",
			append(args, QueueCap)...).Scan(&n).Error
		return n, err
	}
	if mine, err = capped("investigator_id = ?", investigatorID); err != nil {
		return 0, 0, 0, err
	}
	if unassigned, err = capped("investigator_id IS NULL"); err != nil {
		return 0, 0, 0, err
	}
	q := deadline.WaitingOnIn(db.Table("cases").Select("1"), "cases.id", s.db.Now(), investigatorID).Limit(QueueCap)
	err = db.Raw("SELECT count(*) FROM (?) q", q).Scan(&waiting).Error
	return mine, unassigned, waiting, err
}

// ListSQL is the list query for f as SQL with its arguments, so that the
// benchmark can print its plan.
func (s *Service) ListSQL(ctx context.Context, f Filter) (string, error) {
	q, err := s.query(ctx, f)
	if err != nil {
		return "", err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	return q.Limit(f.Limit + 1).ToSQL(func(tx *gorm.DB) *gorm.DB { var rows []Row; return tx.Scan(&rows) }), nil
}

func (s *Service) query(ctx context.Context, f Filter) (*gorm.DB, error) {
	q := s.db.Gorm.WithContext(ctx).Table("cases c").
		Select(`c.id, c.reference, c.state, c.close_reason, c.risk_score, c.priority, c.brand_id, b.name AS brand_name,
			c.shop_id, s.name AS shop_name, s.platform, c.investigator_id, COALESCE(u.name, '') AS investigator, c.opened_at, c.updated_at,
			c.repeat_offender`).
		Joins("JOIN brands b ON b.id = c.brand_id").
		Joins("JOIN shops s ON s.id = c.shop_id").
		Joins("LEFT JOIN users u ON u.id = c.investigator_id")
	if len(f.States) == 1 {
		q = q.Where("c.state = ?", f.States[0])
	} else if len(f.States) > 1 {
		q = q.Where("c.state IN ?", f.States)
	}
	if f.BrandID != 0 {
		q = q.Where("c.brand_id = ?", f.BrandID)
	}
	if f.ShopID != 0 {
		q = q.Where("c.shop_id = ?", f.ShopID)
	}
	if f.Unassigned {
		q = q.Where("c.investigator_id IS NULL")
	} else if f.InvestigatorID != 0 {
		q = q.Where("c.investigator_id = ?", f.InvestigatorID)
	}
	if f.Open {
		q = q.Where("c.state <> ?", Closed)
	}
	if f.Overdue {
		q = deadline.OverdueIn(q, "c.id", s.db.Now(), deadline.Kind(f.OverdueKind), deadline.Party(f.OverdueParty))
	}
	if f.WaitingOn != 0 {
		q = deadline.WaitingOnIn(q, "c.id", s.db.Now(), f.WaitingOn)
	}
	if f.MinScore != nil {
		q = q.Where("c.risk_score >= ?", *f.MinScore)
	}
	if f.MaxScore != nil {
		q = q.Where("c.risk_score <= ?", *f.MaxScore)
	}
	if f.Reason != "" && (f.Dated != DatedClosed || (f.From == nil && f.To == nil)) {
		q = q.Where("c.state = ? AND c.close_reason = ?", Closed, f.Reason)
	}
	q = datedIn(q, f, database.Zone(q))
	if term := strings.ToLower(strings.TrimSpace(f.Q)); term != "" {
		q = s.search(q, term)
	}
	col := sortColumn(f.Sort)
	if f.After != "" {
		v, id, err := parseCursor(f.Sort, f.After)
		if err != nil {
			return nil, valid.Errors{"after": "error.cursor_invalid"}
		}
		q = q.Where("("+col+", c.id) < (?, ?)", v, id)
	}
	return q.Order(col + " DESC, c.id DESC"), nil
}

// search matches words anywhere in the reference, shop name and listing
// titles: a trigram index on both databases (pg_trgm; SQLite FTS5 with
// the trigram tokenizer). Terms shorter than three characters fall back
// to a scan, as trigrams cannot index them.
func (s *Service) search(q *gorm.DB, term string) *gorm.DB {
	if len([]rune(term)) < 3 || s.db.Dialect == database.Postgres {
		like := "%" + escapeLike(term) + "%"
		return q.Where(`c.search_text LIKE ? ESCAPE '\'`, like)
	}
	return q.Where("c.id IN (SELECT rowid FROM case_search WHERE case_search MATCH ?)", `"`+strings.ReplaceAll(term, `"`, `""`)+`"`)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func sortColumn(sort string) string {
	switch sort {
	case SortOpened:
		return "c.opened_at"
	case SortScore:
		return "c.risk_score"
	}
	return "c.updated_at"
}

func cursorOf(sort string, r Row) string {
	var v string
	switch sort {
	case SortOpened:
		v = r.OpenedAt.UTC().Format(time.RFC3339Nano)
	case SortScore:
		v = strconv.FormatFloat(r.RiskScore, 'g', -1, 64)
	default:
		v = r.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	return base64.RawURLEncoding.EncodeToString([]byte(v + "|" + strconv.FormatInt(r.ID, 10)))
}

func parseCursor(sort, c string) (any, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, 0, err
	}
	v, idText, ok := strings.Cut(string(b), "|")
	if !ok {
		return nil, 0, errors.New("bad cursor")
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil, 0, err
	}
	if sort == SortScore {
		f, err := strconv.ParseFloat(v, 64)
		return f, id, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t.UTC(), id, err
}

// ByReference loads a case by its reference; cases the actor may not see
// are not found.
func (s *Service) ByReference(ctx context.Context, actor authz.Actor, ref string) (Case, error) {
	var c Case
	if err := s.db.Gorm.WithContext(ctx).Where("reference = ?", strings.ToUpper(ref)).Take(&c).Error; err != nil {
		return Case{}, database.NotFound(err)
	}
	if !authz.Can(actor, authz.ViewCase, c.Subject()) {
		return Case{}, database.ErrNotFound
	}
	return c, nil
}

// ForShops lists the cases of some shops that the actor may see, newest
// first.
func (s *Service) ForShops(ctx context.Context, actor authz.Actor, shopIDs []int64) ([]Row, error) {
	if len(shopIDs) == 0 || !authz.Can(actor, authz.ViewCases, authz.Subject{}) {
		return nil, nil
	}
	q, err := s.query(ctx, Filter{Sort: SortOpened})
	if err != nil {
		return nil, err
	}
	var rows []Row
	err = q.Where("c.shop_id IN ?", shopIDs).Limit(500).Find(&rows).Error
	return rows, err
}
