package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/database/dbtest"
)

// TestABundleOfATamperedFileFailsWithTheReasonOnTheCasePage: the build job
// gives up on a file that no longer matches its record at once, and the
// case page says why, in words.
func TestABundleOfATamperedFileFailsWithTheReasonOnTheCasePage(t *testing.T) {
	db := dbtest.SQLite(t)
	a, _ := newPurchaseApp(t, db)
	a.startWorkers()
	ref := a.confirmed(t, "shop-tampered")["purchase_case"]
	var keys []string
	if err := db.Gorm.Raw("SELECT e.blob_key FROM evidence e JOIN cases c ON c.id = e.case_id WHERE c.reference = ?", ref).
		Scan(&keys).Error; err != nil || len(keys) == 0 {
		t.Fatalf("the case's files: %v %v", keys, err)
	}
	for _, k := range keys {
		if err := a.evidence.Bucket.WriteAll(context.Background(), k, []byte("not what was uploaded"), nil); err != nil {
			t.Fatal(err)
		}
	}
	staff := a.as("staff")
	if res := staff.post("/cases/"+ref+"/bundles/unredacted", url.Values{"reason": {"Court order 7"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("request the export: %d", res.StatusCode)
	}
	var why string
	for deadline := time.Now().Add(20 * time.Second); why == ""; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the bundle did not fail:\n%s", staff.get("/cases/"+ref).doc(t).Find("[data-testid=bundles]").Text())
		}
		why = staff.get("/cases/" + ref).doc(t).Find("[data-testid=bundle-failed] [data-testid=bundle-error]").Text()
	}
	if !strings.Contains(why, "no longer matches its record") {
		t.Fatalf("the reason on the case page: %q", why)
	}
	var attempts int
	if err := db.Gorm.Raw("SELECT attempt FROM river_job WHERE kind = 'bundle.build'").Row().Scan(&attempts); err != nil || attempts != 1 {
		t.Fatalf("the job ran %d times (%v)", attempts, err)
	}
}
