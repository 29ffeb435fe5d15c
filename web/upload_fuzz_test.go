package web

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// fuzzBoundary is the boundary the fuzzed bodies are sent with; the seeds
// use it, and the fuzzer may break it.
const fuzzBoundary = "fuzzboundary"

// FuzzUploadParts drives the two readers of an evidence upload form, part
// by part as it streams (eachPart) and from the standard library's parsed
// form (eachSpooled), with a body a client chose: neither may panic or
// hand over more text than maxFormText, and every file handed over is
// read to its end. The seeds are in testdata/fuzz/FuzzUploadParts.
func FuzzUploadParts(f *testing.F) {
	f.Add([]byte("--fuzzboundary\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nitem_photo\r\n" +
		"--fuzzboundary\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0\r\n" +
		"--fuzzboundary--\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		newReq := func() *http.Request {
			r, err := http.NewRequest(http.MethodPost, "/x", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
			return r
		}
		files := 0
		put := func(field, name string, r io.Reader) error {
			files++
			_, err := io.Copy(io.Discard, r)
			return err
		}
		values := url.Values{}
		err := eachPart(newReq(), values, put)
		text := 0
		for _, vs := range values {
			for _, v := range vs {
				text += len(v)
			}
		}
		if text > maxFormText {
			t.Fatalf("%d bytes of text fields kept", text)
		}
		var ue *uploadError
		if errors.As(err, &ue) && ue.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("eachPart: %v with status %d", err, ue.status)
		}

		r := newReq()
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return
		}
		defer func() { _ = r.MultipartForm.RemoveAll() }()
		if err := eachSpooled(r.MultipartForm, put); err != nil {
			t.Fatalf("eachSpooled of a parsed form: %v", err)
		}
	})
}
