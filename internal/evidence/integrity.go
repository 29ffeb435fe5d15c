package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"time"

	"gocloud.dev/gcerrors"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
)

// Missing is the found hash of a file that is no longer in storage.
const Missing = "missing"

// checkPage is how many rows the check holds at a time.
const checkPage = 200

// Checker re-reads stored files and compares them with their record.
type Checker struct {
	DB     *database.DB
	Store  *Store
	Logger *slog.Logger
}

// Fault is a stored file that no longer matches its record.
type Fault struct {
	EvidenceID int64
	CaseID     int64
	Key        string
	Expected   string // the recorded SHA-256
	Found      string // the SHA-256 read now, or Missing
	Size       int64  // the recorded size
	FoundSize  int64
	New        bool // found on this run (false: already known from an earlier one)
}

// CheckReport is the outcome of one check (the name Report is the kind).
type CheckReport struct {
	Checked    int     // files read and compared
	Faults     []Fault // every file that does not match, new or known
	Unreadable int     // files that could not be read this time (not a fault: retried next run)
}

// Check reads every stored file in id order, one page of rows at a time,
// and recomputes its hash and size. Each file read gets checked_at; a file
// that is missing or changed gets fault_at and one audit event the first
// time it is found, and an error in the log on every run until it is put
// right. A file found whole again has its fault cleared, on the record.
func (c *Checker) Check(ctx context.Context) (CheckReport, error) {
	var rep CheckReport
	var after int64
	for {
		var page []Evidence
		err := c.DB.Gorm.WithContext(ctx).Select("id", "case_id", "blob_key", "sha256", "size", "fault_at").
			Where("id > ?", after).Order("id").Limit(checkPage).Find(&page).Error
		if err != nil {
			return rep, fmt.Errorf("integrity check: %w", err)
		}
		if len(page) == 0 {
			break
		}
		var clean []int64
		for _, e := range page {
			after = e.ID
			f, err := c.read(ctx, e)
			if err != nil {
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				rep.Unreadable++
				c.logger().ErrorContext(ctx, "evidence integrity: file could not be read", "evidence_id", e.ID, "key", e.BlobKey, "error", err.Error())
				continue
			}
			rep.Checked++
			if f == nil {
				if e.FaultAt != nil {
					if err := c.restored(ctx, e); err != nil {
						return rep, err
					}
					continue
				}
				clean = append(clean, e.ID)
				continue
			}
			if err := c.fault(ctx, e, f); err != nil {
				return rep, err
			}
			rep.Faults = append(rep.Faults, *f)
		}
		if len(clean) > 0 {
			err := c.DB.Gorm.WithContext(ctx).Model(&Evidence{}).Where("id IN ?", clean).Update("checked_at", c.DB.Now().Truncate(time.Microsecond)).Error
			if err != nil {
				return rep, fmt.Errorf("integrity check: %w", err)
			}
		}
	}
	if rep.Unreadable > 0 {
		return rep, fmt.Errorf("integrity check: %d files could not be read", rep.Unreadable)
	}
	return rep, nil
}

// read hashes one stored file: nil when it matches its record.
func (c *Checker) read(ctx context.Context, e Evidence) (*Fault, error) {
	f := &Fault{EvidenceID: e.ID, CaseID: e.CaseID, Key: e.BlobKey, Expected: e.SHA256, Size: e.Size}
	r, err := c.Store.Open(ctx, e.BlobKey)
	if gcerrors.Code(err) == gcerrors.NotFound {
		f.Found = Missing
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	h := sha256.New()
	if f.FoundSize, err = io.Copy(h, r); err != nil {
		return nil, err
	}
	f.Found = hex.EncodeToString(h.Sum(nil))
	if f.Found == e.SHA256 && f.FoundSize == e.Size {
		return nil, nil
	}
	return f, nil
}

// fault records a mismatch: the audit event only when fault_at was not
// yet set, so that a known fault is not appended again on every run.
func (c *Checker) fault(ctx context.Context, e Evidence, f *Fault) error {
	c.logger().ErrorContext(ctx, "evidence integrity fault: the stored file does not match its record",
		"evidence_id", e.ID, "case_id", e.CaseID, "key", e.BlobKey, "expected", f.Expected, "found", f.Found,
		"size", e.Size, "found_size", f.FoundSize)
	return c.DB.InTx(ctx, func(tx *gorm.DB) error {
		at := c.DB.Now().Truncate(time.Microsecond)
		res := tx.Model(&Evidence{}).Where("id = ? AND fault_at IS NULL", e.ID).Updates(map[string]any{"checked_at": at, "fault_at": at})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tx.Model(&Evidence{}).Where("id = ?", e.ID).Update("checked_at", at).Error
		}
		f.New = true
		_, err := audit.Append(ctx, tx, audit.Record{Action: "evidence.integrity_fault", ObjectType: "evidence", ObjectID: e.ID,
			Outcome: audit.Failure, Detail: map[string]any{"case_id": e.CaseID, "key": e.BlobKey, "expected": f.Expected,
				"found": f.Found, "size": e.Size, "found_size": f.FoundSize}})
		return err
	})
}

// restored clears the fault of a file that matches again (put back from a
// backup), with an audit event saying so.
func (c *Checker) restored(ctx context.Context, e Evidence) error {
	c.logger().WarnContext(ctx, "evidence integrity: a faulty file matches its record again", "evidence_id", e.ID, "key", e.BlobKey)
	return c.DB.InTx(ctx, func(tx *gorm.DB) error {
		at := c.DB.Now().Truncate(time.Microsecond)
		res := tx.Model(&Evidence{}).Where("id = ? AND fault_at IS NOT NULL", e.ID).Updates(map[string]any{"checked_at": at, "fault_at": nil})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "evidence.integrity_restored", ObjectType: "evidence", ObjectID: e.ID,
			Detail: map[string]any{"case_id": e.CaseID, "key": e.BlobKey, "sha256": e.SHA256, "fault_at": e.FaultAt}})
		return err
	})
}

func (c *Checker) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}
