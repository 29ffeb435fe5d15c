package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

func TestSamePageSeesAFragmentOfTheCurrentPage(t *testing.T) {
	for _, tc := range []struct {
		current, target string
		want            bool
	}{
		{"http://x.test/cases/SC-1", "/cases/SC-1#enforcement", true},
		{"http://x.test/cases/SC-1#evidence", "/cases/SC-1#enforcement", true},
		{"http://x.test/cases/SC-1", "/cases/SC-2#enforcement", false},
		{"http://x.test/cases/SC-1", "/cases/SC-1", false}, // no fragment: location.href reloads
		{"", "/cases/SC-1#x", false},
		{"http://x.test/assignments/5?x=1", "/assignments/5#x", false},
	} {
		if got := samePage(tc.current, tc.target); got != tc.want {
			t.Errorf("samePage(%q, %q) = %v", tc.current, tc.target, got)
		}
	}
}

// A page that fails half-way gives the error page, never a partial 200.
func TestAFailedRenderGivesTheErrorPageNotPartOfThePage(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{Deps: Deps{Logger: slog.New(slog.NewTextHandler(&logs, nil))}}
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.GET("/half", func(c echo.Context) error {
		return s.render(c, http.StatusOK, templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
			if _, err := io.WriteString(w, "<p>half of the page</p>"); err != nil {
				return err
			}
			return errors.New("the template broke")
		}))
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/half", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "half of the page") ||
		!strings.Contains(rec.Body.String(), `data-testid="error-page"`) {
		t.Fatalf("status %d:\n%s", rec.Code, rec.Body.String())
	}
}
