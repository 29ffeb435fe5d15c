package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
	"spotcheck/internal/verdict"

	"errors"
)

// The privacy boundary of DESIGN.md ("What never crosses to a brand"):
// these tests plant markers in everything that identifies a buyer and
// search every byte a brand user can get, and the default evidence bundle.

// ipMarker is the volunteer's client address, given through the trusted proxy.
const ipMarker = "203.0.113.77"

var isoPhoto = photoMarkers{Artist: "MRKARTIST", Make: "MRKMAKE", Model: "MRKMODEL", Serial: "MRKSERIAL", GPS: "MRKGPS",
	XMP: "MRKXMP", Comment: "MRKCOMMENTSEG"}

// identityMarkers are every planted marker, by where it was planted.
var identityMarkers = []string{
	"MRKARTIST", "MRKMAKE", "MRKMODEL", "MRKSERIAL", "MRKGPS", "MRKXMP", "MRKCOMMENTSEG", // photo metadata
	"MRKFILENAME",                             // the photo's original file name
	"MRKCARRIERIN", "MRKTRACKIN", "MRKSEALIN", // seller → volunteer leg (delivery step)
	"MRKTRACKOUT",                                    // the volunteer's dispatch to the brand: its carrier and seal are the brand's to check, its tracking number leads to the sender
	"MRKACCOUNT", "MRKADDRESS", "MRKPHONE", "MRKPAY", // persona
	"MRKNAME", "mrkmail", // the volunteer
	"MRKORDERNO", // the order number on the platform
	"MRKCOMMENT", // a staff-only comment
	ipMarker,     // the volunteer's client IP
}

// markedPurchase is a case bought by a marked volunteer through the real
// routes, every request from behind the trusted proxy, up to the dispatch
// to the brand.
type markedPurchase struct {
	ref      string
	caseID   int64
	purchase purchase.Purchase
	volID    int64
	persona  purchase.Persona
	photos   []int64 // the volunteer's photo evidence ids
	itemID   int64
}

