package web_test

import (
	"io"
	"net/http"
	"testing"

	"spotcheck/internal/database/dbtest"

	"errors"
)

// TestHeadAnswersLikeGetWithoutABody: HEAD of a page gives the status and
// headers GET would, and no body (it answered 404 for every page).
func TestHeadAnswersLikeGetWithoutABody(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	for path, want := range map[string]int{"/login": 200, "/healthz": 200, "/no-such-page": 404} {
		req, err := http.NewRequest(http.MethodHead, a.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(res.Body)
		if err := errors.Join(err, res.Body.Close()); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != want || len(body) != 0 {
			t.Errorf("HEAD %s: %d with %d bytes, want %d and no body", path, res.StatusCode, len(body), want)
		}
		if want == 200 && res.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: no Content-Type", path)
		}
	}
	staff := a.as("staff")
	req, err := http.NewRequest(http.MethodHead, a.srv.URL+"/cases", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := staff.do(req); res.StatusCode != http.StatusOK || res.body != "" {
		t.Errorf("HEAD /cases signed in: %d with %d bytes", res.StatusCode, len(res.body))
	}
}
