package web_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/purchase"
)

// BenchmarkPages renders pages through the real router and middleware
// (session load, CSRF, security headers, logging), without the network.
func BenchmarkPages(b *testing.B) {
	a := newApp(b, dbtest.SQLite(b))
	staff := a.as("staff")
	sess := staff.cookie("spotcheck_session")
	for name, req := range map[string]func() *http.Request{
		"login_anonymous": func() *http.Request { return httptest.NewRequest(http.MethodGet, "/login", nil) },
		"case_list": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/cases", nil)
			r.AddCookie(sess)
			return r
		},
		"dashboard": func() *http.Request {
			r := httptest.NewRequest(http.MethodGet, "/dashboard", nil)
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

// BenchmarkBrandCasePage renders a brand user's view of a case with an
// item on its way to the brand, and reports the database queries one
// request makes (queries/op), session and sign-in checks included.
func BenchmarkBrandCasePage(b *testing.B) {
	db := dbtest.SQLite(b)
	a, _ := newPurchaseApp(b, db)
	ids := a.seedPurchase(b, "shop-bench", purchase.Dispatched)
	sess := a.as("brand").cookie("spotcheck_session")
	var queries atomic.Int64
	count := func(*gorm.DB) { queries.Add(1) }
	cb := db.Gorm.Callback()
	for _, err := range []error{cb.Query().After("gorm:query").Register("bench:count_query", count),
		cb.Raw().After("gorm:raw").Register("bench:count_raw", count), cb.Row().After("gorm:row").Register("bench:count_row", count)} {
		if err != nil {
			b.Fatal(err)
		}
	}
	queries.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/authentications/"+ids["purchase_case"], nil)
		r.AddCookie(sess)
		w := httptest.NewRecorder()
		a.echo.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
}
