package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"spotcheck/internal/casework"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/purchase"
	"spotcheck/internal/user"
)

// photoMarkers are what exifJPEG hides in a photo's metadata.
type photoMarkers struct {
	Artist, Make, Model, Serial, GPS, XMP, Comment string
}

// exifJPEG is a valid JPEG (made with image/jpeg) whose APP1 EXIF segment
// carries m as ASCII strings (Artist, Make, Model, BodySerialNumber, a GPS
// IFD with GPSAreaInformation), followed by an XMP APP1 packet and a COM
// segment. seed varies the pixels so that each photo has its own hash.
func exifJPEG(t testing.TB, m photoMarkers, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{byte(x*16) + seed, byte(y * 16), seed * 3, 255})
		}
	}
	var enc bytes.Buffer
	if err := jpeg.Encode(&enc, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	raw := enc.Bytes()
	if len(raw) < 2 || raw[0] != 0xFF || raw[1] != 0xD8 {
		t.Fatal("image/jpeg wrote no SOI")
	}
	exif := append([]byte("Exif\x00\x00"), exifTIFF(m)...)
	xmp := append([]byte("http://ns.adobe.com/xap/1.0/\x00"), []byte(`<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>`+
		`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`+
		`<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="`+m.XMP+`"/></rdf:RDF></x:xmpmeta>`+
		`<?xpacket end="w"?>`)...)
	var out bytes.Buffer
	out.Write(raw[:2])
	out.Write(jpegSegment(0xE1, exif))
	out.Write(jpegSegment(0xE1, xmp))
	out.Write(jpegSegment(0xFE, []byte(m.Comment)))
	out.Write(raw[2:])
	b := out.Bytes()
	if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
		t.Fatalf("the marked JPEG does not decode: %v", err)
	}
	for _, s := range []string{m.Artist, m.Make, m.Model, m.Serial, m.GPS, m.XMP, m.Comment} {
		if !bytes.Contains(b, []byte(s)) {
			t.Fatalf("the marked JPEG lacks %q", s)
		}
	}
	return b
}

func jpegSegment(marker byte, payload []byte) []byte {
	seg := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], u16(len(payload)+2))
	return append(seg, payload...)
}

// u16 and u32 convert a test image's lengths and offsets, panicking on one
// too large for its field instead of writing a wrapped-around value.
func u16(n int) uint16 {
	if n < 0 || n > math.MaxUint16 {
		panic(fmt.Sprintf("%d does not fit 16 bits", n))
	}
	return uint16(n)
}

func u32(n int) uint32 {
	if n < 0 || n > math.MaxUint32 {
		panic(fmt.Sprintf("%d does not fit 32 bits", n))
	}
	return uint32(n)
}

// tiffEntry is one IFD entry; data is the value's bytes (little-endian).
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

const (
	tiffByte      = 1
	tiffASCII     = 2
	tiffLong      = 4
	tiffRational  = 5
	tiffUndefined = 7
)

func asciiEntry(tag uint16, s string) tiffEntry {
	return tiffEntry{tag, tiffASCII, u32(len(s) + 1), append([]byte(s), 0)}
}

// ifdSize is the bytes an IFD and its out-of-line values take.
func ifdSize(es []tiffEntry) uint32 {
	n := u32(2 + 12*len(es) + 4)
	for _, e := range es {
		if len(e.data) > 4 {
			n += u32(len(e.data)+1) &^ 1
		}
	}
	return n
}

// writeIFD appends an IFD that starts at offset off of the TIFF header.
func writeIFD(b *bytes.Buffer, es []tiffEntry, off uint32) {
	le := binary.LittleEndian
	data := off + u32(2+12*len(es)+4)
	var tail bytes.Buffer
	b.Write(le.AppendUint16(nil, u16(len(es))))
	for _, e := range es {
		b.Write(le.AppendUint16(nil, e.tag))
		b.Write(le.AppendUint16(nil, e.typ))
		b.Write(le.AppendUint32(nil, e.count))
		if len(e.data) <= 4 {
			v := make([]byte, 4)
			copy(v, e.data)
			b.Write(v)
			continue
		}
		b.Write(le.AppendUint32(nil, data+u32(tail.Len())))
		tail.Write(e.data)
		if tail.Len()%2 == 1 {
			tail.WriteByte(0)
		}
	}
	b.Write(make([]byte, 4)) // no next IFD
	b.Write(tail.Bytes())
}

