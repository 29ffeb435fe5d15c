package bundle_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"spotcheck/internal/bundle"
)

// seedBundle is a small well-formed bundle: a manifest and one member.
func seedBundle(f *testing.F, extra bool) []byte {
	f.Helper()
	body := []byte("evidence")
	sum := sha256.Sum256(body)
	m := bundle.Manifest{Case: "SC-2026-000001", Members: []bundle.Member{{Name: "files/1.jpg", SHA256: hex.EncodeToString(sum[:]), Size: int64(len(body))}}}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string][]byte{"files/1.jpg": body} {
		w, err := zw.Create(name)
		if err != nil {
			f.Fatal(err)
		}
		if _, err := w.Write(content); err != nil {
			f.Fatal(err)
		}
	}
	if extra {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "files/1.jpg", Method: zip.Store})
		if err != nil {
			f.Fatal(err)
		}
		if _, err := w.Write([]byte("other")); err != nil {
			f.Fatal(err)
		}
	}
	w, err := zw.Create(bundle.ManifestName)
	if err != nil {
		f.Fatal(err)
	}
	if err := json.NewEncoder(w).Encode(m); err != nil {
		f.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzVerify: `spotcheck bundle verify` reads a ZIP that came back from
// outside (a court, the police, a copy of a copy). Whatever it is, Verify
// returns a report or ErrNotABundle without panicking, and the report
// names only what is there: missing members from the manifest, extra ones
// from the ZIP, OK only with nothing changed, missing or extra.
// The seeds are in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	f.Add(seedBundle(f, false))
	f.Add(seedBundle(f, true))
	f.Add([]byte("PK\x05\x06" + string(make([]byte, 18))))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := bundle.Verify(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, bundle.ErrNotABundle) {
				t.Fatalf("Verify: %v is not ErrNotABundle", err)
			}
			return
		}
		zr, zerr := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if zerr != nil {
			t.Fatalf("Verify read a ZIP that archive/zip refuses: %v", zerr)
		}
		var inZip []string
		for _, f := range zr.File {
			inZip = append(inZip, f.Name)
		}
		listed := map[string]bool{}
		for _, m := range rep.Manifest.Members {
			listed[m.Name] = true
		}
		for _, n := range rep.Missing {
			if !listed[n] || (slices.Contains(inZip, n) && n != bundle.ManifestName) {
				t.Fatalf("missing %q: listed %v, in the ZIP %v", n, listed[n], slices.Contains(inZip, n))
			}
		}
		for _, n := range rep.Extra {
			if !slices.Contains(inZip, n) {
				t.Fatalf("extra %q is not in the ZIP", n)
			}
		}
		for _, c := range rep.Changed {
			if !listed[c.Name] || c.Reason == "" {
				t.Fatalf("changed %+v: listed %v", c, listed[c.Name])
			}
		}
		if rep.OK() != (len(rep.Changed)+len(rep.Missing)+len(rep.Extra) == 0) {
			t.Fatal("OK disagrees with the lists")
		}
		_ = rep.String()
	})
}