func (a *app) buyMarked(t *testing.T, shopID string) markedPurchase {
	t.Helper()
	ctx := context.Background()
	c := a.openCase(t, shopID)
	vol, persona := a.newVolunteer(t, "MRKNAME Volunteer", "mrkmail@test.spotcheck.test", purchase.NewPersona{PlatformAccount: "MRKACCOUNT",
		AddressAlias: "MRKADDRESS Locker 9", Phone: "MRKPHONE 1234", PaymentInstrument: "MRKPAY 9876"})
	p := a.orderFor(t, c.ID, vol.ID, persona.ID)
	vc := a.signInVia(t, vol.Email, ipMarker)
	if res := vc.get(fmt.Sprintf("/assignments/%d", p.ID)); res.StatusCode != http.StatusOK {
		t.Fatalf("the volunteer's assignment: %d", res.StatusCode)
	}
	vc.walkPurchase(t, p.ID, buySteps{OrderNumber: "MRKORDERNO-1", DeliveryCarrier: "MRKCARRIERIN", InTrack: "MRKTRACKIN-77", InSeal: "MRKSEALIN-5",
		Photos:          []file{{"item_photo", "IMG_MRKFILENAME.jpg", exifJPEG(t, isoPhoto, 1)}, {"parcel_photo", "IMG_MRKFILENAME.jpg", exifJPEG(t, isoPhoto, 2)}},
		DispatchCarrier: "MRKCARRIEROUT", OutTrack: "MRKTRACKOUT-88", OutSeal: "MRKSEALOUT-6"})
	if err := a.cases.Comment(ctx, a.accounts["staff"].Actor(), c.ID, "Internal: MRKCOMMENT"); err != nil {
		t.Fatal(err)
	}
	m := markedPurchase{ref: c.Reference, caseID: c.ID, purchase: p, volID: vol.ID, persona: persona}
	if err := a.db.Gorm.Table("evidence").Where("purchase_id = ? AND kind IN ?", p.ID, []string{"item_photo", "parcel_photo"}).Order("id").Pluck("id", &m.photos).Error; err != nil {
		t.Fatal(err)
	}
	if len(m.photos) != 2 {
		t.Fatalf("the delivery step recorded %d photos, want 2", len(m.photos))
	}
	ch, _, err := a.purchase.ChainOf(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.itemID = ch.Item.ID
	return m
}

// signCounterfeit has the brand user log the item in and sign a
// counterfeit verdict through the routes, as TestBrandUsersNeverSeeWhoBought does.
func (a *app) signCounterfeit(t *testing.T, brand *client, ref string, caseID, itemID int64) {
	t.Helper()
	if res := brand.postFiles(fmt.Sprintf("/items/%d/accept", itemID), url.Values{"seal_intact": {"on"}}, nil, true); res.StatusCode != http.StatusNoContent {
		t.Fatalf("accept: %d\n%.500s", res.StatusCode, res.body)
	}
	var fresh casework.Case
	if err := a.db.Gorm.Take(&fresh, caseID).Error; err != nil {
		t.Fatal(err)
	}
	form := url.Values{"version": {fmt.Sprint(fresh.Version)}, "result": {"counterfeit"}, "authenticator": {"Ada Keller"},
		"summary": {"Packaging and colour do not match."}, "signed_name": {"Ada Keller"}, "confirm": {"on"}}
	for _, item := range verdict.Items {
		form.Set("check_"+item, "pass")
	}
	form.Set("check_packaging", "fail")
	res := brand.postFiles("/authentications/"+ref+"/verdict", form, []file{{"report", "report.pdf", []byte("%PDF-1.7\n" + strings.Repeat("x", 100))}}, true)
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("verdict: %d\n%.1500s", res.StatusCode, res.body)
	}
	if err := a.db.Gorm.Take(&fresh, caseID).Error; err != nil {
		t.Fatal(err)
	}
	if fresh.State != casework.Confirmed {
		t.Fatalf("case %s after the verdict", fresh.State)
	}
}

var evidencePath = regexp.MustCompile(`^/evidence/(\d+)(/thumb)?$`)

