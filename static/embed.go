// Package static holds the CSS, JavaScript and images served by Spotcheck,
// embedded in the binary and addressed by content hash so that browsers can
// cache them forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"strings"
)

//go:embed css js img
var files embed.FS

// FS is the embedded tree.
var FS fs.FS = files

var hashes = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

// Prefix is where the static files are served.
const Prefix = "/static/"

// Path is the cache-busting URL of an embedded file: /static/<hash>/<name>.
// It panics on a name that is not embedded, so a typo fails every test.
func Path(name string) string {
	h, ok := hashes[name]
	if !ok {
		panic("static: no embedded file " + name)
	}
	return Prefix + h + "/" + name
}

// Resolve maps a request path below Prefix to the embedded file name and
// whether the hash in it is current.
func Resolve(p string) (name string, current bool) {
	rest := strings.TrimPrefix(p, Prefix)
	h, name, ok := strings.Cut(rest, "/")
	if !ok {
		return "", false
	}
	want, known := hashes[name]
	if !known {
		return "", false
	}
	return name, want == h
}