// exifTIFF is a minimal little-endian TIFF: IFD0 (Make, Model, Artist,
// pointers to the Exif and GPS IFDs), an Exif IFD (BodySerialNumber) and
// a GPS IFD (version, latitude, area information).
func exifTIFF(m photoMarkers) []byte {
	le := binary.LittleEndian
	rational := func(vals ...uint32) []byte {
		var b []byte
		for _, v := range vals {
			b = le.AppendUint32(b, v)
			b = le.AppendUint32(b, 1)
		}
		return b
	}
	long := func(v uint32) []byte { return le.AppendUint32(nil, v) }
	exifIFD := []tiffEntry{asciiEntry(0xA431, m.Serial)}
	gpsIFD := []tiffEntry{
		{0x0000, tiffByte, 4, []byte{2, 3, 0, 0}},
		asciiEntry(0x0001, "N"),
		{0x0002, tiffRational, 3, rational(31, 14, 5)},
		{0x001C, tiffUndefined, u32(8 + len(m.GPS)), append([]byte("ASCII\x00\x00\x00"), m.GPS...)},
	}
	ifd0 := []tiffEntry{asciiEntry(0x010F, m.Make), asciiEntry(0x0110, m.Model), asciiEntry(0x013B, m.Artist),
		{0x8769, tiffLong, 1, nil}, {0x8825, tiffLong, 1, nil}}
	off0 := uint32(8)
	offExif := off0 + ifdSize(ifd0)
	offGPS := offExif + ifdSize(exifIFD)
	ifd0[3].data, ifd0[4].data = long(offExif), long(offGPS)
	var b bytes.Buffer
	b.WriteString("II")
	b.Write(le.AppendUint16(nil, 42))
	b.Write(le.AppendUint32(nil, off0))
	writeIFD(&b, ifd0, off0)
	writeIFD(&b, exifIFD, offExif)
	writeIFD(&b, gpsIFD, offGPS)
	return b.Bytes()
}

// uniquePNG is a small real PNG whose pixels (and so its hash) depend on seed.
func uniquePNG(t testing.TB, seed byte) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = byte(i*7) ^ seed
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// markersIn lists the markers found in s, case-insensitively, each only
// where it is not the start of a longer word (so MRKCOMMENT is not found
// in MRKCOMMENTSEG).
func markersIn(s string, markers []string) []string {
	low := strings.ToLower(s)
	var found []string
	for _, m := range markers {
		lm := strings.ToLower(m)
		for i := 0; ; {
			j := strings.Index(low[i:], lm)
			if j < 0 {
				break
			}
			end := i + j + len(lm)
			if end == len(low) || !isWordByte(low[end]) {
				found = append(found, m)
				break
			}
			i = i + j + 1
		}
	}
	return found
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// headerText is every response header as "Name: value" lines.
func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

// zipMembers unzips a whole archive in memory: member name → bytes.
func zipMembers(t testing.TB, body []byte) (map[string][]byte, []string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the bundle is not a ZIP: %v", err)
	}
	out := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatalf("bundle member %s: %v", f.Name, err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(r); err != nil {
			t.Fatalf("bundle member %s: %v", f.Name, err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("bundle member %s: %v", f.Name, err)
		}
		out[f.Name] = b.Bytes()
		names = append(names, f.Name)
	}
	return out, names
}

// jsonKeys collects every object key of a JSON value, recursing into
// string values that themselves hold a JSON object or array (the audit's
// stored detail text).
func jsonKeys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			into[k] = true
			jsonKeys(e, into)
		}
	case []any:
		for _, e := range x {
			jsonKeys(e, into)
		}
	case string:
		s := strings.TrimSpace(x)
		if strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[") {
			var inner any
			if json.Unmarshal([]byte(s), &inner) == nil {
				jsonKeys(inner, into)
			}
		}
	}
}

// newIsolationApp is a purchase app whose server trusts the loopback
// proxy, so a client's X-Forwarded-For is taken as its address; more
// tweaks follow.
func newIsolationApp(t *testing.T, db *database.DB, more ...func(*config.Config)) *app {
	t.Helper()
	dir := t.TempDir()
	_, loopback, err := net.ParseCIDR("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	tweaks := append([]func(*config.Config){func(c *config.Config) {
		c.BlobURL = "file://" + filepath.ToSlash(dir)
		c.MaxUpload = 256 << 10
		c.TrustedProxies = []*net.IPNet{loopback}
	}}, more...)
	return newApp(t, db, tweaks...)
}

// signInVia signs in as email with every request (the sign-in included)
// carrying X-Forwarded-For: ip, as if through the trusted proxy.
func (a *app) signInVia(t testing.TB, email, ip string) *client {
	t.Helper()
	c := a.client()
	if ip != "" {
		c.header.Set("X-Forwarded-For", ip)
	}
	if res := c.signIn(email, testPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %d\n%.500s", email, res.StatusCode, res.body)
	}
	return c
}

