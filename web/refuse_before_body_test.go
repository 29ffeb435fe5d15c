package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// countingBody is a large multipart upload that records how much of it
// the server read.
type countingBody struct {
	r    io.Reader
	read atomic.Int64
}

func newCountingBody(size int64, csrf string) (*countingBody, string) {
	const boundary = "spotcheck-boundary"
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + csrf + "\r\n" +
		"--" + boundary + "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.jpg\"\r\n" +
		"Content-Type: image/jpeg\r\n\r\n"
	tail := "\r\n--" + boundary + "--\r\n"
	fill := io.LimitReader(repeatReader('x'), size)
	return &countingBody{r: io.MultiReader(strings.NewReader(head), fill, strings.NewReader(tail))},
		"multipart/form-data; boundary=" + boundary
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// TestRefusedRequestsAreAnsweredBeforeTheirBodyIsRead: an anonymous
// visitor, a user without the route's role and a user without the object
// are refused without the server reading a byte of a large upload (the
// form's CSRF token is looked for only on routes the user may use); the
// owner's upload is read.
func TestRefusedRequestsAreAnsweredBeforeTheirBodyIsRead(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	objs := a.seedPurchase(t, "shop-body", purchase.Ordered)
	own := "/assignments/" + objs["purchase"] + "/order"
	cases := []struct {
		name   string
		as     string
		path   string
		status int
		read   bool
	}{
		{"anonymous, assignment upload", "anonymous", own, http.StatusSeeOther, false},
		{"anonymous, case evidence", "anonymous", "/cases/" + objs["case"] + "/evidence", http.StatusSeeOther, false},
		{"brand user, assignment upload", "brand", own, http.StatusForbidden, false},
		{"volunteer, case evidence", "volunteer", "/cases/" + objs["case"] + "/evidence", http.StatusForbidden, false},
		{"volunteer, someone else's assignment", "volunteer", "/assignments/999999/order", http.StatusNotFound, false},
		{"staff, an admin route", "staff", "/admin/users", http.StatusForbidden, false},
		{"volunteer, own assignment", "volunteer", own, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := a.as(tc.as)
			body, ctype := newCountingBody(20<<20, c.csrfToken())
			req := httptest.NewRequest(http.MethodPost, tc.path, body)
			req.Header.Set("Content-Type", ctype)
			for _, ck := range c.http.Jar.Cookies(mustURL(a.srv.URL)) {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			a.echo.ServeHTTP(rec, req)
			if tc.status != 0 && rec.Code != tc.status {
				t.Fatalf("status %d, want %d\n%.300s", rec.Code, tc.status, rec.Body.String())
			}
			n := body.read.Load()
			switch {
			case !tc.read && n != 0:
				t.Fatalf("the server read %d bytes of the body before refusing it", n)
			case tc.read && n < 20<<20:
				t.Fatalf("the owner's upload: only %d bytes read (status %d)", n, rec.Code)
			}
		})
	}
}
