package user_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/user"
)

// TestOneAccountsFailuresDoNotLockOutTheOffice: five wrong passwords for
// one account from an office's address throttle that account, not the
// others signing in from the same address.
func TestOneAccountsFailuresDoNotLockOutTheOffice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newService(db)
		ctx := context.Background()
		for _, e := range []string{"a@x.test", "b@x.test"} {
			if _, err := s.Create(ctx, user.New{Email: e, Name: e, Role: "staff", Password: "long enough"}); err != nil {
				t.Fatal(err)
			}
		}
		const office = "192.0.2.7"
		for i := range 5 {
			if _, err := s.SignIn(ctx, "a@x.test", "nope nope", office); !errors.Is(err, user.ErrBadCredentials) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err := s.SignIn(ctx, "b@x.test", "long enough", office); err != nil {
			t.Fatalf("a colleague from the same address: %v, want signed in", err)
		}
		if _, err := s.SignIn(ctx, "b@x.test", "wrong again", office); !errors.Is(err, user.ErrBadCredentials) {
			t.Fatalf("a colleague's typo: %v, want bad credentials, not throttled", err)
		}
		var te *user.ThrottledError
		if _, err := s.SignIn(ctx, "a@x.test", "long enough", office); !errors.As(err, &te) {
			t.Fatalf("the throttled account with its right password: %v, want throttled", err)
		}
	})
}

// TestSignInFromASprayingAddressNeedsTheRightPassword: past the looser
// per-address limit (ten times the per-account one) a wrong password is
// refused as throttled, but the right one still signs in.
func TestSignInFromASprayingAddressNeedsTheRightPassword(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newService(db) // 5 per account, so 50 per address
		ctx := context.Background()
		if _, err := s.Create(ctx, user.New{Email: "s@x.test", Name: "S", Role: "staff", Password: "long enough"}); err != nil {
			t.Fatal(err)
		}
		const nat = "192.0.2.50"
		for i := range 50 {
			if _, err := s.SignIn(ctx, "u"+strconv.Itoa(i)+"@x.test", "nope nope", nat); !errors.Is(err, user.ErrBadCredentials) {
				t.Fatalf("spray %d: %v", i, err)
			}
		}
		var te *user.ThrottledError
		if _, err := s.SignIn(ctx, "other@x.test", "nope nope", nat); !errors.As(err, &te) || te.RetryAfter <= 0 {
			t.Fatalf("51st failure from the address: %v, want throttled", err)
		}
		if _, err := s.SignIn(ctx, "s@x.test", "long enough", nat); err != nil {
			t.Fatalf("the right password from the throttled address: %v, want signed in", err)
		}
	})
}

// TestSignInElsewhereDoesNotRefreshAnAttackersBudget: the owner signing in
// clears the account's failures, but not those of (account, address) pairs
// elsewhere.
func TestSignInElsewhereDoesNotRefreshAnAttackersBudget(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newService(db)
		ctx := context.Background()
		if _, err := s.Create(ctx, user.New{Email: "s@x.test", Name: "S", Role: "staff", Password: "long enough"}); err != nil {
			t.Fatal(err)
		}
		const attacker, owner = "203.0.113.66", "192.0.2.1"
		for range 4 {
			_, _ = s.SignIn(ctx, "s@x.test", "guess guess", attacker)
		}
		if _, err := s.SignIn(ctx, "s@x.test", "long enough", owner); err != nil {
			t.Fatalf("owner: %v", err)
		}
		if _, err := s.SignIn(ctx, "s@x.test", "guess guess", attacker); !errors.Is(err, user.ErrBadCredentials) {
			t.Fatalf("attacker's 5th guess: %v", err)
		}
		var te *user.ThrottledError
		if _, err := s.SignIn(ctx, "s@x.test", "long enough", attacker); !errors.As(err, &te) {
			t.Fatalf("attacker's 6th try: %v, want throttled", err)
		}
		if _, err := s.SignIn(ctx, "s@x.test", "long enough", owner); err != nil {
			t.Fatalf("owner again: %v", err)
		}
	})
}

// TestConcurrentGuessesBeyondTheLimitAreNeverChecked fires 50 wrong
// passwords at one account at once: at most the limit are checked against
// the hash, and the right password is refused afterwards.
func TestConcurrentGuessesBeyondTheLimitAreNeverChecked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newService(db)
		ctx := context.Background()
		if _, err := s.Create(ctx, user.New{Email: "s@x.test", Name: "S", Role: "staff", Password: "long enough"}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Go(func() {
				_, err := s.SignIn(ctx, "s@x.test", "guess "+strconv.Itoa(i), "198.51.100."+strconv.Itoa(i))
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		bad, throttled := 0, 0
		for err := range errs {
			var te *user.ThrottledError
			switch {
			case errors.Is(err, user.ErrBadCredentials):
				bad++
			case errors.As(err, &te):
				throttled++
			default:
				t.Errorf("unexpected answer: %v", err)
			}
		}
		// Each guess checked against the hash is audited as a bad password
		// and recorded as a failure of the account.
		var checked, recorded int64
		if err := db.Gorm.Model(&audit.Event{}).Where("action = 'auth.signin' AND outcome = 'failure'").Count(&checked).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("login_failures").Where("key = ?", "account:s@x.test").Count(&recorded).Error; err != nil {
			t.Fatal(err)
		}
		if bad != 5 || throttled != 45 || checked != 5 || recorded != 5 {
			t.Fatalf("bad %d, throttled %d, checked %d, recorded %d; want 5, 45, 5, 5", bad, throttled, checked, recorded)
		}
		var te *user.ThrottledError
		if _, err := s.SignIn(ctx, "s@x.test", "long enough", "192.0.2.99"); !errors.As(err, &te) {
			t.Fatalf("the right password while throttled: %v, want throttled", err)
		}
	})
}
