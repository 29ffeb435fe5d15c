package deadline

import (
	"context"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
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
// closed ones (up to ten), for the case page.
func (s *Service) ForCase(ctx context.Context, caseID int64) (open, done []Deadline, err error) {
	db := s.db.Gorm.WithContext(ctx)
	if err = db.Where("case_id = ? AND done_at IS NULL", caseID).Order("due_at, id").Find(&open).Error; err != nil {
		return nil, nil, err
	}
	err = db.Where("case_id = ? AND done_at IS NOT NULL", caseID).Order("done_at DESC, id DESC").Limit(10).Find(&done).Error
	return open, done, err
}

// OfParty lists the open deadlines of one party (a volunteer's steps, a
// brand's), soonest first: what is due next on their own screens.
func (s *Service) OfParty(ctx context.Context, p Party, ids []int64) ([]Deadline, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var ds []Deadline
	err := s.db.Gorm.WithContext(ctx).Where("party = ? AND party_id IN ? AND done_at IS NULL", p, ids).
		Order("due_at, id").Limit(500).Find(&ds).Error
	return ds, err
}
