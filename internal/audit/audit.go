// Package audit keeps the append-only, hash-chained record of every write.
// Each event carries the SHA-256 of the one before it, so an edit, a
// deletion or a reordering anywhere in the chain is found by Verify.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/database"
)

// Genesis is the previous hash of the first event.
var Genesis = hex.EncodeToString(make([]byte, sha256.Size))

// Event is one stored audit event.
type Event struct {
	Seq        int64 `gorm:"primaryKey;autoIncrement:false"`
	At         time.Time
	ActorID    *int64
	ActorRole  string
	Action     string
	ObjectType string
	ObjectID   string
	Outcome    string
	ClientIP   string `gorm:"column:client_ip"`
	RequestID  string
	Detail     string
	PrevHash   string
	Hash       string
}

func (Event) TableName() string { return "audit_events" }

// Outcomes of an audited action.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// Origin says who caused a write and from where; the web layer puts one in
// each request's context, the command line its own.
type Origin struct {
	ActorID   int64 // 0 for nobody signed in, or the system
	ActorRole string
	ClientIP  string
	RequestID string
}

type originKey struct{}

// WithOrigin returns ctx carrying o.
func WithOrigin(ctx context.Context, o Origin) context.Context {
	return context.WithValue(ctx, originKey{}, o)
}

// OriginFrom returns the origin in ctx, or a "system" origin.
func OriginFrom(ctx context.Context) Origin {
	if o, ok := ctx.Value(originKey{}).(Origin); ok {
		return o
	}
	return Origin{ActorRole: "system", ClientIP: "local"}
}

// Record is what a use case says about one write.
type Record struct {
	Action     string // e.g. "user.create", "auth.signin"
	ObjectType string // e.g. "user"
	ObjectID   any    // formatted with %v
	Outcome    string // Success when empty
	Detail     any    // marshalled as JSON: what changed
}

// lockKey is the PostgreSQL advisory lock that serialises appends.
const lockKey = 0x5c_a0d1

// Append adds one event at the head of the chain inside tx. Appends are
// serialised (an advisory lock on PostgreSQL; SQLite has one writer), so
// concurrent writers never fork the chain. Call it last in a transaction:
// the lock is held until commit.
func Append(ctx context.Context, tx *gorm.DB, r Record) (Event, error) {
	o := OriginFrom(ctx)
	detail, err := json.Marshal(r.Detail)
	if err != nil {
		return Event{}, fmt.Errorf("audit detail: %w", err)
	}
	if r.Detail == nil {
		detail = []byte("{}")
	}
	ev := Event{
		At:         database.Now(tx).Truncate(time.Microsecond),
		ActorRole:  o.ActorRole,
		Action:     r.Action,
		ObjectType: r.ObjectType,
		ObjectID:   fmt.Sprint(r.ObjectID),
		Outcome:    r.Outcome,
		ClientIP:   o.ClientIP,
		RequestID:  o.RequestID,
		Detail:     string(detail),
	}
	if r.ObjectID == nil {
		ev.ObjectID = ""
	}
	if ev.Outcome == "" {
		ev.Outcome = Success
	}
	if o.ActorID != 0 {
		id := o.ActorID
		ev.ActorID = &id
	}
	tx = tx.WithContext(ctx)
	if database.IsPostgres(tx) {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockKey).Error; err != nil {
			return Event{}, fmt.Errorf("audit lock: %w", err)
		}
	}
	var head Event
	err = tx.Select("seq", "hash").Order("seq DESC").Limit(1).Find(&head).Error
	if err != nil {
		return Event{}, fmt.Errorf("audit head: %w", err)
	}
	ev.Seq, ev.PrevHash = head.Seq+1, head.Hash
	if head.Seq == 0 {
		ev.PrevHash = Genesis
	}
	ev.Hash = ev.computeHash()
	if err := tx.Create(&ev).Error; err != nil {
		return Event{}, fmt.Errorf("audit append: %w", err)
	}
	return ev, nil
}

// computeHash is SHA-256(previous hash ‖ canonical encoding of the event).
func (e Event) computeHash() string {
	h := sha256.New()
	h.Write([]byte(e.PrevHash))
	h.Write(e.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// canonical is a fixed-order JSON array of every field but the hashes, with
// the time in UTC at microsecond precision (what both databases keep).
func (e Event) canonical() []byte {
	var actor any
	if e.ActorID != nil {
		actor = strconv.FormatInt(*e.ActorID, 10)
	}
	b, _ := json.Marshal([]any{
		e.Seq, e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), actor, e.ActorRole,
		e.Action, e.ObjectType, e.ObjectID, e.Outcome, e.ClientIP, e.RequestID, e.Detail,
	})
	return b
}
