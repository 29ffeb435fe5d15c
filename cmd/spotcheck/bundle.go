package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/bundle"
	"spotcheck/internal/config"
	"spotcheck/internal/i18n"
)

// errBundleMismatch: the bundle's report was printed; the exit status
// must say it failed.
var errBundleMismatch = errors.New("the bundle does not match its manifest")

func bundleCmd(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("bundle: want verify or write")
	}
	switch args[0] {
	case "verify":
		if len(args) != 2 {
			return fmt.Errorf("bundle verify: want one FILE.zip")
		}
		return verifyBundle(args[1], stdout)
	case "write":
		fs := newFlagSet("bundle write", stderr)
		ref := fs.String("case", "", "case reference, e.g. SC-2026-000123")
		out := fs.String("out", "", "the ZIP file to write")
		lang := fs.String("lang", string(i18n.English), "language of the summary: en or zh")
		unredacted := fs.Bool("unredacted", false, "the unredacted export for a court order (originals, full audit events); needs --reason")
		reason := fs.String("reason", "", "why the unredacted export is made (the court order); audited")
		if err := fs.Parse(args[1:]); err != nil {
			return errUsage
		}
		l, ok := i18n.Parse(*lang)
		*reason = strings.TrimSpace(*reason)
		if *ref == "" || *out == "" || !ok || fs.NArg() > 0 || *unredacted != (*reason != "") {
			return fmt.Errorf("bundle write: want --case SC-… --out FILE.zip [--lang en|zh] [--unredacted --reason \"court order …\"]")
		}
		kind := bundle.Redacted
		if *unredacted {
			kind = bundle.Unredacted
		}
		return withApp(ctx, cfg, func(a *app) error {
			return writeBundle(ctx, a, *ref, *out, kind, *reason, l, a.db.Now().In(cfg.Location), stdout)
		})
	}
	return fmt.Errorf("bundle: unknown subcommand %q", args[0])
}

// verifyBundle needs no database: whoever received the file can run it.
func verifyBundle(path string, stdout io.Writer) (err error) {
	f, err := os.Open(path) // #nosec G304 G703 -- the operator names the bundle to verify on the command line; reading it is the point
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	rep, err := bundle.Verify(f, st.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := say(stdout, "%s", rep.String()); err != nil {
		return err
	}
	if !rep.OK() {
		return errBundleMismatch
	}
	return nil
}

// writeBundle writes the bundle next to its final name and renames it in
// place once complete, so a failed export leaves no file behind; the
// export itself goes on the case's audit trail with the ZIP's hash. An
// unredacted export is audited with its reason before it is made.
func writeBundle(ctx context.Context, a *app, ref, out string, kind bundle.Kind, reason string, lang i18n.Lang, now time.Time, stdout io.Writer) (err error) {
	caseID, err := bundle.CaseID(ctx, a.db, ref)
	if err != nil {
		return fmt.Errorf("case %s: %w", ref, err)
	}
	if kind == bundle.Unredacted {
		err := a.db.InTx(ctx, func(tx *gorm.DB) error {
			_, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.unredacted", ObjectType: "case", ObjectID: strings.ToUpper(strings.TrimSpace(ref)),
				Detail: map[string]any{"lang": lang, "via": "shell", "reason": reason}})
			return err
		})
		if err != nil {
			return fmt.Errorf("the unredacted export was not audited, so not made: %w", err)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".bundle-*.zip")
	if err != nil {
		return err
	}
	defer func() { // nothing to remove once renamed
		if rerr := os.Remove(tmp.Name()); !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}()
	h := sha256.New()
	m, err := bundle.Write(ctx, a.db, a.evidence, caseID, kind, lang, now, io.MultiWriter(tmp, h), nil)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	err = a.db.InTx(ctx, func(tx *gorm.DB) error {
		_, err := audit.Append(ctx, tx, audit.Record{Action: "bundle.write", ObjectType: "case", ObjectID: m.Case,
			Detail: map[string]any{"kind": kind, "sha256": sum, "members": len(m.Members) + 1, "lang": lang, "audit_head": m.AuditHead}})
		return err
	})
	if err != nil {
		return fmt.Errorf("the bundle was written but its export was not audited: %w", err)
	}
	return say(stdout, "wrote %s: %s (%s), %d members, %d files withheld, SHA-256 %s\naudit head at export: %d %s\n",
		out, m.Case, m.Kind, len(m.Members)+1, len(m.Withheld), sum, m.AuditHead.ID, m.AuditHead.Hash)
}
