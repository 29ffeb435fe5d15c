package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/casework"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/user"
)

// file is one file of a multipart form.
type file struct {
	field, name string
	body        []byte
}

// must fails the test on an error building a request.
func (c *client) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// postFiles sends a multipart form. With viaHeader the CSRF token goes in
// the header, as the page's script sends it (the server streams the body);
// without, it is a form field, as a browser without JavaScript sends it.
func (c *client) postFiles(path string, fields url.Values, files []file, viaHeader bool) response {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if !viaHeader {
		c.must(w.WriteField("_csrf", c.csrfToken()))
	}
	for k, vs := range fields {
		for _, v := range vs {
			c.must(w.WriteField(k, v))
		}
	}
	for _, f := range files {
		part, err := w.CreateFormFile(f.field, f.name)
		c.must(err)
		_, err = part.Write(f.body)
		c.must(err)
	}
	c.must(w.Close())
	req, err := http.NewRequest(http.MethodPost, c.app.srv.URL+path, &b)
	c.must(err)
	req.Header.Set("Content-Type", w.FormDataContentType())
	if viaHeader {
		req.Header.Set("X-CSRF-Token", c.csrfToken())
		req.Header.Set("HX-Request", "true")
	}
	return c.do(req)
}

// blobFiles lists what is in the app's file:// evidence bucket.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".attrs") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	})
	if err != nil { // else a test that expects no files could pass on a folder it cannot read
		t.Fatal(err)
	}
	return out
}

func newPurchaseApp(t testing.TB, db *database.DB) (*app, string) {
	dir := t.TempDir()
	a := newApp(t, db, func(c *config.Config) {
		c.BlobURL = "file://" + filepath.ToSlash(dir)
		c.MaxUpload = 64 << 10
	})
	return a, dir
}

func TestUploadsAreCheckedByContentAndSizeAndStoredUnderServerNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, dir := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-up", purchase.Assigned)
		vol := a.as("volunteer")
		path := "/assignments/" + ids["purchase"] + "/order"
		fields := url.Values{"version": {"1"}, "order_number": {"TB-777"}, "amount_paid": {"188.00"}, "order_date": {time.Now().UTC().Format(time.DateOnly)}}
		before := blobFiles(t, dir)

		// Too large: 413, the message, what was typed kept, nothing stored.
		big := append(pngBytes(t), bytes.Repeat([]byte{0}, 65<<10)...)
		res := vol.postFiles(path, fields, []file{{"receipt", "big.png", big}}, true)
		if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.body, "larger than the size limit") {
			t.Fatalf("too large: %d\n%.600s", res.StatusCode, res.body)
		}
		if v, _ := res.doc(t).Find(`input[name="order_number"]`).Attr("value"); v != "TB-777" {
			t.Fatalf("order number not kept: %q", v)
		}
		// Not an allowed type, whatever its name says.
		for _, body := range [][]byte{[]byte("<html><script>alert(1)</script></html>"), []byte("\x7fELF\x02\x01\x01"), []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")} {
			res = vol.postFiles(path, fields, []file{{"receipt", "receipt.jpg", body}}, true)
			if res.StatusCode != http.StatusUnsupportedMediaType || !strings.Contains(res.body, "Only JPEG, PNG, WebP, HEIC images and PDF files") {
				t.Fatalf("refused type: %d\n%.600s", res.StatusCode, res.body)
			}
		}
		// A good file beside a bad one: nothing of the request is kept.
		res = vol.postFiles(path, fields, []file{{"receipt", "ok.png", pngBytes(t)}, {"screenshot", "x.png", []byte("plain text")}}, true)
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Fatalf("mixed: %d", res.StatusCode)
		}
		if after := blobFiles(t, dir); len(after) != len(before) {
			t.Fatalf("refused uploads left files: %v → %v", before, after)
		}
		var n int64
		if err := db.Gorm.Table("evidence").Where("purchase_id = ?", ids["purchase"]).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("%d evidence rows after refusals", n)
		}
		// Accepted, without JavaScript too: stored under a server-chosen
		// key; the client's name is only metadata.
		res = vol.postFiles(path, fields, []file{{"receipt", "../../etc/收据 passwd.png", pngBytes(t)}}, false)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("order: %d\n%.800s", res.StatusCode, res.body)
		}
		after := blobFiles(t, dir)
		if len(after) != len(before)+1 {
			t.Fatalf("files %v → %v", before, after)
		}
		for _, f := range after {
			if strings.Contains(f, "..") || strings.Contains(f, "passwd") || !strings.HasPrefix(f, "evidence/") {
				t.Fatalf("stored as %q", f)
			}
		}
		var name string
		if err := db.Gorm.Table("evidence").Select("original_name").Where("purchase_id = ?", ids["purchase"]).Take(&name).Error; err != nil {
			t.Fatal(err)
		}
		if name != "收据 passwd.png" {
			t.Fatalf("original name kept as %q", name)
		}
	})
}

