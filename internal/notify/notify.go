// Package notify tells people that something needs them: in-app
// notifications (a counter in the navigation, a list, mark as read) and,
// when SMTP is configured, an e-mail. An action asks for a notification by
// inserting a River job in its own transaction (Request); the job decides
// the recipients and writes the rows, so a rolled-back action notifies
// nobody and a notification never holds up the action.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/database"
)

// Event is what happened, and the catalog key of its text (notify.<event>).
type Event string

const (
	AssignmentNew    Event = "assignment_new"    // to the volunteer
	OrderRecorded    Event = "order_recorded"    // to staff on the purchase
	DeliveryRecorded Event = "delivery_recorded" // to staff on the purchase
	ItemDispatched   Event = "item_dispatched"   // to staff on the purchase, and to the receiving brand's users

	VerdictSigned     Event = "verdict_signed"     // to the case's staff: the brand signed a verdict
	VerdictSuperseded Event = "verdict_superseded" // to the case's staff: the brand replaced its verdict
	CaseReferred      Event = "case_referred"      // to the brand's users: their case went to the police
	CaseRaided        Event = "case_raided"        // to the brand's users: a raid was recorded
	CaseJudged        Event = "case_judged"        // to the brand's users: a judgment or settlement was recorded
	ClaimPaid         Event = "claim_paid"         // to the brand's users: money was received from the seller
	RepeatOffender    Event = "repeat_offender"    // to the earlier case's staff and the admins: a shop tied to it was flagged
)

// CaseStaffTx is who on staff works a case: its investigator and whoever
// ordered its test purchases, each once.
func CaseStaffTx(tx *gorm.DB, caseID int64) ([]int64, error) {
	var ids []int64
	err := tx.Raw(`SELECT investigator_id FROM cases WHERE id = ? AND investigator_id IS NOT NULL
		UNION SELECT ordered_by FROM purchases WHERE case_id = ?`, caseID, caseID).Scan(&ids).Error
	slices.Sort(ids)
	return ids, err
}

// TellBrandTx queues ev about the case for the users of its brand, with
// the link to the brand's own page of the case.
func TellBrandTx(ctx context.Context, tx *gorm.DB, q Inserter, ev Event, ref string, brandID int64) error {
	return q.InsertTx(ctx, tx, Args{Event: ev, Subject: ref, BrandID: brandID, BrandLink: "/authentications/" + ref})
}

// Notification is one line in a user's list.
type Notification struct {
	ID        int64
	UserID    int64
	Kind      string
	Subject   string // the case reference or item number the text names
	Link      string // where the recipient goes to act on it
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Args is the job an action inserts: who is told what.
type Args struct {
	Event   Event   `json:"event"`
	Subject string  `json:"subject"`
	Link    string  `json:"link"`
	UserIDs []int64 `json:"user_ids,omitempty"`
	// BrandID: also every active user bound to this brand.
	BrandID int64 `json:"brand_id,omitempty"`
	// BrandLink replaces Link for the brand's users, who see other screens.
	BrandLink string `json:"brand_link,omitempty"`
}

func (Args) Kind() string { return "notify" }

// Inserter puts a job in the caller's transaction (job.Queue does).
type Inserter interface {
	InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs) error
}

// Worker writes the notifications of one Args and queues their e-mails.
type Worker struct {
	river.WorkerDefaults[Args]
	DB     *database.DB
	Queue  Inserter
	Mailer *Mailer // nil: no e-mail
	Logger *slog.Logger
}

// Work is safe to rerun: River runs a job at least once, and a job whose
// transaction committed may run again. Each notification is keyed by the
// job and its recipient; a rerun finds the rows, writes none and queues no
// e-mail, since the e-mail jobs committed with them.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	a := j.Args
	var key *int64 // none when not run by River (nothing reruns it)
	if j.JobRow != nil {
		key = &j.ID
	}
	return w.DB.InTx(ctx, func(tx *gorm.DB) error {
		type recipient struct {
			ID    int64
			Email string
			Brand bool
		}
		var rs []recipient
		if len(a.UserIDs) > 0 {
			if err := tx.Table("users").Select("id, email, false AS brand").
				Where("id IN ? AND disabled_at IS NULL", a.UserIDs).Order("id").Find(&rs).Error; err != nil {
				return err
			}
		}
		if a.BrandID != 0 {
			var bs []recipient
			if err := tx.Table("users").Select("users.id, users.email, true AS brand").
				Joins("JOIN brand_members m ON m.user_id = users.id").
				Where("m.brand_id = ? AND users.disabled_at IS NULL", a.BrandID).Order("users.id").Find(&bs).Error; err != nil {
				return err
			}
			rs = append(rs, bs...)
		}
		now := database.Now(tx)
		var seen []int64
		for _, r := range rs {
			if slices.Contains(seen, r.ID) {
				continue
			}
			seen = append(seen, r.ID)
			link := a.Link
			if r.Brand && a.BrandLink != "" {
				link = a.BrandLink
			}
			var id int64
			if err := tx.Raw(`INSERT INTO notifications (user_id, kind, subject, link, created_at, job_id) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (job_id, user_id) DO NOTHING RETURNING id`, r.ID, string(a.Event), a.Subject, link, now, key).
				Scan(&id).Error; err != nil {
				return fmt.Errorf("notify %d: %w", r.ID, err)
			}
			if id == 0 {
				continue // written by an earlier run of this job
			}
			if w.Mailer != nil && r.Email != "" {
				if err := w.Queue.InsertTx(ctx, tx, MailArgs{NotificationID: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Service reads and marks a user's own notifications; every query is
// bounded by the user, so another user's notification is not found.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

// Unread counts the user's unread notifications (a partial index).
func (s *Service) Unread(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.Gorm.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", userID).Count(&n).Error
	return n, err
}

// List returns the user's latest notifications, newest first.
func (s *Service) List(ctx context.Context, userID int64, limit int) ([]Notification, error) {
	var ns []Notification
	err := s.db.Gorm.WithContext(ctx).Where("user_id = ?", userID).Order("id DESC").Limit(limit).Find(&ns).Error
	return ns, err
}

// MarkRead marks one of the user's notifications read (id 0: all of them).
func (s *Service) MarkRead(ctx context.Context, userID, id int64) error {
	q := s.db.Gorm.WithContext(ctx).Model(&Notification{}).Where("user_id = ? AND read_at IS NULL", userID)
	if id != 0 {
		q = q.Where("id = ?", id)
	}
	return q.Update("read_at", s.db.Now()).Error
}

// Open marks one of the user's notifications read and returns it.
func (s *Service) Open(ctx context.Context, userID, id int64) (Notification, error) {
	var n Notification
	if err := s.db.Gorm.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Take(&n).Error; err != nil {
		return n, database.NotFound(err)
	}
	return n, s.MarkRead(ctx, userID, id)
}