// TestNoBuyerIdentityCrossesToTheBrand plants identity markers in every
// place a buyer can leave one (photo metadata, file name, both custody
// legs, persona, account, order number, staff notes, client IP) and
// searches every response a brand user can get, and every member of the
// default evidence bundle.
func TestNoBuyerIdentityCrossesToTheBrand(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newIsolationApp(t, db)
		a.startWorkers()
		m := a.buyMarked(t, "shop-marked")
		staff := a.as("staff")
		// A staff file, withdrawn before the bundle is built.
		withdrawnBody := uniquePNG(t, 201)
		if res := staff.postFiles("/cases/"+m.ref+"/evidence", url.Values{"kind": {"report"}}, []file{{"files", "mistake.png", withdrawnBody}}, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("staff upload: %d", res.StatusCode)
		}
		sum := sha256.Sum256(withdrawnBody)
		withdrawnHash := hex.EncodeToString(sum[:])
		var withdrawnID int64
		if err := db.Gorm.Raw("SELECT id FROM evidence WHERE sha256 = ?", withdrawnHash).Row().Scan(&withdrawnID); err != nil {
			t.Fatal(err)
		}
		if res := staff.post(fmt.Sprintf("/evidence/%d/withdraw", withdrawnID), url.Values{"reason": {"wrong case"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", res.StatusCode)
		}
		var nWithdrawn int64
		if err := db.Gorm.Table("evidence").Where("id = ? AND withdrawn_at IS NOT NULL", withdrawnID).Count(&nWithdrawn).Error; err != nil {
			t.Fatal(err)
		}
		if withdrawnID == 0 || nWithdrawn != 1 {
			t.Fatalf("the staff file %d was not withdrawn", withdrawnID)
		}

		brand := a.as("brand")
		starts := []string{"/authentications", "/authentications/" + m.ref, "/notifications", "/authentications/cases"}
		check := func(t *testing.T, phase string) {
			t.Helper()
			got := brand.crawl(t, "brand ("+phase+")", starts, identityMarkers)
			downloads, thumbs := 0, 0
			for _, c := range got {
				if sm := evidencePath.FindStringSubmatch(c.path); sm != nil && c.res.StatusCode == http.StatusOK {
					if sm[2] == "" {
						downloads++
					} else {
						thumbs++
					}
				}
				switch c.path {
				case "/authentications", "/authentications/" + m.ref, "/notifications":
					if c.res.StatusCode != http.StatusOK {
						t.Errorf("brand (%s) GET %s: %d", phase, c.path, c.res.StatusCode)
					}
				case "/authentications/cases":
					if c.res.StatusCode != http.StatusOK || !strings.Contains(c.res.body, m.ref) {
						t.Errorf("brand (%s) GET /authentications/cases, the brand's case list: %d, lists %s: %v; it must exist and list every case that reached the brand",
							phase, c.res.StatusCode, m.ref, strings.Contains(c.res.body, m.ref))
					}
				}
			}
			if downloads == 0 || thumbs == 0 {
				t.Errorf("brand (%s): %d evidence downloads and %d thumbnails reached from the brand's pages; the item photo must be offered (as a derivative), else this test searches nothing",
					phase, downloads, thumbs)
			}
			if len(got) < 5 {
				t.Errorf("brand (%s): only %d responses searched", phase, len(got))
			}
			if !strings.Contains(got[1].res.doc(t).Find("[data-testid=custody]").Text(), "Buyer B-") {
				t.Errorf("brand (%s): the custody section does not show the buyer's pseudonym", phase)
			}
		}
		t.Run("the brand's pages on the way in", func(t *testing.T) { check(t, "in transit") })
		a.signCounterfeit(t, brand, m.ref, m.caseID, m.itemID)
		t.Run("the brand's pages after its verdict", func(t *testing.T) { check(t, "confirmed") })

		t.Run("the default bundle", func(t *testing.T) {
			if res := staff.post("/cases/"+m.ref+"/bundles", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("request a bundle: %d", res.StatusCode)
			}
			var href string
			for deadline := time.Now().Add(20 * time.Second); href == ""; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the bundle was not built:\n%s", staff.get("/cases/"+m.ref).doc(t).Find("[data-testid=bundles]").Text())
				}
				href, _ = staff.get("/cases/" + m.ref).doc(t).Find("[data-testid=bundle-done] a").Attr("href")
			}
			zipRes := staff.get(href)
			if zipRes.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", href, zipRes.StatusCode)
			}
			members, names := zipMembers(t, []byte(zipRes.body))
			for _, want := range []string{bundle.SummaryName, bundle.AuditName, bundle.ManifestName} {
				if _, ok := members[want]; !ok {
					t.Fatalf("the bundle has no %s: %v", want, names)
				}
			}
			for _, m := range markersIn(headerText(zipRes.Header), identityMarkers) {
				t.Errorf("GET %s: a response header holds %s", href, m)
			}
			hashes := map[string]string{}
			for _, name := range names {
				for _, mk := range markersIn(string(members[name]), identityMarkers) {
					t.Errorf("bundle member %s holds %s", name, mk)
				}
				for _, mk := range markersIn(name, identityMarkers) {
					t.Errorf("bundle member name %s holds %s", name, mk)
				}
				s := sha256.Sum256(members[name])
				hashes[hex.EncodeToString(s[:])] = name
			}
			// audit.jsonl: no buyer or address fields, at any depth.
			lines := strings.Split(strings.TrimSpace(string(members[bundle.AuditName])), "\n")
			if len(lines) < 3 {
				t.Fatalf("audit.jsonl has %d lines", len(lines))
			}
			forbidden := []string{"volunteer_id", "persona_id", "actor_id", "ip", "client_ip"}
			firstLine := map[string]int{}
			for n, line := range lines {
				var v any
				if err := json.Unmarshal([]byte(line), &v); err != nil {
					t.Fatalf("audit.jsonl line %d: %v", n+1, err)
				}
				keys := map[string]bool{}
				jsonKeys(v, keys)
				for _, k := range forbidden {
					if _, dup := firstLine[k]; keys[k] && !dup {
						firstLine[k] = n + 1
					}
				}
			}
			for _, k := range forbidden {
				if n, ok := firstLine[k]; ok {
					t.Errorf("audit.jsonl has the key %q (first on line %d): %.300s", k, n, lines[n-1])
				}
			}
			// No withdrawn file in the default bundle.
			var man bundle.Manifest
			if err := json.Unmarshal(members[bundle.ManifestName], &man); err != nil {
				t.Fatal(err)
			}
			if len(man.Members) < 3 {
				t.Fatalf("the manifest lists %d members", len(man.Members))
			}
			for _, mem := range man.Members {
				if mem.Withdrawn || mem.EvidenceID == withdrawnID || mem.SHA256 == withdrawnHash {
					t.Errorf("the default bundle holds the withdrawn file %d as %s", withdrawnID, mem.Name)
				}
			}
			if name, ok := hashes[withdrawnHash]; ok {
				t.Errorf("the default bundle holds the withdrawn file %d's bytes as %s", withdrawnID, name)
			}
		})

		t.Run("every marker is on the staff side", func(t *testing.T) {
			var staffSide strings.Builder
			staffSide.WriteString(staff.get("/cases/" + m.ref).body)
			staffSide.WriteString(staff.get(fmt.Sprintf("/volunteers/%d", m.volID)).body)
			for _, id := range m.photos {
				res := staff.get(fmt.Sprintf("/evidence/%d", id))
				if res.StatusCode != http.StatusOK {
					t.Errorf("staff GET /evidence/%d: %d", id, res.StatusCode)
				}
				staffSide.WriteString(res.body + headerText(res.Header))
			}
			rows, err := db.Gorm.Raw("SELECT client_ip, detail FROM audit_events").Rows()
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var ip, detail string
				if err := rows.Scan(&ip, &detail); err != nil {
					t.Fatal(err)
				}
				staffSide.WriteString(ip + " " + detail + "\n")
			}
			if err := errors.Join(rows.Err(), rows.Close()); err != nil {
				t.Fatal(err)
			}
			var persona purchase.Persona
			if err := db.Gorm.Take(&persona, m.persona.ID).Error; err != nil {
				t.Fatal(err)
			}
			staffSide.WriteString(fmt.Sprintf("%+v", persona))
			found := markersIn(staffSide.String(), identityMarkers)
			for _, mk := range identityMarkers {
				if !slices.Contains(found, mk) {
					t.Errorf("the marker %s is nowhere on the staff side (case page, volunteer profile, original files, audit table): it was not planted where the test thinks", mk)
				}
			}
		})
	})
}

