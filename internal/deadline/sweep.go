package deadline

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/notify"
	"spotcheck/internal/role"
)

// The notifications the sweep sends (notify.<event> in the catalog).
const (
	EventDueSoon   notify.Event = "deadline_due_soon"  // to whoever must act, before the due time
	EventOverdue   notify.Event = "deadline_overdue"   // to the case's investigator, once past due
	EventEscalated notify.Event = "deadline_escalated" // to the admins, escalate_after days past due
)

// Sweeper moves open deadlines through their stages and sends each
// stage's notification. It is safe to run in any number of processes at
// once and to rerun: a deadline's stage only grows, the update that raises
// it rechecks the stage on the row it locks, and the notification job is
// inserted in the same transaction, so each stage of each deadline is sent
// once — by whichever sweep raised it.
type Sweeper struct {
	DB     *database.DB
	Queue  notify.Inserter
	Batch  int // deadlines per transaction (default 200)
	Logger *slog.Logger
}

// Sent counts the deadlines a sweep moved, by the stage they reached.
type Sent map[Stage]int

// Sweep runs once at the database's clock: first the deadlines long past
// due (to the admins), then those past due (to the investigator), then
// those due soon (a reminder), so a step the sweep first sees late gets
// only its latest message.
func (s *Sweeper) Sweep(ctx context.Context) (Sent, error) {
	now := s.DB.Now()
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	sent := Sent{}
	for _, st := range []struct {
		stage Stage
		by    time.Time // due at or before
	}{
		{Admins, now.AddDate(0, 0, -set[EscalateAfter])},
		{Escalated, now},
		{Reminded, now.AddDate(0, 0, set[RemindBefore])},
	} {
		for {
			n, err := s.batch(ctx, st.stage, st.by, now)
			if err != nil {
				return sent, err
			}
			sent[st.stage] += n
			if n < s.size() {
				break
			}
		}
	}
	if s.Logger != nil && (sent[Reminded]+sent[Escalated]+sent[Admins]) > 0 {
		s.Logger.InfoContext(ctx, "deadlines swept", "reminded", sent[Reminded], "escalated", sent[Escalated], "admins", sent[Admins])
	}
	return sent, nil
}

func (s *Sweeper) size() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 200
}

func (s *Sweeper) settings(ctx context.Context) (map[string]int, error) {
	set, err := settingsTx(s.DB.Gorm.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	for _, k := range []string{RemindBefore, EscalateAfter} {
		if set[k] < 1 { // the migration stores both and Save keeps them ≥ 1
			return nil, fmt.Errorf("deadline: no setting for %q", k)
		}
	}
	return set, nil
}

// raised is a deadline whose stage a batch raised.
type raised struct {
	ID        int64
	CaseID    int64
	Kind      Kind
	SubjectID int64
	Party     Party
	PartyID   int64
}

// batch raises up to Batch open deadlines due at or before by to stage, and
// queues their notifications, in one transaction.
func (s *Sweeper) batch(ctx context.Context, stage Stage, by, now time.Time) (int, error) {
	var n int
	err := s.DB.InTx(ctx, func(tx *gorm.DB) error {
		var rs []raised
		// The outer WHERE repeats the stage test: a concurrent sweep that
		// raised the row first makes this update skip it after the lock.
		if err := tx.Raw(`UPDATE deadlines SET stage = ?, staged_at = ?
			WHERE id IN (SELECT id FROM deadlines WHERE done_at IS NULL AND stage < ? AND due_at <= ? ORDER BY due_at, id LIMIT ?)
			AND done_at IS NULL AND stage < ?
			RETURNING id, case_id, kind, subject_id, party, party_id`,
			stage, now, stage, by, s.size(), stage).Scan(&rs).Error; err != nil {
			return err
		}
		n = len(rs)
		if n == 0 {
			return nil
		}
		return s.tell(ctx, tx, stage, rs)
	})
	return n, err
}

// tell queues the stage's notification of each raised deadline.
func (s *Sweeper) tell(ctx context.Context, tx *gorm.DB, stage Stage, rs []raised) error {
	ids := make([]int64, 0, len(rs))
	for _, r := range rs {
		ids = append(ids, r.CaseID)
	}
	var cases []struct {
		ID             int64
		Reference      string
		InvestigatorID *int64
	}
	if err := tx.Table("cases").Select("id, reference, investigator_id").Where("id IN ?", ids).Find(&cases).Error; err != nil {
		return err
	}
	type caseRow = struct {
		ref string
		inv int64
	}
	byID := make(map[int64]caseRow, len(cases))
	for _, c := range cases {
		r := caseRow{ref: c.Reference}
		if c.InvestigatorID != nil {
			r.inv = *c.InvestigatorID
		}
		byID[c.ID] = r
	}
	var admins []int64
	if stage == Admins || stage == Escalated {
		if err := tx.Table("users").Where("role = ? AND disabled_at IS NULL", role.Admin).Order("id").Pluck("id", &admins).Error; err != nil {
			return err
		}
	}
	for _, r := range rs {
		c := byID[r.CaseID]
		a := notify.Args{Subject: c.ref, Link: "/cases/" + c.ref}
		switch stage {
		case Reminded:
			a.Event = EventDueSoon
			switch r.Party {
			case Volunteer:
				a.UserIDs, a.Link = []int64{r.PartyID}, "/assignments/"+strconv.FormatInt(r.SubjectID, 10)
			case Brand:
				a.BrandID, a.Link = r.PartyID, brandLink(r.Kind, c.ref)
			default:
				a.UserIDs = []int64{staffOf(c.inv, r)}
			}
		case Escalated:
			a.Event = EventOverdue
			switch {
			case c.inv != 0:
				a.UserIDs = []int64{c.inv}
			case r.Party == Staff:
				a.UserIDs = []int64{r.PartyID}
			default: // nobody works the case: straight to the admins
				a.UserIDs = admins
			}
		case Admins:
			a.Event, a.UserIDs = EventEscalated, admins
		}
		if len(a.UserIDs) == 0 && a.BrandID == 0 {
			continue
		}
		if err := s.Queue.InsertTx(ctx, tx, a); err != nil {
			return err
		}
	}
	return nil
}

// staffOf is who on staff moves a staff step: the case's investigator, else
// whoever started it.
func staffOf(investigator int64, r raised) int64 {
	if investigator != 0 {
		return investigator
	}
	return r.PartyID
}

// brandLink is the brand's screen for its step: the queue where a sent item
// is logged in, or its own page of the case for the verdict.
func brandLink(k Kind, ref string) string {
	if k == Verdict {
		return "/authentications/" + ref
	}
	return "/authentications"
}

// SweepArgs runs the sweep; River schedules it on the leader only, and the
// sweep itself is safe to run twice.
type SweepArgs struct{}

func (SweepArgs) Kind() string { return "deadline.sweep" }

// SweepWorker runs SweepArgs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Sweeper *Sweeper
}

func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.Sweeper.Sweep(ctx)
	return err
}

// SweepEvery schedules the sweep.
func SweepEvery(d time.Duration) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(d),
		func() (river.JobArgs, *river.InsertOpts) { return SweepArgs{}, nil }, &river.PeriodicJobOpts{RunOnStart: true})
}
