package evidence

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/valid"
)

// ErrWithdrawn: the file was already withdrawn; a withdrawal is final.
var ErrWithdrawn = errors.New("the file was already withdrawn")

// Upload is a file put in storage by a request, with the kind the form
// gave it, waiting for the use case that records it.
type Upload struct {
	Kind   Kind
	Stored Stored
}

// New is one file to record.
type New struct {
	CaseID         int64
	PurchaseID     *int64
	CustodyEventID *int64
	Kind           Kind
	Visibility     Visibility
	Stored         Stored
}

// RecordTx puts files on record inside the caller's transaction, uploaded
// by actor now, with one audit event per file. caseRef names the case in
// the audit trail. If tx rolls back, the caller discards the stored files
// with Store.Delete.
func RecordTx(ctx context.Context, tx *gorm.DB, actor authz.Actor, caseRef string, in []New) ([]Evidence, error) {
	if actor.UserID == 0 {
		return nil, errors.New("evidence: an upload needs a signed-in actor")
	}
	tx = tx.WithContext(ctx)
	now := database.Now(tx).Truncate(time.Microsecond)
	out := make([]Evidence, 0, len(in))
	for _, n := range in {
		if err := n.check(); err != nil {
			return nil, err
		}
		e := Evidence{CaseID: n.CaseID, PurchaseID: n.PurchaseID, CustodyEventID: n.CustodyEventID, Kind: n.Kind,
			BlobKey: n.Stored.Key, SHA256: n.Stored.SHA256, Size: n.Stored.Size, ContentType: n.Stored.ContentType,
			OriginalName: n.Stored.OriginalName, Visibility: n.Visibility, UploadedBy: actor.UserID, UploadedAt: now}
		if err := tx.Create(&e).Error; err != nil {
			return nil, fmt.Errorf("record evidence: %w", err)
		}
		out = append(out, e)
	}
	// The audit appends come last: each holds the chain's lock to commit.
	for _, e := range out {
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "evidence.upload", ObjectType: "evidence", ObjectID: e.ID,
			Detail: map[string]any{"case": caseRef, "kind": e.Kind, "sha256": e.SHA256, "size": e.Size,
				"content_type": e.ContentType, "visibility": e.Visibility, "purchase_id": e.PurchaseID,
				"custody_event_id": e.CustodyEventID}}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// check refuses what no form should send and what Put never returns.
func (n New) check() error {
	errs := valid.Errors{}
	if _, err := ParseKind(string(n.Kind)); err != nil {
		errs.Add("kind", "error.invalid")
	}
	if _, err := ParseVisibility(string(n.Visibility)); err != nil {
		errs.Add("visibility", "error.invalid")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	st := n.Stored
	if n.CaseID == 0 || st.Key == "" || len(st.SHA256) != 64 || st.Size <= 0 || st.ContentType == "" {
		return fmt.Errorf("evidence: incomplete file to record (case %d, key %q)", n.CaseID, st.Key)
	}
	return nil
}

// Attach records files that staff add to a case itself, outside any
// purchase, all with one visibility.
func Attach(ctx context.Context, db *database.DB, actor authz.Actor, caseID int64, caseRef string, vis Visibility, files []Upload) error {
	if len(files) == 0 {
		return valid.Errors{"files": "error.required"}
	}
	in := make([]New, len(files))
	for i, f := range files {
		in[i] = New{CaseID: caseID, Kind: f.Kind, Visibility: vis, Stored: f.Stored}
	}
	return db.InTx(ctx, func(tx *gorm.DB) error {
		_, err := RecordTx(ctx, tx, actor, caseRef, in)
		return err
	})
}

// maxReasonRunes bounds a withdrawal's reason.
const maxReasonRunes = 2000

// Withdraw marks file id as a mistaken upload, in its own transaction.
// Who may withdraw is the caller's decision.
func Withdraw(ctx context.Context, db *database.DB, actor authz.Actor, id int64, reason string) error {
	return db.InTx(ctx, func(tx *gorm.DB) error { return WithdrawTx(ctx, tx, actor, id, reason) })
}

// WithdrawTx marks file id as a mistaken upload inside tx. The file and
// its row stay; the withdrawal (who, when, why) cannot be changed later.
func WithdrawTx(ctx context.Context, tx *gorm.DB, actor authz.Actor, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return valid.Errors{"reason": "error.reason_required"}
	case utf8.RuneCountInString(reason) > maxReasonRunes:
		return valid.Errors{"reason": "error.too_long"}
	case actor.UserID == 0:
		return errors.New("evidence: a withdrawal needs a signed-in actor")
	}
	tx = tx.WithContext(ctx)
	now := database.Now(tx).Truncate(time.Microsecond)
	res := tx.Model(&Evidence{}).Where("id = ? AND withdrawn_at IS NULL", id).
		Updates(map[string]any{"withdrawn_at": now, "withdrawn_by": actor.UserID, "withdrawn_reason": reason})
	if res.Error != nil {
		return fmt.Errorf("withdraw evidence: %w", res.Error)
	}
	var e Evidence
	if err := tx.Take(&e, id).Error; err != nil {
		return database.NotFound(err)
	}
	if res.RowsAffected != 1 {
		return ErrWithdrawn
	}
	var ref string
	if err := tx.Table("cases").Select("reference").Where("id = ?", e.CaseID).Take(&ref).Error; err != nil {
		return err
	}
	_, err := audit.Append(ctx, tx, audit.Record{Action: "evidence.withdraw", ObjectType: "evidence", ObjectID: e.ID,
		Detail: map[string]any{"case": ref, "kind": e.Kind, "sha256": e.SHA256, "reason": reason}})
	return err
}

// Get loads one file's row.
func Get(ctx context.Context, db *gorm.DB, id int64) (Evidence, error) {
	var e Evidence
	if err := db.WithContext(ctx).Take(&e, id).Error; err != nil {
		return Evidence{}, database.NotFound(err)
	}
	return e, nil
}

// ForCase lists a case's files, withdrawn ones included, oldest first.
func ForCase(ctx context.Context, db *gorm.DB, caseID int64) ([]Evidence, error) {
	var out []Evidence
	err := db.WithContext(ctx).Where("case_id = ?", caseID).Order("id").Find(&out).Error
	return out, err
}

// ForPurchase lists the files of one purchase, withdrawn ones included,
// oldest first: what its volunteer is shown, and nothing else of the case.
func ForPurchase(ctx context.Context, db *gorm.DB, purchaseID int64) ([]Evidence, error) {
	var out []Evidence
	err := db.WithContext(ctx).Where("purchase_id = ?", purchaseID).Order("id").Find(&out).Error
	return out, err
}
