// Package token keeps the API tokens with which the risk systems push
// flags. A token is shown once when made; only its SHA-256 is stored.
package token

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/valid"
)

// Token is a stored API token (never its secret).
type Token struct {
	ID         int64
	Name       string
	TokenHash  string `json:"-"`
	Prefix     string
	CreatedBy  *int64
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (Token) TableName() string { return "api_tokens" }

// ErrInvalid is the one answer for an unknown or revoked token.
var ErrInvalid = errors.New("invalid or revoked API token")

// Service holds the token use cases.
type Service struct{ db *database.DB }

func NewService(db *database.DB) *Service { return &Service{db: db} }

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a token and returns its secret, which is not kept.
func (s *Service) Create(ctx context.Context, createdBy int64, name string) (string, Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Token{}, valid.Errors{"name": "error.required"}
	}
	if len(name) > 100 {
		return "", Token{}, valid.Errors{"name": "error.too_long"}
	}
	secret := "sc_" + strings.ToLower(rand.Text()) + strings.ToLower(rand.Text())
	t := Token{Name: name, TokenHash: hash(secret), Prefix: secret[:9], CreatedAt: s.db.Now()}
	if createdBy != 0 {
		t.CreatedBy = &createdBy
	}
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "token.create", ObjectType: "api_token", ObjectID: t.ID,
			Detail: map[string]any{"name": t.Name, "prefix": t.Prefix}})
		return err
	})
	return secret, t, err
}

// List returns every token, newest first.
func (s *Service) List(ctx context.Context) ([]Token, error) {
	var ts []Token
	err := s.db.Gorm.WithContext(ctx).Order("id DESC").Find(&ts).Error
	return ts, err
}

// Revoke stops a token at once.
func (s *Service) Revoke(ctx context.Context, id int64) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var t Token
		if err := tx.Take(&t, id).Error; err != nil {
			return database.NotFound(err)
		}
		if t.RevokedAt != nil {
			return nil
		}
		if err := tx.Model(&Token{}).Where("id = ?", id).Update("revoked_at", s.db.Now()).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "token.revoke", ObjectType: "api_token", ObjectID: id,
			Detail: map[string]any{"name": t.Name}})
		return err
	})
}

// Authenticate returns the live token with this secret, noting its use
// (at most once a minute, so a busy client does not write on every call).
func (s *Service) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, "sc_") || len(secret) > 200 {
		return Token{}, ErrInvalid
	}
	var t Token
	err := s.db.Gorm.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hash(secret)).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Token{}, ErrInvalid
	}
	if err != nil {
		return Token{}, err
	}
	now := s.db.Now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > time.Minute {
		if err := s.db.Gorm.WithContext(ctx).Model(&Token{}).Where("id = ?", t.ID).Update("last_used_at", now).Error; err != nil {
			return Token{}, err
		}
		t.LastUsedAt = &now
	}
	return t, nil
}