// newVolunteer makes a volunteer account with one persona.
func (a *app) newVolunteer(t testing.TB, name, email string, persona purchase.NewPersona) (user.User, purchase.Persona) {
	t.Helper()
	ctx := context.Background()
	u, err := a.users.Create(ctx, user.New{Email: email, Name: name, Role: "volunteer", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.purchase.AddPersona(ctx, a.accounts["staff"].Actor(), u.ID, persona)
	if err != nil {
		t.Fatal(err)
	}
	return u, p
}

// openCase ingests a flag for a new shop and returns its case.
func (a *app) openCase(t testing.TB, shopID string) casework.Case {
	t.Helper()
	a.ingestNDJSON(t, flagJSON("iso-"+shopID, shopID, "Aurora Timepieces", 0.95))
	var c casework.Case
	if err := a.db.Gorm.Where("shop_id = (SELECT id FROM shops WHERE platform_shop_id = ?)", shopID).Take(&c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

// orderFor has staff order a purchase on the case for the volunteer and
// persona (through the service: the order form is not under test here).
func (a *app) orderFor(t testing.TB, caseID, volunteerID, personaID int64) purchase.Purchase {
	t.Helper()
	var c casework.Case
	if err := a.db.Gorm.Take(&c, caseID).Error; err != nil {
		t.Fatal(err)
	}
	p, err := a.purchase.Order(context.Background(), a.accounts["staff"].Actor(), c.ID, purchase.OrderInput{CaseVersion: c.Version,
		VolunteerID: volunteerID, PersonaID: personaID, Budget: "200.00", Currency: "CNY", ShipTo: "Brand office",
		DueOn: time.Now().UTC().AddDate(0, 0, 7).Format(time.DateOnly)})
	if err != nil {
		t.Fatalf("order on case %d: %v", caseID, err)
	}
	return p
}

// buySteps are what a volunteer types in the three steps.
type buySteps struct {
	OrderNumber               string
	DeliveryCarrier, InTrack  string
	InSeal                    string
	Photos                    []file // delivery step: parcel_photo / item_photo fields
	DispatchCarrier, OutTrack string
	OutSeal                   string
	StopAfterDelivery         bool
	ReceiptName               string
	ReceiptBody               []byte
	Version                   int // the purchase's version before the order step (1 for a new one)
}

// walkPurchase drives the volunteer's steps through the real routes:
// order, delivery with photos, and (unless told to stop) dispatch to the
// brand.
func (c *client) walkPurchase(t testing.TB, purchaseID int64, s buySteps) {
	t.Helper()
	today := time.Now().UTC().Format(time.DateOnly)
	if s.Version == 0 {
		s.Version = 1
	}
	if s.ReceiptBody == nil {
		seed := byte(purchaseID) // #nosec G115 -- the low byte is enough: it only has to differ between a test's few purchases
		s.ReceiptBody, s.ReceiptName = uniquePNG(t, seed), "receipt.png"
	}
	base := fmt.Sprintf("/assignments/%d", purchaseID)
	steps := []struct {
		path   string
		fields url.Values
		files  []file
	}{
		{"/order", url.Values{"version": {fmt.Sprint(s.Version)}, "order_number": {s.OrderNumber}, "amount_paid": {"180.00"}, "order_date": {today}},
			[]file{{"receipt", s.ReceiptName, s.ReceiptBody}}},
		{"/delivery", url.Values{"version": {fmt.Sprint(s.Version + 1)}, "delivered_on": {today}, "seal_number": {s.InSeal},
			"carrier": {s.DeliveryCarrier}, "tracking": {s.InTrack}}, s.Photos},
		{"/dispatch", url.Values{"version": {fmt.Sprint(s.Version + 2)}, "to": {"brand"}, "carrier": {s.DispatchCarrier},
			"tracking": {s.OutTrack}, "seal": {s.OutSeal}}, nil},
	}
	if s.StopAfterDelivery {
		steps = steps[:2]
	}
	for _, st := range steps {
		res := c.postFiles(base+st.path, st.fields, st.files, true)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("POST %s%s: %d\n%.800s", base, st.path, res.StatusCode, res.body)
		}
	}
}

// crawled is one response a crawl got.
type crawled struct {
	path string
	res  response
}

// crawl fetches starts and every app-internal link and image source on
// the HTML pages it gets (breadth first, each path once, static assets
// left out), and reports every marker found in a body or a header value.
func (c *client) crawl(t *testing.T, who string, starts []string, markers []string) []crawled {
	t.Helper()
	seen := map[string]bool{}
	queue := append([]string(nil), starts...)
	var out []crawled
	for len(queue) > 0 && len(out) < 300 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res := c.get(p)
		out = append(out, crawled{p, res})
		for _, m := range markersIn(res.body, markers) {
			t.Errorf("%s GET %s (%d): the body holds %s", who, p, res.StatusCode, m)
		}
		for k, vs := range res.Header {
			for _, v := range vs {
				for _, m := range markersIn(v, markers) {
					t.Errorf("%s GET %s (%d): the response header %s holds %s: %s", who, p, res.StatusCode, k, m, v)
				}
			}
		}
		if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			continue
		}
		doc := res.doc(t)
		doc.Find("a[href], img[src], link[href], source[srcset]").Each(func(_ int, s *goquery.Selection) {
			for _, attr := range []string{"href", "src", "srcset"} {
				v, ok := s.Attr(attr)
				if !ok {
					continue
				}
				u, err := url.Parse(v)
				if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "/static/") ||
					u.Path == "/logout" {
					continue
				}
				u.Fragment = ""
				if !seen[u.String()] {
					queue = append(queue, u.String())
				}
			}
		})
	}
	return out
}
