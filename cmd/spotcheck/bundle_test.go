package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// caseWithEvidence finds a demo case with files on record.
func caseWithEvidence(t *testing.T, e env) string {
	t.Helper()
	dataDir := strings.TrimPrefix(e[0], "SPOTCHECK_DATA=")
	db, err := database.OpenSQLite(context.Background(), filepath.Join(dataDir, "spotcheck.db"))
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, db)
	var ref string
	err = db.Gorm.Raw(`SELECT c.reference FROM cases c WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.case_id = c.id)
		ORDER BY c.id LIMIT 1`).Row().Scan(&ref)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestBundleWriteAndVerifyFromTheShell(t *testing.T) {
	e := newEnv(t, "")
	e.mustRun(t, "", "demo")
	ref := caseWithEvidence(t, e)
	out := filepath.Join(t.TempDir(), "bundle.zip")
	got := e.mustRun(t, "", "bundle", "write", "--case", strings.ToLower(ref), "--out", out, "--lang", "zh")
	if !strings.Contains(got, "wrote "+out+": "+ref) {
		t.Fatalf("bundle write: %s", got)
	}
	got = e.mustRun(t, "", "bundle", "verify", out)
	m := regexp.MustCompile(`^OK: (\d+) members match the manifest\n$`).FindStringSubmatch(got)
	if m == nil || m[1] == "0" {
		t.Fatalf("bundle verify: %q", got)
	}
	// The export is on the audit trail, and the chain still holds.
	if got := e.mustRun(t, "", "audit", "verify"); !strings.Contains(got, "intact") {
		t.Fatalf("audit verify: %s", got)
	}

	// One byte changed in the summary: refused, and the member named.
	b, err := os.ReadFile(out) // #nosec G304 -- out is the bundle this test wrote into its temporary folder
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var changed bytes.Buffer
	zw := zip.NewWriter(&changed)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "summary.html" {
			data[100] ^= 1
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	tampered := filepath.Join(t.TempDir(), "tampered.zip")
	if err := os.WriteFile(tampered, changed.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = e.run(t, "", "bundle", "verify", tampered)
	if err == nil || !strings.Contains(got, "changed: summary.html") {
		t.Fatalf("tampered bundle: %v\n%s", err, got)
	}

	// The unredacted export needs a reason, and is audited with it.
	full := filepath.Join(t.TempDir(), "full.zip")
	if got, err := e.run(t, "", "bundle", "write", "--case", ref, "--out", full, "--unredacted"); err == nil {
		t.Fatalf("unredacted without a reason: %s", got)
	}
	got = e.mustRun(t, "", "bundle", "write", "--case", ref, "--out", full, "--unredacted", "--reason", "court order 42")
	if !strings.Contains(got, "wrote "+full+": "+ref+" (unredacted)") {
		t.Fatalf("bundle write --unredacted: %s", got)
	}
	if got := e.mustRun(t, "", "bundle", "verify", full); !strings.HasPrefix(got, "OK: ") {
		t.Fatalf("bundle verify (unredacted): %q", got)
	}
	if got := e.mustRun(t, "", "audit", "verify"); !strings.Contains(got, "intact") {
		t.Fatalf("audit verify: %s", got)
	}

	// An unknown case writes nothing.
	none := filepath.Join(t.TempDir(), "none.zip")
	if got, err := e.run(t, "", "bundle", "write", "--case", "SC-1999-000001", "--out", none); err == nil {
		t.Fatalf("unknown case: %s", got)
	}
	if _, err := os.Stat(none); !os.IsNotExist(err) {
		t.Fatalf("a file was left for an unknown case: %v", err)
	}
}
