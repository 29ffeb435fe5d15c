package deadline

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

// The settings that are not a kind of step.
const (
	RemindBefore  = "remind_before"  // days before the due time the one who must act is reminded
	EscalateAfter = "escalate_after" // days after it the admins are told
)

// SettingKeys lists the editable settings in the order the admin page shows
// them. Order and Verdict have none here: a purchase carries its due date,
// a brand its authentication days; Hearing is due on its day.
var SettingKeys = []string{string(Delivery), string(Dispatch), string(Acceptance), string(PoliceAnswer),
	string(ReferralQuiet), string(ReimbursementApproval), string(ReimbursementPayment), RemindBefore, EscalateAfter}

// Service reads and edits the settings and reads a case's deadlines.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

// Settings returns every setting in days.
func (s *Service) Settings(ctx context.Context) (map[string]int, error) {
	return settingsTx(s.db.Gorm.WithContext(ctx))
}

func settingsTx(tx *gorm.DB) (map[string]int, error) {
	var rows []struct {
		Kind string
		Days int
	}
	if err := tx.Table("deadline_settings").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Kind] = r.Days
	}
	return out, nil
}

// MaxDays bounds every setting.
const MaxDays = 365

// Save sets the settings an admin typed (key → days as typed), all or none,
// in one transaction with one audit event of what changed.
func (s *Service) Save(ctx context.Context, actor authz.Actor, typed map[string]string) error {
	if !authz.Can(actor, authz.ManageDeadlines, authz.Subject{}) {
		return database.ErrNotFound
	}
	errs := valid.Errors{}
	values := map[string]int{}
	for _, k := range SettingKeys {
		n, err := strconv.Atoi(strings.TrimSpace(typed[k]))
		if err != nil || n < 1 || n > MaxDays {
			errs.Add(k, "error.days")
			continue
		}
		values[k] = n
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		before, err := settingsTx(tx)
		if err != nil {
			return err
		}
		changed := map[string]any{}
		for _, k := range SettingKeys {
			if before[k] == values[k] {
				continue
			}
			changed[k] = map[string]int{"from": before[k], "to": values[k]}
			if err := tx.Exec(`UPDATE deadline_settings SET days = ? WHERE kind = ?`, values[k], k).Error; err != nil {
				return err
			}
		}
		if len(changed) == 0 {
			return nil
		}
		_, err = audit.Append(ctx, tx, audit.Record{Action: "deadlines.settings", ObjectType: "deadline_settings",
			ObjectID: "global", Detail: changed})
		return err
	})
}

// ForCase lists a case's open deadlines, soonest first, and its last
// closed ones (up to ten), for the staff's case page: who must act is
// staff-side knowledge (a volunteer's user id).
func (s *Service) ForCase(ctx context.Context, actor authz.Actor, c authz.Subject, caseID int64) (open, done []Deadline, err error) {
	if !authz.Can(actor, authz.ViewCase, c) {
		return nil, nil, database.ErrNotFound
	}
	db := s.db.Gorm.WithContext(ctx)
	if err = db.Where("case_id = ? AND done_at IS NULL", caseID).Order("due_at, id").Find(&open).Error; err != nil {
		return nil, nil, err
	}
	err = db.Where("case_id = ? AND done_at IS NOT NULL", caseID).Order("done_at DESC, id DESC").Limit(10).Find(&done).Error
	return open, done, err
}

// Next lists, soonest first, the open deadlines on the cases a screen
// shows that the actor's own side must meet: a volunteer's own steps, a
// brand user's brands' steps; nothing for anyone else (staff have the case
// list's queues). Another party's steps on the same case stay with staff.
func (s *Service) Next(ctx context.Context, actor authz.Actor, caseIDs []int64) ([]Deadline, error) {
	if len(caseIDs) == 0 {
		return nil, nil
	}
	q := s.db.Gorm.WithContext(ctx).Where("case_id IN ? AND done_at IS NULL", caseIDs)
	switch {
	case actor.Role == role.Volunteer:
		q = q.Where("party = ? AND party_id = ?", Volunteer, actor.UserID)
	case actor.Role == role.Brand && len(actor.BrandIDs) > 0:
		q = q.Where("party = ? AND party_id IN ?", Brand, actor.BrandIDs)
	default:
		return nil, nil
	}
	var ds []Deadline
	err := q.Order("due_at, id").Find(&ds).Error
	return ds, err
}

// BrandDays is a brand's own durations: where the brand is the one waited
// on, its setting decides.
type BrandDays struct {
	ID                 int64
	Name               string
	AuthenticationDays int  // from an item's sending to the verdict
	AcceptanceDays     *int // to log a sent item in; nil: the global setting
}

// Brands lists every brand's own durations, by name.
func (s *Service) Brands(ctx context.Context, actor authz.Actor) ([]BrandDays, error) {
	if !authz.Can(actor, authz.ManageDeadlines, authz.Subject{}) {
		return nil, database.ErrNotFound
	}
	var bs []BrandDays
	err := s.db.Gorm.WithContext(ctx).Table("brands").Select("id, name, authentication_days, acceptance_days").
		Order("name, id").Find(&bs).Error
	return bs, err
}

