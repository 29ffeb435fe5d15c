package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"spotcheck/internal/database/dbtest"
)

// TestARequestItsClientAbandonedIsNotAnError: a client that goes away
// mid-request (its context cancelled) is logged as 499 at info, not as a
// failed request with a 500.
func TestARequestItsClientAbandonedIsNotAnError(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	sess := a.as("staff").cookie("spotcheck_session")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/cases", nil)
	r.AddCookie(sess)
	a.echo.ServeHTTP(httptest.NewRecorder(), r)
	logs := a.logs.String()
	var line string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"path":"/cases"`) && strings.Contains(l, `"msg":"request"`) {
			line = l
		}
	}
	if !strings.Contains(line, `"status":499`) || !strings.Contains(line, `"level":"INFO"`) {
		t.Fatalf("the abandoned request is logged as %s", line)
	}
	if strings.Contains(logs, "request failed") {
		t.Fatalf("an abandoned request is logged as a failure:\n%s", logs)
	}
}