func TestEvidenceDownloadsAreForThoseWhoMaySeeThem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-dl", purchase.Dispatched)
		other, err := a.users.Create(context.Background(), user.New{Email: "v2@test.spotcheck.test", Name: "Other Volunteer", Role: "volunteer", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		otherBrand, err := a.users.Create(context.Background(), user.New{Email: "b2@test.spotcheck.test", Name: "Other Brand User", Role: "brand",
			Password: testPassword, BrandIDs: []int64{a.other.ID}})
		if err != nil {
			t.Fatal(err)
		}
		var photo, itemPhoto int64
		if err := db.Gorm.Table("evidence").Select("id").Where("purchase_id = ? AND kind = 'parcel_photo'", ids["purchase"]).Take(&photo).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm.Table("evidence").Select("id").Where("purchase_id = ? AND kind = 'item_photo'", ids["purchase"]).Take(&itemPhoto).Error; err != nil {
			t.Fatal(err)
		}
		receipt, parcel, item := "/evidence/"+ids["evidence"], fmt.Sprintf("/evidence/%d", photo), fmt.Sprintf("/evidence/%d", itemPhoto)
		signIn := func(email string) *client {
			c := a.client()
			if res := c.signIn(email, testPassword); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in %s: %d", email, res.StatusCode)
			}
			return c
		}
		for _, tc := range []struct {
			who  *client
			path string
			want int
		}{
			{a.as("staff"), receipt, 200}, {a.as("volunteer"), receipt, 200}, {a.as("brand"), receipt, 404},
			{a.as("brand"), item, 200},   // brand-visible, and the item is on its way to the brand (a derivative)
			{a.as("brand"), parcel, 404}, // the parcel's label names the buyer: staff only
			{a.as("staff"), parcel, 200}, {a.as("volunteer"), parcel, 200},
			{signIn(other.Email), receipt, 404}, {signIn(other.Email), parcel, 404}, {signIn(other.Email), item, 404},
			{signIn(otherBrand.Email), item, 404},
			{a.as("anonymous"), receipt, http.StatusSeeOther},
		} {
			res := tc.who.get(tc.path)
			if res.StatusCode != tc.want {
				t.Errorf("GET %s: %d, want %d", tc.path, res.StatusCode, tc.want)
				continue
			}
			if tc.want != 200 {
				if strings.Contains(res.body, "\x89PNG") {
					t.Errorf("GET %s leaked the file", tc.path)
				}
				continue
			}
			h := res.Header
			if !strings.HasPrefix(h.Get("Content-Disposition"), "attachment") || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || h.Get("Content-Type") != "image/png" || !strings.HasPrefix(res.body, "\x89PNG") {
				t.Errorf("GET %s headers %v", tc.path, h)
			}
		}
	})
}

func TestChineseFileNamesSurviveTheDownload(t *testing.T) {
	a, _ := newPurchaseApp(t, dbtest.SQLite(t))
	ids := a.seedPurchase(t, "shop-zh", purchase.Ordered)
	staff := a.as("staff")
	res := staff.postFiles("/cases/"+ids["purchase_case"]+"/evidence", url.Values{"kind": {"report"}}, []file{{"files", "鉴定报告.png", pngBytes(t)}}, true)
	if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%.500s", res.StatusCode, res.body)
	}
	var id int64
	if err := a.db.Gorm.Table("evidence").Select("id").Where("kind = 'report'").Take(&id).Error; err != nil {
		t.Fatal(err)
	}
	res = staff.get(fmt.Sprintf("/evidence/%d", id))
	cd := res.Header.Get("Content-Disposition")
	if !strings.Contains(cd, "filename*=utf-8''%E9%89%B4%E5%AE%9A%E6%8A%A5%E5%91%8A.png") {
		t.Fatalf("Content-Disposition %q", cd)
	}
}