// TestABrandSeesOnlyTheItemsReleasedToIt: of a case's two purchases, the
// one cancelled after delivery never reached the brand: neither its item
// nor its photos are the brand's to see.
func TestABrandSeesOnlyTheItemsReleasedToIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newIsolationApp(t, db)
		c := a.openCase(t, "shop-two-buys")
		v1, p1 := a.newVolunteer(t, "First Buyer", "first@test.spotcheck.test", purchase.NewPersona{PlatformAccount: "first-acct",
			AddressAlias: "Locker 1", Phone: "+86 138 0000 0001", PaymentInstrument: "card 1111"})
		v2, p2 := a.newVolunteer(t, "Second Buyer", "second@test.spotcheck.test", purchase.NewPersona{PlatformAccount: "second-acct",
			AddressAlias: "Locker 2", Phone: "+86 138 0000 0002", PaymentInstrument: "card 2222"})
		first := a.orderFor(t, c.ID, v1.ID, p1.ID)
		a.signInVia(t, v1.Email, "").walkPurchase(t, first.ID, buySteps{OrderNumber: "T-1", DeliveryCarrier: "YTO", InTrack: "YT-1", InSeal: "S-1",
			Photos: []file{{"parcel_photo", "p1.png", uniquePNG(t, 11)}, {"item_photo", "i1.png", uniquePNG(t, 12)}}, StopAfterDelivery: true})
		staff := a.as("staff")
		var fresh casework.Case
		if err := db.Gorm.Take(&fresh, c.ID).Error; err != nil {
			t.Fatal(err)
		}
		if res := staff.post("/cases/"+c.Reference+"/purchase/cancel", url.Values{"version": {fmt.Sprint(fresh.Version)},
			"reason": {"the seller asked the buyer odd questions"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("cancel after delivery: %d\n%.800s", res.StatusCode, res.body)
		}
		second := a.orderFor(t, c.ID, v2.ID, p2.ID)
		a.signInVia(t, v2.Email, "").walkPurchase(t, second.ID, buySteps{OrderNumber: "T-2", DeliveryCarrier: "YTO", InTrack: "YT-2", InSeal: "S-2",
			Photos:          []file{{"parcel_photo", "p2.png", uniquePNG(t, 21)}, {"item_photo", "i2.png", uniquePNG(t, 22)}},
			DispatchCarrier: "SF", OutTrack: "SF-2", OutSeal: "S-2b"})
		var firstFiles []int64
		if err := db.Gorm.Table("evidence").Where("purchase_id = ? AND kind IN ?", first.ID, []string{"item_photo", "parcel_photo"}).Pluck("id", &firstFiles).Error; err != nil {
			t.Fatal(err)
		}
		if len(firstFiles) != 2 {
			t.Fatalf("the first purchase has %d photos, want 2", len(firstFiles))
		}
		for _, id := range firstFiles {
			if res := staff.get(fmt.Sprintf("/evidence/%d", id)); res.StatusCode != http.StatusOK {
				t.Fatalf("staff GET /evidence/%d: %d", id, res.StatusCode)
			}
		}

		brand := a.as("brand")
		page := brand.get("/authentications/" + c.Reference)
		if page.StatusCode != http.StatusOK {
			t.Fatalf("GET /authentications/%s: %d", c.Reference, page.StatusCode)
		}
		doc := page.doc(t)
		if n := doc.Find("[data-testid=custody]").Length(); n != 1 {
			t.Errorf("the brand's case page shows %d custody chains, want 1 (the second item's)", n)
		}
		if !strings.Contains(page.body, c.Reference+"-2") {
			t.Errorf("the brand's case page does not show item %s-2", c.Reference)
		}
		if got := markersIn(page.body, []string{c.Reference + "-1"}); len(got) > 0 {
			t.Errorf("the brand's case page shows the cancelled item %s-1", c.Reference)
		}
		offered, linked := 0, map[string]bool{}
		doc.Find("a[href], img[src]").Each(func(_ int, s *goquery.Selection) {
			v, ok := s.Attr("href")
			if !ok {
				v, _ = s.Attr("src")
			}
			sm := evidencePath.FindStringSubmatch(v)
			if sm == nil || linked[v] {
				return
			}
			linked[v] = true
			var pid *int64
			if err := db.Gorm.Raw("SELECT purchase_id FROM evidence WHERE id = ?", sm[1]).Row().Scan(&pid); err != nil {
				t.Fatal(err)
			}
			if pid != nil && *pid == first.ID {
				t.Errorf("the brand's case page links %s, a file of the cancelled purchase", v)
				return
			}
			if res := brand.get(v); res.StatusCode == http.StatusOK {
				offered++
			} else {
				t.Errorf("the brand's case page links %s, which answers %d", v, res.StatusCode)
			}
		})
		if offered == 0 {
			t.Errorf("the brand's case page offers no file of the second item: nothing was shared")
		}
		for _, id := range firstFiles {
			for _, p := range []string{fmt.Sprintf("/evidence/%d", id), fmt.Sprintf("/evidence/%d/thumb", id)} {
				if res := brand.get(p); res.StatusCode != http.StatusNotFound {
					t.Errorf("brand GET %s (a photo of the cancelled purchase): %d, want 404", p, res.StatusCode)
				}
			}
		}
	})
}

