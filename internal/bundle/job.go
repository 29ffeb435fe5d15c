package bundle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
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

func (w *Worker) Work(ctx context.Context, j *river.Job[Args]) error {
	db := w.DB.Gorm.WithContext(ctx)
	var b Build
	if err := db.Take(&b, j.Args.BundleID).Error; err != nil {
		return river.JobCancel(err)
	}
	if b.Status == "done" {
		return nil
	}
	var ref string
	if err := db.Raw("SELECT reference FROM cases WHERE id = ?", b.CaseID).Row().Scan(&ref); err != nil {
		return err
	}
	db.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"status": "building", "done": 0, "error": ""})
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
	progress := func(done, total int) {
		if time.Since(lastSave) > 500*time.Millisecond || done == total {
			lastSave = time.Now()
			db.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"done": done, "total": total})
		}
	}
	lang, _ := i18n.Parse(b.Lang)
	_, werr := Write(ctx, w.DB, w.Store, b.CaseID, b.Kind, lang, time.Now(), io.MultiWriter(bw, h, n), progress)
	if werr != nil {
		cancel() // the object is not written
		_ = bw.Close()
		db.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"status": "failed", "error": werr.Error(), "finished_at": time.Now().UTC()})
		if w.Logger != nil {
			w.Logger.ErrorContext(ctx, "bundle failed", "bundle", b.ID, "case", ref, "error", werr.Error())
		}
		return river.JobCancel(werr) // a tampered file will not heal by retrying
	}
	if err := bw.Close(); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	return w.DB.InTx(ctx, func(tx *gorm.DB) error {
		now := time.Now().UTC()
		if err := tx.Model(&Build{}).Where("id = ?", b.ID).Updates(map[string]any{"status": "done", "blob_key": key,
			"sha256": sum, "size": n.n, "finished_at": now}).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.built", ObjectType: "case", ObjectID: ref,
			Detail: map[string]any{"bundle_id": b.ID, "kind": b.Kind, "sha256": sum, "size": n.n}})
		return err
	})
}

type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
