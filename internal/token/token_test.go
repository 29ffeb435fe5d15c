package token_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/token"
)

func TestTokensAreShownOnceStoredHashedAndRevocable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := token.NewService(db)
		ctx := context.Background()
		secret, tok, err := s.Create(ctx, 0, "risk-model-7")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "sc_") || len(secret) < 40 || !strings.HasPrefix(secret, tok.Prefix) {
			t.Fatalf("secret %q prefix %q", secret, tok.Prefix)
		}
		var stored string
		if err := db.Gorm.Raw("SELECT token_hash FROM api_tokens WHERE id = ?", tok.ID).Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if stored == "" || strings.Contains(stored, secret[3:]) {
			t.Fatal("the secret is stored in clear")
		}
		got, err := s.Authenticate(ctx, secret)
		if err != nil || got.ID != tok.ID || got.LastUsedAt == nil {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if _, err := s.Authenticate(ctx, secret+"x"); !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("wrong secret: %v", err)
		}
		if err := s.Revoke(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("revoked token: %v", err)
		}
		if _, _, err := s.Create(ctx, 0, " "); err == nil {
			t.Fatal("unnamed token")
		}
	})
}
