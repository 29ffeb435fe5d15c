package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
)

// Build is one requested bundle: built by a background job into blob
// storage, with its progress, then downloaded.
type Build struct {
	ID          int64
	CaseID      int64
	RequestedBy int64
	Lang        string
	Kind        Kind   `gorm:"default:redacted"` // the zero value is the default bundle
	Status      string // queued, building, done, failed
	Done        int
	Total       int
	BlobKey     string
	SHA256      string
	Size        int64
	Error       string
	CreatedAt   time.Time
	FinishedAt  *time.Time
}

func (Build) TableName() string { return "bundles" }

// Why a build failed for good, kept in its Error; the case page says it
// in the reader's language.
const (
	FailTampered = "tampered" // a stored file does not match its record
	FailNoCase   = "no_case"  // the case is not there
	FailGaveUp   = "gave_up"  // storage or the database failed on every attempt
)

// Args is the job that builds one bundle.
type Args struct {
	BundleID int64 `json:"bundle_id"`
}

func (Args) Kind() string { return "bundle.build" }

// maxAttempts: with retryDelay, about a quarter of an hour of outages
// before a bundle fails with FailGaveUp.
const maxAttempts = 6

// InsertOpts: one job per bundle, retried on transient errors.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// Inserter puts a job in the caller's transaction.
type Inserter interface {
	InsertTx(ctx context.Context, tx *gorm.DB, args river.JobArgs) error
}

// Worker builds a requested bundle into blob storage, hashing the ZIP as
// it streams, and records where it is.
type Worker struct {
	river.WorkerDefaults[Args]
	DB     *database.DB
	Store  *evidence.Store
	Logger *slog.Logger
}

// Timeout: a case with many large files takes a while.
func (w *Worker) Timeout(*river.Job[Args]) time.Duration { return time.Hour }

// NextRetry waits 30 s after the first failure, doubling up to 8 min.
func (w *Worker) NextRetry(j *river.Job[Args]) time.Time {
	return time.Now().Add(retryDelay(j.Attempt))
}

func retryDelay(attempt int) time.Duration {
	return 30 * time.Second << min(max(attempt-1, 0), 4)
}

// Work builds the bundle. It is safe to rerun (River runs a job at least
// once): the bundle row is the job's key, a done or failed bundle is left
// as it is, the ZIP goes to the same object and the bundle.built event is
// appended with the done status, in one transaction.
//
// A tampered file or a missing case fails the bundle for good, with the
// reason in its row; any other error (a shutdown, the database or the
// store not answering) is returned for River to retry, and fails the
// bundle only on the last attempt.
func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	var b Build
	if err := w.DB.Gorm.WithContext(ctx).Take(&b, j.Args.BundleID).Error; err != nil {
		if errors.Is(database.NotFound(err), database.ErrNotFound) {
			return river.JobCancel(err) // no bundle to build or to record a failure in
		}
		return err
	}
	if b.Status == "done" || b.Status == "failed" {
		return nil
	}
	err := w.build(ctx, b)
	var reason string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrTampered):
		reason = FailTampered
	case errors.Is(err, database.ErrNotFound):
		reason = FailNoCase
	case j.JobRow == nil || j.Attempt >= j.MaxAttempts:
		reason = FailGaveUp
	default:
		w.logger().WarnContext(ctx, "bundle failed, to be retried", "bundle", b.ID, "attempt", j.Attempt, "error", err.Error())
		if serr := w.setStatus(ctx, b.ID, map[string]any{"status": "queued"}); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	w.logger().ErrorContext(ctx, "bundle failed", "bundle", b.ID, "reason", reason, "error", err.Error())
	if serr := w.setStatus(ctx, b.ID, map[string]any{"status": "failed", "error": reason, "finished_at": w.DB.Now()}); serr != nil {
		return errors.Join(err, serr) // retried: the rerun records the failure
	}
	if reason == FailGaveUp {
		return err
	}
	return river.JobCancel(err) // a tampered file or a missing case will not heal by retrying
}

func (w *Worker) build(ctx context.Context, b Build) error {
	db := w.DB.Gorm.WithContext(ctx)
	ref, err := casework.Reference(db, b.CaseID)
	if err != nil {
		return fmt.Errorf("bundle %d: case %d: %w", b.ID, b.CaseID, err)
	}
	if err := w.setStatus(ctx, b.ID, map[string]any{"status": "building", "done": 0, "error": ""}); err != nil {
		return err
	}
	key := fmt.Sprintf("bundles/%s/%d-%s.zip", ref, b.ID, b.Kind)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	bw, err := w.Store.Bucket.NewWriter(wctx, key, nil)
	if err != nil {
		return err
	}
	h := sha256.New()
	n := &counter{}
	lastSave := time.Now()
	var perr error // a progress update that failed stops the build
	progress := func(done, total int) {
		if perr == nil && (time.Since(lastSave) > 500*time.Millisecond || done == total) {
			lastSave = time.Now()
			if err := db.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"done": done, "total": total}).Error; err != nil {
				perr = fmt.Errorf("bundle %d progress: %w", b.ID, err)
				cancel()
			}
		}
	}
	lang, _ := i18n.Parse(b.Lang)
	_, werr := Write(wctx, w.DB, w.Store, b.CaseID, b.Kind, lang, w.DB.Now(), io.MultiWriter(bw, h, n), progress)
	if perr != nil {
		werr = perr
	}
	if werr != nil {
		cancel() // the object is not written
		_ = bw.Close()
		return werr
	}
	if err := bw.Close(); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return w.DB.InTx(ctx, func(tx *gorm.DB) error {
		now := w.DB.Now()
		if err := tx.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"status": "done", "blob_key": key,
			"sha256": sum, "size": n.n, "finished_at": now}).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.built", ObjectType: "case", ObjectID: ref,
			Detail: map[string]any{"bundle_id": b.ID, "kind": b.Kind, "sha256": sum, "size": n.n}})
		return err
	})
}

// setStatus records a bundle's status even when ctx is cancelled (a
// shutdown): the page must not show a bundle as building when it is not.
func (w *Worker) setStatus(ctx context.Context, id int64, fields map[string]any) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.DB.Gorm.WithContext(ctx).Model(&Build{}).Where("id = ?", id).Updates(fields).Error; err != nil {
		return fmt.Errorf("bundle %d: record status %v: %w", id, fields["status"], err)
	}
	return nil
}

func (w *Worker) logger() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
