package bundle

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// ErrNotABundle: the file is not a ZIP, or has no readable manifest.json.
var ErrNotABundle = errors.New("not an evidence bundle")

// maxManifest bounds what is read of manifest.json: a few hundred bytes a
// member.
const maxManifest = 16 << 20

// Report is what Verify found.
type Report struct {
	Manifest Manifest
	Changed  []Change // in the manifest and the ZIP, with other content
	Missing  []string // in the manifest, not in the ZIP
	Extra    []string // in the ZIP, not in the manifest (a second copy of a name too)
}

// Change is a member whose content differs from the manifest.
type Change struct {
	Name   string
	Reason string
}

// OK reports whether every member matches the manifest and nothing else
// is in the ZIP.
func (r Report) OK() bool { return len(r.Changed) == 0 && len(r.Missing) == 0 && len(r.Extra) == 0 }

// String is the report for a person: one line when all is well, else one
// line per problem.
func (r Report) String() string {
	if r.OK() {
		return fmt.Sprintf("OK: %d members match the manifest\n", len(r.Manifest.Members))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "NOT OK: bundle of %s does not match its manifest\n", r.Manifest.Case)
	for _, c := range r.Changed {
		fmt.Fprintf(&b, "changed: %s (%s)\n", c.Name, c.Reason)
	}
	for _, n := range r.Missing {
		fmt.Fprintf(&b, "missing: %s\n", n)
	}
	for _, n := range r.Extra {
		fmt.Fprintf(&b, "extra:   %s\n", n)
	}
	return b.String()
}

// Verify reads a bundle's manifest.json and recomputes the SHA-256 and
// size of every member, reporting what changed, what is missing and what
// was added. The error is for a file that cannot be checked at all.
//
// The manifest itself is not signed: a bundle rebuilt with a matching
// manifest passes. What ties a bundle to Spotcheck is the audit head it
// names, which the platform's own chain can confirm.
func Verify(r io.ReaderAt, size int64) (Report, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrNotABundle, err)
	}
	byName := map[string]*zip.File{}
	var rep Report
	var manifest *zip.File
	for _, f := range zr.File {
		switch _, dup := byName[f.Name]; {
		case dup || (f.Name == ManifestName && manifest != nil):
			rep.Extra = append(rep.Extra, f.Name)
		case f.Name == ManifestName:
			manifest = f
		default:
			byName[f.Name] = f
		}
	}
	if manifest == nil {
		return Report{}, fmt.Errorf("%w: no %s", ErrNotABundle, ManifestName)
	}
	if rep.Manifest, err = readManifest(manifest); err != nil {
		return Report{}, err
	}
	listed := map[string]bool{}
	for _, m := range rep.Manifest.Members {
		listed[m.Name] = true
		f, ok := byName[m.Name]
		if !ok {
			rep.Missing = append(rep.Missing, m.Name)
			continue
		}
		if m.Derived() && !isSHA256(m.OriginalSHA256) {
			rep.Changed = append(rep.Changed, Change{Name: m.Name, Reason: "a derivative that names no original's SHA-256"})
			continue
		}
		if reason := check(f, m); reason != "" {
			rep.Changed = append(rep.Changed, Change{Name: m.Name, Reason: reason})
		}
	}
	for _, f := range zr.File {
		if byName[f.Name] == f && !listed[f.Name] { // each copy of a name is reported once
			rep.Extra = append(rep.Extra, f.Name)
		}
	}
	return rep, nil
}

func readManifest(f *zip.File) (Manifest, error) {
	rc, err := f.Open()
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrNotABundle, ManifestName, err)
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(rc, maxManifest)).Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrNotABundle, ManifestName, err)
	}
	return m, nil
}

// check recomputes one member; it returns why it differs, or "". A member
// whose stored data no longer reads (a bad checksum, broken compression)
// has changed too.
func check(f *zip.File, want Member) string {
	rc, err := f.Open()
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer rc.Close()
	// At most one byte past the manifest's size is read: a member that
	// inflates to more has changed, however far it would go on inflating.
	h := sha256.New()
	n, err := io.CopyN(h, rc, min(want.Size, math.MaxInt64-1)+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return "unreadable: " + err.Error()
	}
	got := hex.EncodeToString(h.Sum(nil))
	switch {
	case n > want.Size:
		return fmt.Sprintf("more than the %d bytes the manifest says", want.Size)
	case n < want.Size:
		return fmt.Sprintf("%d bytes, the manifest says %d", n, want.Size)
	case got != want.SHA256:
		return fmt.Sprintf("SHA-256 %s, the manifest says %s", got, want.SHA256)
	}
	return ""
}

func isSHA256(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == sha256.Size && strings.ToLower(s) == s
}
