package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
)

func TestPutAcceptsTheAllowedTypesByContent(t *testing.T) {
	s, _ := fileStore(t, 0)
	for _, c := range []struct {
		name string
		body []byte
		want string
	}{
		{"photo.jpg", jpegBytes(t), "image/jpeg"},
		{"screen.png", pngBytes(t), "image/png"},
		{"parcel.webp", webpBytes(), "image/webp"},
		{"IMG_0001.HEIC", heicBytes(), "image/heic"},
		{"report.pdf", pdfBytes(), "application/pdf"},
		// The name plays no part: a PNG called .pdf is a PNG.
		{"looks-like.pdf", pngBytes(t), "image/png"},
	} {
		t.Run(c.name, func(t *testing.T) {
			st, err := s.Put(context.Background(), bytes.NewReader(c.body), c.name)
			if err != nil {
				t.Fatal(err)
			}
			if st.ContentType != c.want {
				t.Fatalf("content type = %q, want %q", st.ContentType, c.want)
			}
			attrs, err := s.Bucket.Attributes(context.Background(), st.Key)
			if err != nil {
				t.Fatal(err)
			}
			if attrs.ContentType != c.want {
				t.Fatalf("stored content type = %q, want %q", attrs.ContentType, c.want)
			}
		})
	}
}

