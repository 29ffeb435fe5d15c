package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"spotcheck/internal/database/dbtest"
)

// BenchmarkPages renders pages through the real router and middleware
// (session load, CSRF, security headers, logging), without the network.
func BenchmarkPages(b *testing.B) {
	a := newApp(b, dbtest.SQLite(b))
	staff := a.as("staff")
	sess := staff.cookie("spotcheck_session")
	for name, req := range map[string]func() *http.Request{
		"login_anonymous": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/login", nil) },
		"staff_home": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/cases", nil)
			r.AddCookie(sess)
			return r
		},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				a.echo.ServeHTTP(w, req())
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