var pseudonymRE = regexp.MustCompile(`Buyer (B-[0-9A-Z]+)\b`)

// pseudonymsOn lists the buyer pseudonyms of each custody chain on a
// brand's case page.
func pseudonymsOn(t *testing.T, brand *client, ref string) [][]string {
	t.Helper()
	res := brand.get("/authentications/" + ref)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("brand GET /authentications/%s: %d", ref, res.StatusCode)
	}
	var out [][]string
	res.doc(t).Find("[data-testid=custody]").Each(func(_ int, s *goquery.Selection) {
		var ps []string
		html, _ := s.Html() // tags, not run-together text, end a pseudonym
		for _, m := range pseudonymRE.FindAllStringSubmatch(html, -1) {
			ps = append(ps, m[1])
		}
		out = append(out, ps)
	})
	return out
}

// TestABuyerHasAnotherPseudonymOnEachCase: one volunteer buys on two
// cases of the brand; the brand cannot tell it is the same person, while
// within one case the buyer keeps one pseudonym.
func TestABuyerHasAnotherPseudonymOnEachCase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		// A short rotation window lets the buyer buy again on the same case.
		a := newIsolationApp(t, db, func(c *config.Config) { c.RotationWindow = time.Millisecond })
		ctx := context.Background()
		vol, pa := a.newVolunteer(t, "Repeat Buyer", "repeat@test.spotcheck.test", purchase.NewPersona{PlatformAccount: "acct-a",
			AddressAlias: "Locker A", Phone: "+86 138 0000 000A", PaymentInstrument: "card AAAA"})
		pb, err := a.purchase.AddPersona(ctx, a.accounts["staff"].Actor(), vol.ID, purchase.NewPersona{PlatformAccount: "acct-b",
			AddressAlias: "Locker B", Phone: "+86 138 0000 000B", PaymentInstrument: "card BBBB"})
		if err != nil {
			t.Fatal(err)
		}
		vc := a.signInVia(t, vol.Email, "")
		buy := func(caseID, personaID int64, n byte) purchase.Purchase {
			p := a.orderFor(t, caseID, vol.ID, personaID)
			vc.walkPurchase(t, p.ID, buySteps{OrderNumber: fmt.Sprintf("T-%d", n), DeliveryCarrier: "YTO", InTrack: fmt.Sprintf("YT-%d", n),
				InSeal: fmt.Sprintf("S-%d", n), Photos: []file{{"parcel_photo", "p.png", uniquePNG(t, n)}, {"item_photo", "i.png", uniquePNG(t, n+100)}},
				DispatchCarrier: "SF", OutTrack: fmt.Sprintf("SF-%d", n), OutSeal: fmt.Sprintf("SO-%d", n)})
			return p
		}
		ca, cb := a.openCase(t, "shop-pseudo-a"), a.openCase(t, "shop-pseudo-b")
		firstA := buy(ca.ID, pa.ID, 1)
		buy(cb.ID, pb.ID, 2)
		brand := a.as("brand")
		onA, onB := pseudonymsOn(t, brand, ca.Reference), pseudonymsOn(t, brand, cb.Reference)
		if len(onA) != 1 || len(onA[0]) == 0 || len(onB) != 1 || len(onB[0]) == 0 {
			t.Fatalf("pseudonyms shown: case A %v, case B %v; want the buyer on each case's one chain", onA, onB)
		}
		if onA[0][0] == onB[0][0] {
			t.Errorf("the same buyer is %s on both %s and %s: a brand can link the two cases to one person", onA[0][0], ca.Reference, cb.Reference)
		}

		t.Run("one pseudonym within a case", func(t *testing.T) {
			brandActor := a.accounts["brand"].Actor()
			ch, _, err := a.purchase.ChainOf(ctx, firstA.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.purchase.Accept(ctx, brandActor, ch.Item.ID, purchase.Acceptance{SealIntact: true}, nil); err != nil {
				t.Fatal(err)
			}
			var c casework.Case
			if err := db.Gorm.Take(&c, ca.ID).Error; err != nil {
				t.Fatal(err)
			}
			in := verdict.Input{CaseVersion: c.Version, Result: "inconclusive", Outcomes: map[string]string{}, Notes: map[string]string{},
				Authenticator: "A", Summary: "cannot tell from this one", SignedName: "A", Confirmed: true}
			for _, item := range verdict.Items {
				in.Outcomes[item] = "pass"
			}
			if _, err := verdict.NewService(db, &dbtest.Jobs{}).Submit(ctx, brandActor, ca.ID, in, nil, nil, nil); err != nil {
				t.Skipf("an inconclusive verdict to buy again on the case: %v", err)
			}
			time.Sleep(5 * time.Millisecond) // past the rotation window
			if err := db.Gorm.Take(&c, ca.ID).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := a.purchase.Order(ctx, a.accounts["staff"].Actor(), c.ID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: vol.ID,
				PersonaID: pa.ID, Budget: "200.00", Currency: "CNY", ShipTo: "Brand office", DueOn: time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)}); err != nil {
				t.Skipf("rotation refuses a second purchase by the same buyer on the case: %v", err)
			}
			var second purchase.Purchase
			if err := db.Gorm.Where("case_id = ? AND id <> ?", ca.ID, firstA.ID).Take(&second).Error; err != nil {
				t.Fatal(err)
			}
			vc.walkPurchase(t, second.ID, buySteps{OrderNumber: "T-3", DeliveryCarrier: "YTO", InTrack: "YT-3", InSeal: "S-3",
				Photos:          []file{{"parcel_photo", "p.png", uniquePNG(t, 3)}, {"item_photo", "i.png", uniquePNG(t, 103)}},
				DispatchCarrier: "SF", OutTrack: "SF-3", OutSeal: "SO-3"})
			onA := pseudonymsOn(t, brand, ca.Reference)
			if len(onA) != 2 || len(onA[0]) == 0 || len(onA[1]) == 0 {
				t.Fatalf("case A's chains show pseudonyms %v; want two chains, each with its buyer", onA)
			}
			all := append(append([]string(nil), onA[0]...), onA[1]...)
			for _, p := range all {
				if p != all[0] {
					t.Errorf("one buyer appears as %v on the two items of %s: want one pseudonym within a case", all, ca.Reference)
					break
				}
			}
		})
	})
}

