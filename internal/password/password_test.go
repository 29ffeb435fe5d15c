package password

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// fast keeps the tests quick; the production parameters are checked below.
var fast = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashRoundTripsLongAndChinesePasswords(t *testing.T) {
	h := NewHasher(fast, 2)
	ctx := context.Background()
	for _, pw := range []string{"correct horse", "密码是八个字符吗", strings.Repeat("长", 300), "pässwörd-ü"} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		if err := h.Verify(ctx, pw, enc); err != nil {
			t.Errorf("Verify(%q) = %v", pw, err)
		}
		if err := h.Verify(ctx, pw+"x", enc); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(wrong) = %v, want ErrMismatch", err)
		}
	}
}

func TestValidateCountsCharactersNotBytes(t *testing.T) {
	if err := Validate("七个字的密码啊"); !errors.Is(err, ErrTooShort) {
		t.Errorf("7 Chinese characters: %v, want ErrTooShort", err)
	}
	if err := Validate("八个字的密码是的"); err != nil {
		t.Errorf("8 Chinese characters: %v", err)
	}
	if err := Validate(strings.Repeat("a", MaxLength+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("over MaxLength: %v", err)
	}
}

func TestDefaultParamsFollowOWASP(t *testing.T) {
	if Default.Memory != 19*1024 || Default.Time != 2 || Default.Threads != 1 {
		t.Fatalf("Default = %+v", Default)
	}
	h := NewHasher(Default, 1)
	enc, err := h.Hash(context.Background(), "a real password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("encoded = %s", enc)
	}
}

func TestUnknownAccountNeverMatches(t *testing.T) {
	h := NewHasher(fast, 1)
	if err := h.Verify(context.Background(), "", ""); !errors.Is(err, ErrMismatch) {
		t.Fatalf("empty hash verified: %v", err)
	}
}

func TestHashWaitsForAFreeSlot(t *testing.T) {
	h := NewHasher(fast, 1)
	if err := h.sem.Acquire(context.Background(), 1); err != nil { // occupy the only slot
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "long enough"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Hash with no free slot = %v, want a deadline error", err)
	}
	h.sem.Release(1)
	if _, err := h.Hash(context.Background(), "long enough"); err != nil {
		t.Fatalf("Hash after release = %v", err)
	}
}
