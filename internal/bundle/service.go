package bundle

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/valid"
)

// Service requests, lists and finds a case's bundles; a Worker builds them.
type Service struct {
	db    *database.DB
	store *evidence.Store
	queue Inserter
}

// NewService returns the bundle service; queue takes the build jobs.
func NewService(db *database.DB, store *evidence.Store, queue Inserter) *Service {
	return &Service{db: db, store: store, queue: queue}
}

// Request queues a redacted bundle of the case in the actor's language;
// the request is audited.
func (s *Service) Request(ctx context.Context, actor authz.Actor, caseID int64, lang i18n.Lang) (Build, error) {
	return s.request(ctx, actor, caseID, lang, Redacted, "")
}

// RequestUnredacted queues the unredacted export of the case for a court
// order. The reason (the order, who asked) is required and goes on the
// audit trail with the requester as a bundle.unredacted event.
func (s *Service) RequestUnredacted(ctx context.Context, actor authz.Actor, caseID int64, lang i18n.Lang, reason string) (Build, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		errs := valid.Errors{}
		errs.Add("reason", "error.required")
		return Build{}, errs.Err()
	}
	return s.request(ctx, actor, caseID, lang, Unredacted, reason)
}

func (s *Service) request(ctx context.Context, actor authz.Actor, caseID int64, lang i18n.Lang, kind Kind, reason string) (Build, error) {
	var b Build
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		var c casework.Case
		if err := tx.Take(&c, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.Enforce, c.Subject()) {
			return database.ErrNotFound
		}
		b = Build{CaseID: caseID, RequestedBy: actor.UserID, Lang: string(lang), Kind: kind, Status: "queued", CreatedAt: s.db.Now()}
		if err := tx.Create(&b).Error; err != nil {
			return err
		}
		if err := s.queue.InsertTx(ctx, tx, Args{BundleID: b.ID}); err != nil {
			return err
		}
		if kind == Unredacted {
			if _, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.unredacted", ObjectType: "case", ObjectID: c.Reference,
				Detail: map[string]any{"bundle_id": b.ID, "lang": lang, "requested_by": actor.UserID, "reason": reason}}); err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.request", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"bundle_id": b.ID, "lang": lang, "kind": kind}})
		return err
	})
	return b, err
}

// Builds lists a case's bundles, newest first.
func (s *Service) Builds(ctx context.Context, caseID int64) ([]Build, error) {
	var bs []Build
	err := s.db.Gorm.WithContext(ctx).Where("case_id = ?", caseID).Order("id DESC").Limit(20).Find(&bs).Error
	return bs, err
}

// Get loads bundle id of case caseID; another case's is not found.
func (s *Service) Get(ctx context.Context, caseID, id int64) (Build, error) {
	var b Build
	err := s.db.Gorm.WithContext(ctx).Where("case_id = ?", caseID).Take(&b, id).Error
	return b, database.NotFound(err)
}
