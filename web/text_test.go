package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// TestControlCharactersAreRefusedBeforeTheDatabase: text with NUL or other
// control characters, in a query or a form, is refused with a message,
// never passed on to fail in the database (SQLite answered 500,
// "unterminated string", to a web scanner's q=%2Fe%00).
func TestControlCharactersAreRefusedBeforeTheDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db)
		staff := a.as("staff")
		for _, path := range []string{"/cases?q=%2Fe%00", "/cases?q=a%01b", "/flags?q=%7F", "/cases?q=%C2%85"} {
			res := staff.get(path)
			if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "control character") {
				t.Errorf("GET %s: %d, want 400 with the message\n%.300s", path, res.StatusCode, res.body)
			}
		}
		if res := staff.get("/cases?q=" + url.QueryEscape("表 tab\there")); res.StatusCode != http.StatusOK {
			t.Errorf("a search with Chinese and a tab: %d", res.StatusCode)
		}
		res := staff.post("/account/password", url.Values{"current": {"x\x00"}, "password": {"y"}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "control character") {
			t.Errorf("a form with NUL: %d, want 400 with the message", res.StatusCode)
		}
	})
}