func TestPutRefusesEverythingElseAndStoresNothing(t *testing.T) {
	s, dir := fileStore(t, 0)
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 120)...)
	exe := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), make([]byte, 120)...)
	for _, c := range []struct {
		name string
		body []byte
	}{
		{"page.html", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")},
		{"page-quoting-pdf.pdf", []byte("<html><!-- %PDF-1.7 --><script>alert(1)</script></html>")},
		{"drawing.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"notes.txt", []byte("just some words, nothing more\n")},
		{"photo.jpg", elf},
		{"receipt.png", exe},
		{"bundle.zip", zipBytes(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Put(context.Background(), bytes.NewReader(c.body), c.name)
			var te *evidence.TypeError
			if !errors.Is(err, evidence.ErrType) || !errors.As(err, &te) || te.Detected == "" {
				t.Fatalf("Put = %v, want a TypeError", err)
			}
			if !strings.Contains(err.Error(), te.Detected) {
				t.Fatalf("message %q does not name the type found", err)
			}
		})
	}
	if k := keys(t, s.Bucket); len(k) != 0 {
		t.Fatalf("refused files left objects: %v", k)
	}
	if f := diskFiles(t, dir); len(f) != 0 {
		t.Fatalf("refused files left files on disk: %v", f)
	}
}

func TestPutRefusesAnEmptyFile(t *testing.T) {
	s, _ := fileStore(t, 0)
	if _, err := s.Put(context.Background(), strings.NewReader(""), "empty.jpg"); !errors.Is(err, evidence.ErrEmpty) {
		t.Fatalf("Put = %v, want ErrEmpty", err)
	}
}

// pdfOfSize is a PDF padded to exactly n bytes.
func pdfOfSize(n int) []byte {
	b := pdfBytes()
	return append(b, bytes.Repeat([]byte{' '}, n-len(b))...)
}

func TestPutTakesAFileOfExactlyTheLimitAndAbandonsOneByteMore(t *testing.T) {
	const max = 64 << 10
	s, dir := fileStore(t, max)
	st, err := s.Put(context.Background(), bytes.NewReader(pdfOfSize(max)), "at-limit.pdf")
	if err != nil {
		t.Fatalf("a file of exactly MaxSize: %v", err)
	}
	if st.Size != max {
		t.Fatalf("size = %d, want %d", st.Size, max)
	}
	_, err = s.Put(context.Background(), bytes.NewReader(pdfOfSize(max+1)), "over.pdf")
	if !errors.Is(err, evidence.ErrTooLarge) {
		t.Fatalf("MaxSize+1: %v, want ErrTooLarge", err)
	}
	if k := keys(t, s.Bucket); len(k) != 1 || k[0] != st.Key {
		t.Fatalf("objects = %v, want only %s", k, st.Key)
	}
	if f := diskFiles(t, dir); len(f) != 2 { // the object and its metadata
		t.Fatalf("files on disk = %v, want the first file only", f)
	}
}

func TestPutUnderALimitSmallerThanTheSniffedHead(t *testing.T) {
	s, _ := fileStore(t, 100)
	if _, err := s.Put(context.Background(), bytes.NewReader(pdfOfSize(100)), "a.pdf"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(context.Background(), bytes.NewReader(pdfOfSize(101)), "b.pdf"); !errors.Is(err, evidence.ErrTooLarge) {
		t.Fatalf("101 bytes under a 100-byte limit: %v", err)
	}
}

func TestPutAbandonsTheWriteWhenTheBodyFails(t *testing.T) {
	s, dir := fileStore(t, 0)
	body := io.MultiReader(bytes.NewReader(pdfOfSize(10_000)), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := s.Put(context.Background(), body, "cut.pdf"); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Put = %v", err)
	}
	if f := diskFiles(t, dir); len(f) != 0 {
		t.Fatalf("a broken upload left %v", f)
	}
}

func TestPutHashesAndCountsWhatItStores(t *testing.T) {
	s, _ := fileStore(t, 0)
	body := pdfOfSize(300_000) // more than one copy buffer
	st, err := s.Put(context.Background(), bytes.NewReader(body), "big.pdf")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if st.SHA256 != hex.EncodeToString(sum[:]) || st.Size != int64(len(body)) {
		t.Fatalf("stored %s / %d, want %x / %d", st.SHA256, st.Size, sum, len(body))
	}
	if got := readAll(t, s, st.Key); !bytes.Equal(got, body) {
		t.Fatal("the stored bytes differ from the upload")
	}
}

var keyShape = regexp.MustCompile(`^evidence/\d{4}/\d{2}/[0-9a-f]{32}$`)

func TestTheKeyIsTheServersAndTheClientNameIsOnlyCleanedMetadata(t *testing.T) {
	s, _ := fileStore(t, 0)
	seen := map[string]bool{}
	for _, c := range []struct{ name, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\x.jpg`, "x.jpg"},
		{"收据 2026.pdf", "收据 2026.pdf"},
		{"C:\\Users\\李\\Desktop\\发票.pdf", "发票.pdf"},
		{"photo\u202Egpj.exe", "photogpj.exe"},
		{"bell\x07\x00name\r\n.pdf", "bellname.pdf"},
		{"bad\xffutf8.pdf", "bad\uFFFDutf8.pdf"},
		{"..", ""},
		{"", ""},
	} {
		st, err := s.Put(context.Background(), bytes.NewReader(pdfBytes()), c.name)
		if err != nil {
			t.Fatal(err)
		}
		if !keyShape.MatchString(st.Key) || seen[st.Key] {
			t.Fatalf("key %q for %q: not a fresh server-chosen key", st.Key, c.name)
		}
		seen[st.Key] = true
		if st.OriginalName != c.want {
			t.Errorf("name %q kept as %q, want %q", c.name, st.OriginalName, c.want)
		}
	}
	for _, k := range keys(t, s.Bucket) {
		if !keyShape.MatchString(k) {
			t.Fatalf("object outside the evidence keys: %q", k)
		}
	}
}

func TestCleanNameKeepsAtMost255Characters(t *testing.T) {
	long := strings.Repeat("票", 300) + ".pdf"
	got := evidence.CleanName(long)
	if n := len([]rune(got)); n != 255 || !strings.HasPrefix(long, got) {
		t.Fatalf("%d runes kept: %q", n, got)
	}
}

func TestParseKindAndVisibility(t *testing.T) {
	for _, k := range evidence.Kinds {
		if got, err := evidence.ParseKind(string(k)); err != nil || got != k {
			t.Fatalf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if _, err := evidence.ParseKind("selfie"); !errors.Is(err, evidence.ErrUnknownKind) {
		t.Fatalf("ParseKind(selfie) = %v", err)
	}
	for _, v := range evidence.Visibilities {
		if got, err := evidence.ParseVisibility(string(v)); err != nil || got != v {
			t.Fatalf("ParseVisibility(%q) = %q, %v", v, got, err)
		}
	}
	if _, err := evidence.ParseVisibility("public"); !errors.Is(err, evidence.ErrUnknownVisibility) {
		t.Fatalf("ParseVisibility(public) = %v", err)
	}
}

func TestOpenBucketRefusesOtherStores(t *testing.T) {
	for _, u := range []string{"gs://bucket", "file://relative/dir", "mem://", "s3://", "://"} {
		if b, err := evidence.OpenBucket(context.Background(), u); err == nil {
			t.Errorf("OpenBucket(%q) succeeded (close: %v)", u, b.Close())
		}
	}
}

func TestOpenBucketCreatesTheFolder(t *testing.T) {
	dir := t.TempDir() + "/data/evidence"
	b, err := evidence.OpenBucket(context.Background(), "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, b)
	s := &evidence.Store{Bucket: b}
	if _, err := s.Put(context.Background(), bytes.NewReader(pngBytes(t)), "a.png"); err != nil {
		t.Fatal(err)
	}
	if f := diskFiles(t, dir); len(f) == 0 {
		t.Fatal("nothing written in the new folder")
	}
}
