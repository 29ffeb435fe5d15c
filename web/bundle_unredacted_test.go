package web_test

import (
	"archive/zip"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"

	"errors"
)

// TestAnUnredactedExportIsItsOwnAuditedStep: the court-order export needs
// a reason (kept beside its field when missing, nothing queued), is audited
// with that reason, holds the originals, says it is unredacted, and does not
// count as the bundle a police referral needs.
func TestAnUnredactedExportIsItsOwnAuditedStep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		a.startWorkers()
		ref := a.confirmed(t, "shop-court")["purchase_case"]
		staff := a.as("staff")
		countBuilds := func() int64 {
			t.Helper()
			var n int64
			if err := db.Gorm.Table("bundles").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}

		res := staff.post("/cases/"+ref+"/bundles/unredacted", url.Values{"reason": {"  "}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("no reason: %d", res.StatusCode)
		}
		if res.doc(t).Find("[data-testid=bundle-unredacted][open] [data-testid=bundle-unredacted-form]").Length() != 1 {
			t.Fatalf("the refused form is not shown open with its message:\n%.1500s", res.doc(t).Find("[data-testid=bundles]").Text())
		}
		if n := countBuilds(); n != 0 {
			t.Fatalf("a refused export queued %d builds", n)
		}

		if res := staff.post("/cases/"+ref+"/bundles/unredacted", url.Values{"reason": {"Court order 2026-17, Riverside court"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("request the unredacted export: %d\n%.800s", res.StatusCode, res.body)
		}
		var href string
		for deadline := time.Now().Add(20 * time.Second); href == ""; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the export was not built:\n%s", staff.get("/cases/"+ref).doc(t).Find("[data-testid=bundles]").Text())
			}
			href, _ = staff.get("/cases/" + ref).doc(t).Find("[data-testid=bundle-done][data-kind=unredacted] a").Attr("href")
		}
		var reason string
		if err := db.Gorm.Raw("SELECT detail FROM audit_events WHERE action = 'bundle.unredacted'").Row().Scan(&reason); err != nil {
			t.Fatalf("no bundle.unredacted audit event: %v", err)
		}
		if !strings.Contains(reason, "Court order 2026-17") {
			t.Fatalf("the audit event does not keep the reason: %s", reason)
		}
		zipRes := staff.get(href)
		if zipRes.StatusCode != http.StatusOK {
			t.Fatalf("download: %d", zipRes.StatusCode)
		}
		zr, err := zip.NewReader(strings.NewReader(zipRes.body), int64(len(zipRes.body)))
		if err != nil {
			t.Fatal(err)
		}
		var manifest struct{ Kind string }
		for _, f := range zr.File {
			if f.Name == "manifest.json" {
				r, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				if err := errors.Join(json.NewDecoder(r).Decode(&manifest), r.Close()); err != nil {
					t.Fatal(err)
				}
			}
		}
		if manifest.Kind != "unredacted" {
			t.Fatalf("the manifest says kind %q", manifest.Kind)
		}

		// Only a redacted bundle lets the case go to the police.
		var version int
		if err := db.Gorm.Raw("SELECT version FROM cases WHERE reference = ?", ref).Row().Scan(&version); err != nil {
			t.Fatal(err)
		}
		form := url.Values{"version": {itoa(int64(version))}, "bureau": {"Riverside PSB"}, "referred_on": {time.Now().UTC().Format(time.DateOnly)}}
		if res := staff.post("/cases/"+ref+"/referral", form); res.StatusCode != http.StatusConflict {
			t.Fatalf("refer with only an unredacted export: %d", res.StatusCode)
		}
	})
}