func TestAVolunteerWalksAPurchaseThroughHTTPAndStaffAreNotified(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		a.startWorkers()
		ids := a.seedPurchase(t, "shop-walk", purchase.Assigned)
		vol := a.as("volunteer")
		base := "/assignments/" + ids["purchase"]
		page := vol.get(base)
		listing, _ := page.doc(t).Find("[data-testid=listing-link]").Attr("href")
		if page.StatusCode != 200 || !strings.Contains(page.body, "buyer-shop-walk") || !strings.Contains(page.body, "Brand office") ||
			listing != "https://shop.example/item-buy-shop-walk" {
			t.Fatalf("assignment page: %d\n%.600s", page.StatusCode, page.body)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		steps := []struct {
			path   string
			fields url.Values
			files  []file
		}{
			{"/order", url.Values{"version": {"1"}, "order_number": {"TB-1"}, "amount_paid": {"180.00"}, "fee": {"8.50"}, "order_date": {today}},
				[]file{{"receipt", "r.png", pngBytes(t)}, {"screenshot", "s.png", pngBytes(t)}}},
			{"/delivery", url.Values{"version": {"2"}, "delivered_on": {today}, "seal_number": {"SEAL-9"}}, []file{{"parcel_photo", "p.png", pngBytes(t)}}},
			{"/dispatch", url.Values{"version": {"3"}, "to": {"brand"}, "carrier": {"SF"}, "tracking": {"SF-9"}}, nil},
		}
		for _, st := range steps {
			res := vol.postFiles(base+st.path, st.fields, st.files, true)
			if res.StatusCode != http.StatusNoContent || res.Header.Get("HX-Redirect") != base {
				t.Fatalf("%s: %d %v\n%.800s", st.path, res.StatusCode, res.Header, res.body)
			}
		}
		c, err := a.cases.ByReference(context.Background(), a.accounts["staff"].Actor(), ids["purchase_case"])
		if err != nil || c.State != casework.Authenticating {
			t.Fatalf("case %+v %v", c, err)
		}
		// The brand sees the item coming; staff were told of each step.
		if res := a.as("brand").get("/authentications"); !strings.Contains(res.body, ids["purchase_case"]+"-1") {
			t.Fatalf("brand queue:\n%.800s", res.body)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			res := a.as("staff").get("/notifications")
			if strings.Count(res.body, `data-testid="notification"`) >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("staff notifications:\n%.1500s", res.body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if res := vol.get("/reimbursements"); !strings.Contains(res.body, "188.50") {
			t.Fatalf("reimbursements:\n%.800s", res.body)
		}
	})
}

func TestAWithdrawnFileStaysOnRecordWithItsReason(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a, _ := newPurchaseApp(t, db)
		ids := a.seedPurchase(t, "shop-wd", purchase.Ordered)
		vol := a.as("volunteer")
		// The volunteer's page lists their purchase's files, not the case's.
		if res := a.as("staff").postFiles("/cases/"+ids["purchase_case"]+"/evidence", url.Values{"kind": {"police_document"}},
			[]file{{"files", "police.png", pngBytes(t)}}, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("staff upload: %d", res.StatusCode)
		}
		if n := vol.get("/assignments/" + ids["purchase"]).doc(t).Find("[data-testid=evidence-item]").Length(); n != 1 {
			t.Fatalf("the assignment page lists %d files, want its one receipt", n)
		}
		if res := vol.post("/evidence/"+ids["evidence"]+"/withdraw", url.Values{"reason": {""}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("withdraw without a reason: %d", res.StatusCode)
		}
		var withdrawn int64
		if err := db.Gorm.Table("evidence").Where("withdrawn_at IS NOT NULL").Count(&withdrawn).Error; err != nil {
			t.Fatal(err)
		}
		if withdrawn != 0 {
			t.Fatal("withdrawn without a reason")
		}
		// Another volunteer cannot even see it.
		other, err := a.users.Create(context.Background(), user.New{Email: "v3@test.spotcheck.test", Name: "V3", Role: "volunteer", Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		oc := a.client()
		oc.signIn(other.Email, testPassword)
		if res := oc.post("/evidence/"+ids["evidence"]+"/withdraw", url.Values{"reason": {"mine now"}}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("another volunteer withdraws: %d", res.StatusCode)
		}
		if res := vol.post("/evidence/"+ids["evidence"]+"/withdraw", url.Values{"reason": {"photo of the wrong order"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", res.StatusCode)
		}
		page := a.as("staff").get("/cases/" + ids["purchase_case"])
		item := page.doc(t).Find("[data-testid=evidence-item]:has([data-testid=withdrawn])")
		if item.Length() != 1 || !strings.Contains(item.Find("[data-testid=withdrawn]").Text(), "photo of the wrong order") {
			t.Fatalf("the case page after withdrawal:\n%s", item.Text())
		}
		// Still on record: the file is there for those who may see it.
		if res := a.as("staff").get("/evidence/" + ids["evidence"]); res.StatusCode != http.StatusOK {
			t.Fatalf("download after withdrawal: %d", res.StatusCode)
		}
	})
}
