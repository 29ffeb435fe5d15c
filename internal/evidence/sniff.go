package evidence

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
)

// sniffLen is how much of a file is read to decide its type (mimetype's
// own limit).
const sniffLen = 4096

// accepted maps a detected type to the content type stored. Animated PNG
// is a PNG to every viewer; HEIF is the container iPhones and many
// Android phones write HEIC photos in.
var accepted = map[string]string{
	"image/jpeg":      "image/jpeg",
	"image/png":       "image/png",
	"image/apng":      "image/png",
	"image/webp":      "image/webp",
	"image/heic":      "image/heic",
	"image/heif":      "image/heif",
	"application/pdf": "application/pdf",
}

// sniff decides the type from the content alone.
func sniff(head []byte) (string, error) {
	m := mimetype.Detect(head)
	ct, ok := accepted[m.String()]
	// mimetype finds "%PDF-" anywhere in the first KiB; a PDF proper starts
	// with it, and an HTML page quoting it must not pass for one.
	if ok && ct == "application/pdf" && !bytes.HasPrefix(head, []byte("%PDF-")) {
		ok = false
	}
	if !ok {
		return "", &TypeError{Detected: m.String()}
	}
	return ct, nil
}

// maxNameRunes bounds a kept client file name.
const maxNameRunes = 255

// CleanName makes a client's file name safe to keep and show: valid UTF-8,
// the last path element only (either separator), no control or
// text-direction characters, at most 255 characters. It stays untrusted:
// it is never used to name anything in storage.
func CleanName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || isBidi(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxNameRunes {
		name = strings.TrimSpace(string([]rune(name)[:maxNameRunes]))
	}
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// isBidi: the invisible marks that reorder text, with which
// "photo\u202Egpj.exe" shows as "photoexe.jpg".
func isBidi(r rune) bool {
	return r == '\u061C' || r == '\u200E' || r == '\u200F' || (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}
