package flag

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/database"
)

// Replay is a stored answer to an earlier request with the same
// Idempotency-Key.
type Replay struct {
	RequestHash string
	Status      int
	Response    string
}

type idempotencyKey struct {
	TokenID     int64
	Key         string
	RequestHash string
	Status      int
	Response    string
	CreatedAt   time.Time
}

func (idempotencyKey) TableName() string { return "idempotency_keys" }

// FindReplay returns the stored answer for (token, key), if any.
func (s *Service) FindReplay(ctx context.Context, tokenID int64, key string) (Replay, bool, error) {
	var k idempotencyKey
	err := s.db.Gorm.WithContext(ctx).Where("token_id = ? AND key = ?", tokenID, key).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Replay{}, false, nil
	}
	if err != nil {
		return Replay{}, false, err
	}
	return Replay{RequestHash: k.RequestHash, Status: k.Status, Response: k.Response}, true, nil
}

// ErrKeyTaken: another request with the same key committed first.
var ErrKeyTaken = errors.New("idempotency key used concurrently")

// SaveReplay stores the answer inside the ingestion's transaction, so the
// answer exists exactly when the writes do.
func SaveReplay(tx *gorm.DB, tokenID int64, key string, r Replay) error {
	err := tx.Create(&idempotencyKey{TokenID: tokenID, Key: key, RequestHash: r.RequestHash, Status: r.Status,
		Response: r.Response, CreatedAt: database.Now(tx)}).Error
	if database.IsUniqueViolation(err) {
		return ErrKeyTaken
	}
	return err
}

// PurgeReplays deletes stored answers older than d.
func (s *Service) PurgeReplays(ctx context.Context, d time.Duration) (int64, error) {
	res := s.db.Gorm.WithContext(ctx).Where("created_at < ?", s.db.Now().Add(-d)).Delete(&idempotencyKey{})
	return res.RowsAffected, res.Error
}
