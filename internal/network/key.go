package network

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeyFile is the key's file in the data folder, when none is configured.
const KeyFile = "identifier.key"

// LoadKey is the identifier key: configured (base64 of at least 32
// bytes, SPOTCHECK_IDENTIFIER_KEY), else read from the data folder, where
// it is made on first use. Every process that ingests flags into one
// database must hold the same key, so replicas must be given it.
func LoadKey(configured, dataDir string) (Key, error) {
	if configured != "" {
		k, err := decodeKey(configured)
		if err != nil {
			return nil, fmt.Errorf("SPOTCHECK_IDENTIFIER_KEY: %w", err)
		}
		return k, nil
	}
	path := filepath.Join(dataDir, KeyFile)
	if b, err := os.ReadFile(path); err == nil { // #nosec G304 -- the data folder's own file
		k, err := decodeKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k := make(Key, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) // #nosec G304 -- the data folder's own file
	if errors.Is(err, fs.ErrExist) {
		return LoadKey("", dataDir) // another process made it first
	}
	if err != nil {
		return nil, err
	}
	_, werr := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	return k, errors.Join(werr, f.Close())
}

func decodeKey(s string) (Key, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("not base64")
	}
	if len(b) < 32 {
		return nil, errors.New("shorter than 32 bytes")
	}
	return Key(b), nil
}
