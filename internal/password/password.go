// Package password hashes and checks passwords with argon2id, and bounds how
// many hashes run at once so that a burst of sign-ins cannot exhaust memory.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"
)

// MinLength is the shortest password accepted, counted in characters.
const MinLength = 8

// MaxLength bounds the work an attacker can ask for with one huge password.
const MaxLength = 1024

// maxKeyLen bounds the key a stored hash may carry (ours are 32 bytes), so
// its length is a valid argon2 key length.
const maxKeyLen = 1024

var (
	ErrTooShort  = errors.New("password too short")
	ErrTooLong   = errors.New("password too long")
	ErrMismatch  = errors.New("password does not match")
	ErrMalformed = errors.New("malformed password hash")
)

// Params are argon2id's cost settings. Default follows OWASP's
// recommendation (m=19 MiB, t=2, p=1).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Hasher hashes and verifies passwords, at most limit at a time.
type Hasher struct {
	params Params
	sem    *semaphore.Weighted
	dummy  string
}

// NewHasher returns a Hasher running at most limit hashes concurrently.
func NewHasher(p Params, limit int) *Hasher {
	h := &Hasher{params: p, sem: semaphore.NewWeighted(int64(max(limit, 1)))}
	h.dummy = h.encode(make([]byte, p.SaltLen), argon2.IDKey([]byte("spotcheck"), make([]byte, p.SaltLen), p.Time, p.Memory, p.Threads, p.KeyLen))
	return h
}

// Validate checks a new password against the length rules.
func Validate(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		return ErrTooShort
	case len(pw) > MaxLength:
		return ErrTooLong
	}
	return nil
}

// Hash returns the PHC-encoded argon2id hash of pw.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := Validate(pw); err != nil {
		return "", err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := h.sem.Acquire(ctx, 1); err != nil {
		return "", err
	}
	defer h.sem.Release(1)
	key := argon2.IDKey([]byte(pw), salt, h.params.Time, h.params.Memory, h.params.Threads, h.params.KeyLen)
	return h.encode(salt, key), nil
}

// Verify reports whether pw matches encoded. An empty encoded hash (an
// unknown account) is checked against a dummy hash so that the answer takes
// as long as for a known account.
func (h *Hasher) Verify(ctx context.Context, pw, encoded string) error {
	if encoded == "" {
		encoded = h.dummy
		pw = "\x00" + pw // never matches the dummy
	}
	p, salt, want, err := decode(encoded)
	if err != nil {
		return err
	}
	if len(pw) > MaxLength {
		return ErrMismatch
	}
	if err := h.sem.Acquire(ctx, 1); err != nil {
		return err
	}
	defer h.sem.Release(1)
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want))) // #nosec G115 -- decode refuses a key longer than maxKeyLen
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

func (h *Hasher) encode(salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Time, h.params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decode(s string) (Params, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, ErrMalformed
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 || len(key) > maxKeyLen {
		return Params{}, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
