package evidence

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzSniff: the type of an evidence file is decided from the first
// sniffLen bytes of what a client sent. Whatever they are, sniff answers
// one of the accepted types or a *TypeError, and an accepted type's file
// starts with that format's own signature (so no HTML, SVG or script is
// ever stored, and later served, as an image or a PDF).
// The seeds are in testdata/fuzz/FuzzSniff, with the test photo here.
func FuzzSniff(f *testing.F) {
	if b, err := os.ReadFile("testdata/photo.webp"); err == nil {
		f.Add(b[:min(len(b), sniffLen)])
	}
	f.Add([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n"))
	f.Add([]byte("<html><!-- %PDF-1.7 --><script>alert(1)</script></html>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		head := data[:min(len(data), sniffLen)]
		ct, err := sniff(head)
		if err != nil {
			var te *TypeError
			if !errors.As(err, &te) || ct != "" {
				t.Fatalf("sniff = %q, %v: want a *TypeError alone", ct, err)
			}
			return
		}
		ok := false
		switch ct {
		case "image/jpeg":
			ok = bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF})
		case "image/png":
			ok = bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n"))
		case "image/webp":
			ok = len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP"
		case "image/heic", "image/heif":
			ok = len(head) >= 12 && string(head[4:8]) == "ftyp"
		case "application/pdf":
			ok = bytes.HasPrefix(head, []byte("%PDF-"))
		}
		if !ok {
			t.Fatalf("sniff took %q for %s", head[:min(len(head), 32)], ct)
		}
	})
}

// FuzzCleanName: a client's file name, kept and shown, never names a
// path, hides text direction or control characters, or runs long.
func FuzzCleanName(f *testing.F) {
	f.Add("photo\u202Egpj.exe")
	f.Add(`..\..\windows\system32\x.jpg`)
	f.Add("  \x00report.pdf\t")
	f.Fuzz(func(t *testing.T, name string) {
		got := CleanName(name)
		if !utf8.ValidString(got) || strings.ContainsAny(got, `/\`) || got == "." || got == ".." ||
			utf8.RuneCountInString(got) > maxNameRunes || got != strings.TrimSpace(got) {
			t.Fatalf("CleanName(%q) = %q", name, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || isBidi(r) {
				t.Fatalf("CleanName(%q) = %q keeps %U", name, got, r)
			}
		}
		if CleanName(got) != got {
			t.Fatalf("CleanName is not idempotent: %q, then %q", got, CleanName(got))
		}
	})
}
