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

// SignIn checks an e-mail and password from clientIP. After MaxFailures
// failures within Window for the account or for the address, it refuses
// with a *ThrottledError before looking at the password. Every attempt is
// audited.
func (s *Service) SignIn(ctx context.Context, email, pw, clientIP string) (User, error) {
	email = NormalizeEmail(email)
	keys := []string{"account:" + email, "ip:" + clientIP}
	if wait, err := s.throttled(ctx, keys); err != nil {
		return User{}, err
	} else if wait > 0 {
		s.auditSignIn(ctx, 0, email, audit.Denied, "throttled")
		return User{}, &ThrottledError{RetryAfter: wait}
	}

	u, err := s.ByEmail(ctx, email)
	if err != nil && !errors.Is(err, database.ErrNotFound) {
		return User{}, err
	}
	verr := s.hasher.Verify(ctx, pw, u.PasswordHash) // a dummy hash when u is unknown
	if verr == nil && !u.Disabled() {
		err := s.db.InTx(ctx, func(tx *gorm.DB) error {
			if err := tx.Where("key = ?", keys[0]).Delete(&loginFailure{}).Error; err != nil {
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
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		now := s.db.Now()
		for _, k := range keys {
			if err := tx.Create(&loginFailure{Key: k, FailedAt: now}).Error; err != nil {
				return err
			}
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "auth.signin", ObjectType: "user", ObjectID: u.ID,
			Outcome: audit.Failure, Detail: map[string]any{"email": email, "reason": reason}})
		return err
	})
	if err != nil {
		return User{}, err
	}
	return User{}, ErrBadCredentials
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

// throttled returns how long to wait before any of keys may try again, or
// 0 when none has reached the limit.
func (s *Service) throttled(ctx context.Context, keys []string) (time.Duration, error) {
	now := s.db.Now()
	since := now.Add(-s.limits.Window)
	var wait time.Duration
	for _, k := range keys {
		var times []time.Time
		err := s.db.Gorm.WithContext(ctx).Model(&loginFailure{}).
			Where("key = ? AND failed_at > ?", k, since).Order("failed_at DESC").
			Limit(s.limits.MaxFailures).Pluck("failed_at", &times).Error
		if err != nil {
			return 0, err
		}
		if len(times) < s.limits.MaxFailures {
			continue
		}
		// Free again when the oldest of the last MaxFailures leaves the window.
		if w := times[len(times)-1].Add(s.limits.Window).Sub(now); w > wait {
			wait = w
		}
	}
	if wait > 0 && wait < time.Second {
		wait = time.Second
	}
	return wait, nil
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
