package sharing

import (
	"context"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/evidence"
)

// CaseFiles lists every file of a case for staff, withdrawn ones included.
func (s *Service) CaseFiles(ctx context.Context, actor authz.Actor, cs casework.Case) ([]evidence.Evidence, error) {
	if !authz.Can(actor, authz.ViewCase, cs.Subject()) {
		return nil, database.ErrNotFound
	}
	return evidence.ForCase(ctx, s.db.Gorm.WithContext(ctx), cs.ID)
}

// PurchaseFiles lists the files of a purchase for staff and for the
// purchase's own volunteer (owner: the purchase's volunteer), nothing
// staff added to the case itself.
func (s *Service) PurchaseFiles(ctx context.Context, actor authz.Actor, purchaseID, owner int64) ([]evidence.Evidence, error) {
	if !authz.Can(actor, authz.ViewPurchase, authz.Subject{Kind: "purchase", OwnerID: owner}) {
		return nil, database.ErrNotFound
	}
	return evidence.ForPurchase(ctx, s.db.Gorm.WithContext(ctx), purchaseID)
}

// Attach records files staff add to a case itself, with the visibility
// they chose.
func (s *Service) Attach(ctx context.Context, actor authz.Actor, cs casework.Case, vis evidence.Visibility, files []evidence.Upload) error {
	if !authz.Can(actor, authz.UploadEvidence, cs.Subject()) {
		return database.ErrNotFound
	}
	return evidence.Attach(ctx, s.db, actor, cs.ID, cs.Reference, vis, files)
}

// Withdraw records that file id was a mistaken upload, if the actor may
// withdraw it (staff; its uploader), and returns it with its case's
// reference.
func (s *Service) Withdraw(ctx context.Context, actor authz.Actor, id int64, reason string) (evidence.Evidence, string, error) {
	e, sub, err := s.Evidence(ctx, actor, id)
	if err != nil {
		return e, "", err
	}
	if sub.OwnerID = e.UploadedBy; !authz.Can(actor, authz.WithdrawEvidence, sub) {
		return evidence.Evidence{}, "", database.ErrNotFound
	}
	ref, err := casework.Reference(s.db.Gorm.WithContext(ctx), e.CaseID)
	if err != nil {
		return e, "", err
	}
	return e, ref, evidence.Withdraw(ctx, s.db, actor, e.ID, reason)
}
