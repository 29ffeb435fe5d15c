package user

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
)

// ErrBadCredentials is the one answer for an unknown e-mail, a wrong
// password and a disabled account, so that none can be told apart.
var ErrBadCredentials = errors.New("bad credentials")

// ThrottledError says sign-in is refused for a while.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; retry after %s", e.RetryAfter)
}

type loginFailure struct {
	ID       int64
	Key      string
	FailedAt time.Time
}

func (loginFailure) TableName() string { return "login_failures" }

// addressFactor is how many times the per-account limit one client address
// may fail across accounts before it is slowed down (password spraying).
const addressFactor = 10

// addressDelay is the friction on a sign-in from a throttled address: the
// right password still gets in, after this wait.
const addressDelay = time.Second

// throttleKeys are the counters one attempt is counted against.
type throttleKeys struct {
	account string // any address: the hard limit (NIST SP 800-63B-4, 3.2.2)
	pair    string // this account from this address: kept when the owner signs in elsewhere
	address string // any account from this address: the looser spraying limit
}

func keysFor(email, clientIP string) throttleKeys {
	return throttleKeys{account: "account:" + email, pair: "pair:" + email + "|" + clientIP, address: "ip:" + clientIP}
}

// SignIn checks an e-mail and password from clientIP. After MaxFailures
// failures within Window for the account, or for the account from this
// address, it refuses with a *ThrottledError without looking at the
// password, the right one included. After ten times as many failures from
// the address across accounts, it checks the password after a short delay:
// the right one signs in, a wrong one is refused as throttled. Every
// attempt is audited.
func (s *Service) SignIn(ctx context.Context, email, pw, clientIP string) (User, error) {
	email = NormalizeEmail(email)
	keys := keysFor(email, clientIP)
	wait, addrWait, err := s.reserve(ctx, keys)
	if err != nil {
		return User{}, err
	}
	if wait > 0 {
		s.auditSignIn(ctx, 0, email, audit.Denied, "throttled")
		return User{}, &ThrottledError{RetryAfter: wait}
	}
	if addrWait > 0 {
		select {
		case <-time.After(addressDelay):
		case <-ctx.Done():
			return User{}, ctx.Err()
		}
	}

	u, err := s.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, database.ErrNotFound) {
		return User{}, err
	}
	verr := s.hasher.Verify(ctx, pw, u.PasswordHash) // a dummy hash when u is unknown
	if verr == nil && !u.Disabled() {
		err := s.db.InTx(ctx, func(tx *gorm.DB) error {
			// The attempt's reservation goes with the account's failures;
			// other addresses' pairs stay counted.
			if err := tx.Where("key IN ?", []string{keys.account, keys.pair}).Delete(&loginFailure{}).Error; err != nil {
				return err
			}
			_, err := audit.Append(audit.WithOrigin(ctx, s.originFor(ctx, u)), tx, audit.Record{
				Action: "auth.signin", ObjectType: "user", ObjectID: u.ID, Detail: map[string]any{"email": email}})
			return err
		})
		return u, err
	}
	reason := "bad_password"
	switch {
	case u.ID == 0:
		reason = "unknown_email"
	case u.Disabled():
		reason = "disabled"
	}
	// The reservation stays as the failure of the account and the pair.
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&loginFailure{Key: keys.address, FailedAt: s.db.Now()}).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "auth.signin", ObjectType: "user", ObjectID: u.ID,
			Outcome: audit.Failure, Detail: map[string]any{"email": email, "reason": reason}})
		return err
	})
	if err != nil {
		return User{}, err
	}
	if addrWait > 0 {
		return User{}, &ThrottledError{RetryAfter: addrWait}
	}
	return User{}, ErrBadCredentials
}

// reserve checks the account and pair limits and, when neither is reached,
// records the attempt as a failure of both before the password is checked,
// in one transaction that no other attempt at the account can interleave
// with: on PostgreSQL it holds a transaction lock on the account's key, on
// SQLite the transaction begins IMMEDIATE on the one connection. So
// parallel guesses beyond the limit find the limit reached. It also says
// how long the address is throttled for (0: not).
func (s *Service) reserve(ctx context.Context, k throttleKeys) (wait, addrWait time.Duration, err error) {
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		if database.IsPostgres(tx) {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", k.account).Error; err != nil {
				return err
			}
		}
		now := s.db.Now()
		for _, key := range []string{k.account, k.pair} {
			w, err := s.throttled(tx, key, s.limits.MaxFailures, now)
			if err != nil {
				return err
			}
			wait = max(wait, w)
		}
		if wait > 0 {
			return nil
		}
		if addrWait, err = s.throttled(tx, k.address, addressFactor*s.limits.MaxFailures, now); err != nil {
			return err
		}
		return tx.Create([]loginFailure{{Key: k.account, FailedAt: now}, {Key: k.pair, FailedAt: now}}).Error
	})
	return wait, addrWait, err
}
func (s *Service) originFor(ctx context.Context, u User) audit.Origin {
	o := audit.OriginFrom(ctx)
	o.ActorID, o.ActorRole = u.ID, u.Role.String()
	return o
}

func (s *Service) auditSignIn(ctx context.Context, id int64, email, outcome, reason string) {
	_ = s.db.InTx(ctx, func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, audit.Record{Action: "auth.signin", ObjectType: "user", ObjectID: id,
			Outcome: outcome, Detail: map[string]any{"email": email, "reason": reason}})
		return err
	})
}

// throttled returns how long to wait before key may try again, or 0 when
// it has fewer than limit failures within the window.
func (s *Service) throttled(tx *gorm.DB, key string, limit int, now time.Time) (time.Duration, error) {
	var times []time.Time
	err := tx.Model(&loginFailure{}).
		Where("key = ? AND failed_at > ?", key, now.Add(-s.limits.Window)).Order("failed_at DESC").
		Limit(limit).Pluck("failed_at", &times).Error
	if err != nil || len(times) < limit {
		return 0, err
	}
	// Free again when the oldest of the last limit leaves the window.
	return max(times[len(times)-1].Add(s.limits.Window).Sub(now), time.Second), nil
}

// PurgeExpired deletes sign-in failures older than the window and expired
// sessions; the maintenance job calls it.
func (s *Service) PurgeExpired(ctx context.Context) (failures, sessions int64, err error) {
	db := s.db.Gorm.WithContext(ctx)
	res := db.Where("failed_at < ?", s.db.Now().Add(-s.limits.Window)).Delete(&loginFailure{})
	if res.Error != nil {
		return 0, 0, res.Error
	}
	expired := "expiry < now()"
	if s.db.Dialect == database.SQLite {
		expired = "expiry < julianday('now')"
	}
	res2 := db.Exec("DELETE FROM sessions WHERE " + expired)
	return res.RowsAffected, res2.RowsAffected, res2.Error
}