// SaveBrand sets one brand's durations as an admin typed them (acceptance
// left empty: the global setting), audited with what changed.
func (s *Service) SaveBrand(ctx context.Context, actor authz.Actor, brandID int64, authentication, acceptance string) error {
	if !authz.Can(actor, authz.ManageDeadlines, authz.Subject{}) {
		return database.ErrNotFound
	}
	errs := valid.Errors{}
	auth, err := strconv.Atoi(strings.TrimSpace(authentication))
	if err != nil || auth < 1 || auth > MaxDays {
		errs.Add("authentication_days", "error.days")
	}
	var accept *int
	if a := strings.TrimSpace(acceptance); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > MaxDays {
			errs.Add("acceptance_days", "error.days")
		}
		accept = &n
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var before BrandDays
		if err := tx.Table("brands").Select("id, name, authentication_days, acceptance_days").Where("id = ?", brandID).
			Take(&before).Error; err != nil {
			return database.NotFound(err)
		}
		changed := map[string]any{}
		if before.AuthenticationDays != auth {
			changed["authentication_days"] = map[string]int{"from": before.AuthenticationDays, "to": auth}
		}
		if (before.AcceptanceDays == nil) != (accept == nil) || (accept != nil && *before.AcceptanceDays != *accept) {
			changed["acceptance_days"] = map[string]*int{"from": before.AcceptanceDays, "to": accept}
		}
		if len(changed) == 0 {
			return nil
		}
		if err := tx.Exec(`UPDATE brands SET authentication_days = ?, acceptance_days = ? WHERE id = ?`, auth, accept, brandID).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "deadlines.brand", ObjectType: "brand",
			ObjectID: strconv.FormatInt(brandID, 10), Detail: changed})
		return err
	})
}

// OverdueCount is how many open steps of a kind, waiting on a party, are
// past due.
type OverdueCount struct {
	Kind  Kind
	Party Party
	N     int64
}

// OverdueCounts counts the open steps past due at now, by kind and party,
// of one brand's cases or of all (brandID 0): a read of the open-deadline
// index up to now.
func (s *Service) OverdueCounts(ctx context.Context, now time.Time, brandID int64) ([]OverdueCount, error) {
	var out []OverdueCount
	return out, s.overdueCounts(ctx, now, brandID).Scan(&out).Error
}

// OverdueSQL is OverdueCounts' query with its values, for the bench to
// print its plan.
func (s *Service) OverdueSQL(ctx context.Context, now time.Time, brandID int64) string {
	return s.overdueCounts(ctx, now, brandID).ToSQL(func(tx *gorm.DB) *gorm.DB { var out []OverdueCount; return tx.Scan(&out) })
}

func (s *Service) overdueCounts(ctx context.Context, now time.Time, brandID int64) *gorm.DB {
	q := s.db.Gorm.WithContext(ctx).Table("deadlines d").Select("d.kind, d.party, count(*) AS n").
		Where("d.done_at IS NULL AND d.due_at < ?", now).Group("d.kind, d.party").Order("d.kind, d.party")
	if brandID != 0 { // deadlines_open_brand_due_idx, else deadlines_open_due_idx: index-only
		q = q.Where("d.brand_id = ?", brandID)
	}
	return q
}

// BrandFigures are a brand's own: its steps past due now, and how long its
// verdicts took from the item's receipt (the verdict step's start) over
// the verdicts signed since.
type BrandFigures struct {
	Overdue int64
	// Verdicts signed since, and the median of their turnaround in days
	// (nearest rank).
	Verdicts   int
	MedianDays float64
}

// ForBrands reads the figures of the brands: the open steps through
// deadlines_open_party_idx, the verdict steps done since through
// deadlines_done_brand_idx, their cases' acceptance steps through
// deadlines_case_idx.
func (s *Service) ForBrands(ctx context.Context, now, since time.Time, brandIDs []int64) (BrandFigures, error) {
	var f BrandFigures
	if len(brandIDs) == 0 {
		return f, nil
	}
	db := s.db.Gorm.WithContext(ctx)
	if err := db.Raw(`SELECT count(*) FROM deadlines WHERE done_at IS NULL AND party = ? AND party_id IN ? AND due_at < ?`,
		Brand, brandIDs, now).Row().Scan(&f.Overdue); err != nil {
		return f, err
	}
	// The verdict steps done since, and when each case's item was logged
	// in by the brand (its acceptance step done): the turnaround runs from
	// there, or from the sending when the item was never logged in.
	var steps []struct {
		CaseID            int64
		StartedAt, DoneAt time.Time
	}
	if err := db.Raw(`SELECT case_id, started_at, done_at FROM deadlines WHERE brand_id IN ? AND kind = ? AND done_at IS NOT NULL AND done_at >= ?`,
		brandIDs, Verdict, since).Scan(&steps).Error; err != nil {
		return f, err
	}
	ids := make([]int64, len(steps))
	for i, st := range steps {
		ids[i] = st.CaseID
	}
	var accepted []struct {
		CaseID int64
		DoneAt time.Time
	}
	if len(ids) > 0 {
		if err := db.Raw(`SELECT case_id, done_at FROM deadlines WHERE case_id IN ? AND kind = ? AND done_at IS NOT NULL`, ids, Acceptance).
			Scan(&accepted).Error; err != nil {
			return f, err
		}
	}
	received := map[int64][]time.Time{}
	for _, a := range accepted {
		received[a.CaseID] = append(received[a.CaseID], a.DoneAt)
	}
	days := make([]float64, len(steps))
	for i, st := range steps {
		from := st.StartedAt
		for _, at := range received[st.CaseID] { // the latest receipt before the verdict
			if at.After(from) && !at.After(st.DoneAt) {
				from = at
			}
		}
		days[i] = st.DoneAt.Sub(from).Hours() / 24
	}
	slices.Sort(days)
	if f.Verdicts = len(days); f.Verdicts > 0 {
		f.MedianDays = days[(len(days)+1)/2-1]
	}
	return f, nil
}