// TestABrandSeesCustodyOnlyFromTheReleaseToIt: the brand's custody chain
// says the platform's buyer bought and received the item, and when, but
// nothing of the seller → buyer leg (carrier, tracking, seal) and no
// parcel photo (its label carries the buyer's address); from the release
// to the brand onwards it is all there.
func TestABrandSeesCustodyOnlyFromTheReleaseToIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newIsolationApp(t, db)
		c := a.openCase(t, "shop-custody")
		vol, persona := a.newVolunteer(t, "Custody Buyer", "custody@test.spotcheck.test", purchase.NewPersona{PlatformAccount: "acct-c",
			AddressAlias: "Locker C", Phone: "+86 138 0000 000C", PaymentInstrument: "card CCCC"})
		p := a.orderFor(t, c.ID, vol.ID, persona.ID)
		a.signInVia(t, vol.Email, "").walkPurchase(t, p.ID, buySteps{OrderNumber: "T-C", DeliveryCarrier: "MRKCARRIERIN", InTrack: "MRKTRACKIN-1",
			InSeal: "MRKSEALIN-1", Photos: []file{{"parcel_photo", "parcel.png", uniquePNG(t, 41)}, {"item_photo", "item.png", uniquePNG(t, 42)}},
			DispatchCarrier: "SF Express", OutTrack: "SF-OUT-4242", OutSeal: "SEAL-OUT-4242"})
		inLeg := []string{"MRKCARRIERIN", "MRKTRACKIN", "MRKSEALIN"}
		staffPage := a.as("staff").get("/cases/" + c.Reference)
		if got := markersIn(staffPage.body, inLeg); len(got) != len(inLeg) {
			t.Fatalf("the staff case page shows %v of the seller → buyer leg %v: the markers are not where the test thinks", got, inLeg)
		}
		var parcels []int64
		if err := db.Gorm.Table("evidence").Where("purchase_id = ? AND kind = 'parcel_photo'", p.ID).Pluck("id", &parcels).Error; err != nil {
			t.Fatal(err)
		}
		if len(parcels) != 1 {
			t.Fatalf("%d parcel photos", len(parcels))
		}
		ch, _, err := a.purchase.ChainOf(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		brand := a.as("brand")
		if res := brand.postFiles(fmt.Sprintf("/items/%d/accept", ch.Item.ID), url.Values{"seal_intact": {"on"}}, nil, true); res.StatusCode != http.StatusNoContent {
			t.Fatalf("accept: %d\n%.500s", res.StatusCode, res.body)
		}
		page := brand.get("/authentications/" + c.Reference)
		doc := page.doc(t)
		custody := doc.Find("[data-testid=custody]")
		if custody.Length() != 1 {
			t.Fatalf("the brand's case page shows %d custody chains", custody.Length())
		}
		for _, m := range markersIn(page.body, inLeg) {
			t.Errorf("the brand's case page shows %s of the seller → buyer leg (in custody: %v)", m, slices.Contains(markersIn(custody.Text(), inLeg), m))
		}
		receive := custody.Find("[data-testid=custody-receive]")
		if receive.Length() != 1 || !strings.Contains(receive.Text(), "Buyer B-") || strings.TrimSpace(receive.Find("time").Text()) == "" {
			t.Errorf("the brand's custody does not say the platform's buyer received the item, and when: %q", receive.Text())
		}
		release := custody.Find("[data-testid=custody-release]")
		if release.Length() != 1 || !strings.Contains(release.Text(), "Aurora Timepieces") || strings.TrimSpace(release.Find("time").Text()) == "" {
			t.Errorf("the brand's custody does not show the release to the brand with its date: %q", release.Text())
		}
		if custody.Find("[data-testid=custody-accept]").Length() != 1 {
			t.Errorf("the brand's custody does not show its own acceptance: %q", custody.Text())
		}
		for _, id := range parcels {
			linked := map[string]bool{}
			doc.Find("a[href], img[src]").Each(func(_ int, s *goquery.Selection) {
				v, ok := s.Attr("href")
				if !ok {
					v, _ = s.Attr("src")
				}
				if sm := evidencePath.FindStringSubmatch(v); sm != nil && sm[1] == fmt.Sprint(id) && !linked[v] {
					linked[v] = true
					t.Errorf("the brand's case page links %s, the buyer's parcel photo", v)
				}
			})
			for _, path := range []string{fmt.Sprintf("/evidence/%d", id), fmt.Sprintf("/evidence/%d/thumb", id)} {
				if res := brand.get(path); res.StatusCode != http.StatusNotFound {
					t.Errorf("brand GET %s (the buyer's parcel photo): %d, want 404", path, res.StatusCode)
				}
			}
		}
	})
}
