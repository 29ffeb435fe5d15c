package bundle_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/internal/shop"
	"spotcheck/internal/verdict"
)

var (
	staff     = authz.Actor{UserID: 2, Role: role.Staff}
	vol       = authz.Actor{UserID: 3, Role: role.Volunteer}
	brandUser = authz.Actor{UserID: 4, Role: role.Brand, BrandIDs: []int64{1}}
)

type noJobs struct{}

func (noJobs) InsertTx(context.Context, *gorm.DB, river.JobArgs) error { return nil }

// fixture is a case taken through a test purchase to a counterfeit
// verdict, with real files in a file:// bucket, one of them withdrawn, and
// a linked shop with a case of its own.
type fixture struct {
	db       *database.DB
	store    *evidence.Store
	dir      string // the bucket's folder
	c        casework.Case
	linked   casework.Case
	item     string
	evidence []evidence.Evidence
}

func setup(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	g := db.Gorm
	for _, u := range []struct {
		id   int64
		role string
	}{{2, "staff"}, {3, "volunteer"}, {4, "brand"}} {
		must(g.Exec(`INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, 'x', ?, ?)`,
			u.id, fmt.Sprintf("u%d@x.test", u.id), fmt.Sprintf("Person %d", u.id), u.role, now, now).Error)
	}
	must(g.Exec(`INSERT INTO brands (id, name, rights_holder, created_at) VALUES (1, 'Aurora', 'Aurora AG', ?)`, now).Error)
	must(g.Exec(`INSERT INTO brand_members (user_id, brand_id) VALUES (4, 1)`).Error)
	must(g.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, registered_owner, created_at, updated_at) VALUES
		(1, 'taobao', 's-1', 'Crystal Time Flagship', 'Wang Wei', ?, ?), (2, 'taobao', 's-2', 'Second Crystal Shop', 'Li Na', ?, ?)`,
		now, now, now, now).Error)
	// Through the service, which keeps the shops' cluster.
	must(func() error {
		_, err := shop.NewService(db).AddLink(ctx, 2, 1, 2, "same_payout_account", "same bank card")
		return err
	}())
	f := &fixture{db: db}
	must(db.InTx(ctx, func(tx *gorm.DB) error {
		cs, err := casework.OpenTx(tx, staff, []casework.NewCase{{ShopID: 1, BrandID: 1}, {ShopID: 2, BrandID: 1}})
		if err == nil {
			f.c, f.linked = cs[0], cs[1]
		}
		return err
	}))
	must(g.Exec(`INSERT INTO listings (id, shop_id, platform_listing_id, url, title, price_minor, currency, brand_id, created_at, updated_at)
		VALUES (1, 1, 'l-1', 'https://shop.example/item/1', 'Crystal watch, lady', 29900, 'CNY', 1, ?, ?)`, now, now).Error)
	must(g.Exec(`INSERT INTO flags (source, external_id, rule, score, shop_id, listing_id, brand_id, detected_at, payload, case_id, status, received_at)
		VALUES ('risk', 'x-1', 'price', 0.9, 1, 1, 1, ?, '{}', ?, 'attached', ?)`, now, f.c.ID, now).Error)

	f.dir = t.TempDir()
	b, err := evidence.OpenBucket(ctx, "file://"+filepath.ToSlash(f.dir))
	must(err)
	dbtest.Close(t, b)
	f.store = &evidence.Store{Bucket: b}
	put := func(k evidence.Kind, content []byte) evidence.Upload {
		st, err := f.store.Put(ctx, bytes.NewReader(content), string(k)+".bin")
		must(err)
		return evidence.Upload{Kind: k, Stored: st}
	}

	svc := purchase.NewService(db, noJobs{}, 0, time.UTC)
	persona, err := svc.AddPersona(ctx, staff, 3, purchase.NewPersona{PlatformAccount: "buyer-one", AddressAlias: "Locker 7",
		Phone: "+86 138 0000 1234", PaymentInstrument: "card 6222 0000 0000 4321"})
	must(err)
	p, err := svc.Order(ctx, staff, f.c.ID, purchase.OrderInput{CaseVersion: f.c.Version, VolunteerID: 3, PersonaID: persona.ID,
		Budget: "300.00", Currency: "CNY", ShipTo: "Aurora office", DueOn: now.AddDate(0, 0, 10).Format(time.DateOnly)})
	must(err)
	today := now.Format(time.DateOnly)
	must(svc.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: "TB4200001", AmountPaid: "279.00",
		Fee: "12.00", OrderDate: today}, []evidence.Upload{put(evidence.Receipt, pngBytes(t, 1)), put(evidence.Screenshot, pngBytes(t, 2))}))
	p, _ = svc.Get(ctx, staff, p.ID)
	must(svc.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: today, SealNumber: "SEAL-1",
		Carrier: "SF Express", Tracking: "SF1"}, []evidence.Upload{put(evidence.ParcelPhoto, pngBytes(t, 3))}))
	must(svc.AddEvidence(ctx, vol, p.ID, []evidence.Upload{put(evidence.Receipt, pngBytes(t, 4))}))
	p, _ = svc.Get(ctx, staff, p.ID)
	must(svc.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "EMS", Tracking: "EMS1", Seal: "SEAL-1"}, nil))
	ch, _, err := svc.ChainOf(ctx, p.ID)
	must(err)
	f.item = ch.Item.Number
	must(svc.Accept(ctx, brandUser, ch.Item.ID, purchase.Acceptance{SealIntact: true, Place: "Aurora office"}, nil))
	var r purchase.Reimbursement
	must(g.Where("purchase_id = ?", p.ID).Take(&r).Error)
	must(svc.Approve(ctx, staff, r.ID, purchase.Approval{}))

	c, err := casework.NewService(db).Get(ctx, staff, f.c.ID)
	must(err)
	in := verdict.Input{CaseVersion: c.Version, Result: string(verdict.Counterfeit), Outcomes: map[string]string{}, Notes: map[string]string{},
		Authenticator: "Ada Keller", Summary: "Rough workmanship.", SignedName: "Ada Keller", Confirmed: true}
	for _, it := range verdict.Items {
		in.Outcomes[it] = string(verdict.Pass)
	}
	in.Outcomes["workmanship"], in.Notes["workmanship"] = string(verdict.Fail), "Rough edges."
	_, err = verdict.NewService(db, &dbtest.Jobs{}).Submit(ctx, brandUser, f.c.ID, in, []evidence.Upload{put(evidence.Report, pdfBytes())}, nil, nil)
	must(err)

	// Referred to the police on a bundle built after the verdict, and raided.
	must(g.Exec(`INSERT INTO bundles (case_id, requested_by, lang, status, created_at) VALUES (?, 2, 'zh', 'done', ?)`,
		f.c.ID, time.Now().UTC().Add(time.Minute)).Error)
	c, err = casework.NewService(db).Get(ctx, staff, f.c.ID)
	must(err)
	enf := enforcement.NewService(db, &dbtest.Jobs{}, enforcement.DefaultThresholds, time.UTC)
	_, err = enf.Refer(ctx, staff, f.c.ID, enforcement.ReferralInput{CaseVersion: c.Version, Bureau: "Yiwu Public Security Bureau",
		District: "Futian", ReferredOn: today, LetterNumber: "GOV-2026-17"})
	must(err)
	must(enf.Progress(ctx, staff, f.c.ID, 1, enforcement.Accepted, "YW-2026-0042"))
	_, err = enf.RecordRaid(ctx, staff, f.c.ID, enforcement.RaidInput{RaidedOn: today, Place: "Warehouse, Yiwu", Arrests: "2",
		EstimatedSales: "1400000.00", Lines: []enforcement.LineInput{{Description: "Fake crystal watches", Quantity: "125", UnitValue: "300.00"},
			{Description: "Fake seals", Quantity: "2", UnitValue: "0"}}}, nil)
	must(err)

	f.evidence, err = evidence.ForCase(ctx, g, f.c.ID)
	must(err)
	must(evidence.Withdraw(ctx, db, vol, f.evidence[3].ID, "photo of the wrong parcel"))
	f.evidence, err = evidence.ForCase(ctx, g, f.c.ID)
	must(err)
	if len(f.evidence) != 5 {
		t.Fatalf("%d evidence files in the fixture", len(f.evidence))
	}
	return f
}

func pngBytes(t *testing.T, n int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(n%8, n/8, color.RGBA{uint8(40 * n), 30, 30, 255}) // #nosec G115 -- n is a small member number; the colour only has to differ between images
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pdfBytes() []byte {
	return []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

var rawKey = regexp.MustCompile(`\b(bundle|state|party|custody|evidence)\.[a-z]`)

var at = time.Date(2026, 11, 26, 6, 5, 0, 0, time.UTC)

func (f *fixture) write(t *testing.T, kind bundle.Kind, lang i18n.Lang) ([]byte, bundle.Manifest) {
	t.Helper()
	var out bytes.Buffer
	m, err := bundle.Write(context.Background(), f.db, f.store, f.c.ID, kind, lang, at, &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes(), m
}

func verify(t *testing.T, b []byte) bundle.Report {
	t.Helper()
	rep, err := bundle.Verify(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func member(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	if err := errors.Join(err, rc.Close()); err != nil {
		t.Fatal(err)
	}
	return data
}

// rewrite copies a bundle member by member, as someone with the file
// would: edit returns a member's new content, or nil to leave it out.
func rewrite(t *testing.T, b []byte, edit func(name string, data []byte) []byte, add map[string]string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		data := member(t, b, f.Name)
		if data = edit(f.Name, data); data == nil {
			continue
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method, Modified: f.Modified})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range add {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, content); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func keep(_ string, data []byte) []byte { return data }

func TestABundleHoldsTheCaseAndMatchesItsManifest(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		var calls [][2]int
		var out bytes.Buffer
		m, err := bundle.Write(context.Background(), db, f.store, f.c.ID, bundle.Unredacted, i18n.English, at, &out,
			func(done, total int) { calls = append(calls, [2]int{done, total}) })
		if err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		if rep := verify(t, b); !rep.OK() || rep.String() != "OK: 7 members match the manifest\n" {
			t.Fatalf("fresh bundle: %s", rep)
		}
		if len(calls) != 8 || calls[7] != [2]int{8, 8} {
			t.Fatalf("progress %v", calls)
		}

		// Members in order, the manifest last, the files named by id and kind.
		zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		var names []string
		for _, zf := range zr.File {
			names = append(names, zf.Name)
		}
		want := []string{bundle.SummaryName}
		for _, e := range f.evidence {
			want = append(want, bundle.EvidenceName(e))
		}
		want = append(want, bundle.AuditName, bundle.ManifestName)
		if !slices.Equal(names, want) {
			t.Fatalf("members %v, want %v", names, want)
		}
		if got := bundle.EvidenceName(f.evidence[0]); got != fmt.Sprintf("evidence/%d-receipt.png", f.evidence[0].ID) {
			t.Fatalf("evidence name %s", got)
		}

		// The manifest: the case, the language, the audit head of the whole
		// chain, each file's recorded hash, the withdrawn file marked.
		var onDisk bundle.Manifest
		if err := json.Unmarshal(member(t, b, bundle.ManifestName), &onDisk); err != nil {
			t.Fatal(err)
		}
		head, err := audit.Verify(context.Background(), db.Gorm)
		if err != nil {
			t.Fatal(err)
		}
		if onDisk.Case != f.c.Reference || onDisk.GeneratedIn != i18n.English || !onDisk.GeneratedAt.Equal(at) ||
			onDisk.AuditHead != (bundle.AuditHead{ID: head.HeadSeq, Hash: head.HeadHash}) || len(onDisk.Members) != len(m.Members) {
			t.Fatalf("manifest %+v, chain head %d %s", onDisk, head.HeadSeq, head.HeadHash)
		}
		for i, e := range f.evidence {
			mem := onDisk.Members[i+1]
			if mem.SHA256 != e.SHA256 || mem.Size != e.Size || mem.EvidenceID != e.ID || mem.Kind != e.Kind || mem.Withdrawn != e.Withdrawn() {
				t.Errorf("member %+v for evidence %+v", mem, e)
			}
		}
		if !onDisk.Members[4].Withdrawn {
			t.Error("the withdrawn file is not marked in the manifest")
		}

		// audit.jsonl: every event about the case, its purchase, item and
		// files, with hashes; nothing about another case.
		kinds := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(member(t, b, bundle.AuditName)))
		lines := 0
		for sc.Scan() {
			var ev struct {
				Seq        int64
				ObjectType string `json:"object_type"`
				ObjectID   string `json:"object_id"`
				Detail     string
				PrevHash   string `json:"prev_hash"`
				Hash       string
			}
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatal(err)
			}
			lines++
			kinds[ev.ObjectType] = true
			if len(ev.Hash) != 64 || len(ev.PrevHash) != 64 || ev.Seq > head.HeadSeq || ev.ObjectID == f.linked.Reference {
				t.Errorf("audit line %s", sc.Text())
			}
		}
		for _, k := range []string{"case", "purchase", "item", "evidence", "reimbursement"} {
			if !kinds[k] {
				t.Errorf("no %s events in audit.jsonl (%v)", k, kinds)
			}
		}

		// The summary: the case, the shop and its network, the item and
		// every file's hash, the verdict.
		summary := string(member(t, b, bundle.SummaryName))
		for _, s := range []string{f.c.Reference, "Crystal Time Flagship", "Second Crystal Shop", f.linked.Reference, "same payout account: same bank card",
			f.item, "Crystal watch, lady", "Counterfeit", "Rough edges.", "Ada Keller", "photo of the wrong parcel",
			"Yiwu Public Security Bureau", "YW-2026-0042", "Fake crystal watches", "CN¥37,500.00", "2 arrested",
			`<html lang="en">`, "Evidence bundle"} {
			if !strings.Contains(summary, s) {
				t.Errorf("summary lacks %q", s)
			}
		}
		for _, e := range f.evidence {
			if !strings.Contains(summary, e.SHA256) {
				t.Errorf("summary lacks the hash of evidence %d", e.ID)
			}
		}
		if strings.Contains(summary, "<script") || strings.Contains(summary, "Person 3") || rawKey.MatchString(summary) {
			t.Errorf("the summary has a script, the volunteer's name or a raw message key:\n%s", summary)
		}
	})
}

func TestVerifyFindsAChangedAMissingAndAnExtraMember(t *testing.T) {
	f := setup(t, dbtest.SQLite(t))
	b, _ := f.write(t, bundle.Unredacted, i18n.English)
	photo := bundle.EvidenceName(f.evidence[2])

	changed := rewrite(t, b, func(name string, data []byte) []byte {
		if name == photo {
			data = bytes.Clone(data)
			data[len(data)/2] ^= 1
		}
		return data
	}, nil)
	if rep := verify(t, changed); rep.OK() || len(rep.Changed) != 1 || rep.Changed[0].Name != photo || len(rep.Missing)+len(rep.Extra) != 0 ||
		!strings.Contains(rep.String(), "changed: "+photo) {
		t.Fatalf("one byte changed: %s", rep)
	}

	// A byte flipped in the file itself, not rewritten: the ZIP's own
	// checksum fails, which counts as changed too.
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	flipped := bytes.Clone(b)
	for _, zf := range zr.File {
		if zf.Name == photo {
			off, _ := zf.DataOffset()
			flipped[off+10] ^= 0xff
		}
	}
	if rep := verify(t, flipped); len(rep.Changed) != 1 || rep.Changed[0].Name != photo {
		t.Fatalf("byte flipped in place: %s", rep)
	}

	// A member that inflates past its manifest size is read only one byte
	// past it, and refused.
	grown := rewrite(t, b, func(name string, data []byte) []byte {
		if name == photo {
			data = append(bytes.Clone(data), make([]byte, 1<<20)...)
		}
		return data
	}, nil)
	if rep := verify(t, grown); len(rep.Changed) != 1 || rep.Changed[0].Name != photo || !strings.HasPrefix(rep.Changed[0].Reason, "more than the ") {
		t.Fatalf("member grown: %s", rep)
	}

	missing := rewrite(t, b, func(name string, data []byte) []byte {
		if name == bundle.AuditName {
			return nil
		}
		return data
	}, nil)
	if rep := verify(t, missing); rep.OK() || !slices.Equal(rep.Missing, []string{bundle.AuditName}) || len(rep.Changed)+len(rep.Extra) != 0 ||
		!strings.Contains(rep.String(), "missing: audit.jsonl") {
		t.Fatalf("member removed: %s", rep)
	}

	extra := rewrite(t, b, keep, map[string]string{"evidence/99-receipt.png": "planted", bundle.SummaryName: "<p>another summary</p>"})
	rep := verify(t, extra)
	slices.Sort(rep.Extra)
	if rep.OK() || !slices.Equal(rep.Extra, []string{"evidence/99-receipt.png", bundle.SummaryName}) || len(rep.Changed)+len(rep.Missing) != 0 ||
		!strings.Contains(rep.String(), "extra:   evidence/99-receipt.png") {
		t.Fatalf("members added: %s", rep)
	}

	if _, err := bundle.Verify(bytes.NewReader([]byte("not a zip")), 9); !errors.Is(err, bundle.ErrNotABundle) {
		t.Fatalf("not a zip: %v", err)
	}
	noManifest := rewrite(t, b, func(name string, data []byte) []byte {
		if name == bundle.ManifestName {
			return nil
		}
		return data
	}, nil)
	if _, err := bundle.Verify(bytes.NewReader(noManifest), int64(len(noManifest))); !errors.Is(err, bundle.ErrNotABundle) {
		t.Fatalf("no manifest: %v", err)
	}
}

func TestTheSummaryIsInTheRequestedLanguage(t *testing.T) {
	f := setup(t, dbtest.SQLite(t))
	b, m := f.write(t, bundle.Redacted, i18n.Chinese)
	summary := string(member(t, b, bundle.SummaryName))
	for _, s := range []string{`<html lang="zh-CN">`, "证据包 " + f.c.Reference, "保管链", "假冒", "2026年11月26日 06:05", f.item} {
		if !strings.Contains(summary, s) {
			t.Errorf("Chinese summary lacks %q", s)
		}
	}
	if m.GeneratedIn != i18n.Chinese || !verify(t, b).OK() {
		t.Fatalf("manifest language %s", m.GeneratedIn)
	}
}

func TestATamperedFileStopsTheBundle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := setup(t, db)
		path := filepath.Join(f.dir, filepath.FromSlash(f.evidence[1].BlobKey))
		data, err := os.ReadFile(path) // #nosec G304 -- a blob key of the fixture's own evidence in its temporary folder
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-1] ^= 1
		if err := os.WriteFile(path, data, 0o600); err != nil { // #nosec G703 -- a blob key of the fixture's own evidence in its temporary folder
			t.Fatal(err)
		}
		var out bytes.Buffer
		_, err = bundle.Write(context.Background(), db, f.store, f.c.ID, bundle.Unredacted, i18n.English, at, &out, nil)
		if !errors.Is(err, bundle.ErrTampered) {
			t.Fatalf("tampered file: %v", err)
		}
		if _, err := zip.NewReader(bytes.NewReader(out.Bytes()), int64(out.Len())); err == nil {
			t.Fatal("a readable bundle was left behind")
		}
	})
}

func TestUnknownCaseIsNotFound(t *testing.T) {
	db := dbtest.SQLite(t)
	_, err := bundle.Write(context.Background(), db, nil, 404, bundle.Redacted, i18n.English, at, io.Discard, nil)
	if !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("unknown case: %v", err)
	}
}

// TestEveryKeyOfTheSummaryIsInTheCatalog: a block not reached by the
// fixture's data must not hide a missing message.
func TestEveryKeyOfTheSummaryIsInTheCatalog(t *testing.T) {
	src, err := os.ReadFile("summary.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	keys := regexp.MustCompile(`\bt "([a-z_.]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(keys) < 50 {
		t.Fatalf("found only %d keys", len(keys))
	}
	for _, k := range keys {
		if !i18n.Has(k[1]) {
			t.Errorf("%s is not in the catalog", k[1])
		}
	}
	for _, step := range []string{"receive", "release", "accept"} {
		if !i18n.Has("bundle.step." + step) {
			t.Errorf("bundle.step.%s is not in the catalog", step)
		}
	}
	for _, st := range casework.States {
		if !i18n.Has("state." + string(st)) {
			t.Errorf("state.%s is not in the catalog", st)
		}
	}
}
