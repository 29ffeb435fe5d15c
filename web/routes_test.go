package web_test

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/user"
	"spotcheck/static"
)

var roles = []string{"anonymous", "admin", "staff", "volunteer", "brand"}

// expect is the status each kind of visitor gets, in the order of roles.
type expect [5]int

func all(code int) expect { return expect{code, code, code, code, code} }

// matrixRow is one registered route: how to call it and what each role gets.
type matrixRow struct {
	path string     // with parameters filled in; {user} is the target account's id
	form url.Values // the body for non-GET routes (sent with a valid CSRF token)
	want expect
}

const (
	ok       = http.StatusOK
	redirect = http.StatusSeeOther
	forbid   = http.StatusForbidden
	notFound = http.StatusNotFound
	invalid  = http.StatusUnprocessableEntity
)

// signInFirst: anonymous visitors are sent to the sign-in page; signed-in
// users get the given codes.
func signInFirst(admin, staff, volunteer, brand int) expect {
	return expect{redirect, admin, staff, volunteer, brand}
}

// matrix has a row for every route in web/routes.go, keyed "METHOD path"
// as Echo registers it. TestRouteMatrix fails when a route has no row.
func matrix() map[string]matrixRow {
	return map[string]matrixRow{
		"GET /healthz":   {path: "/healthz", want: all(ok)},
		"GET /readyz":    {path: "/readyz", want: all(ok)},
		"GET /metrics":   {path: "/metrics", want: all(notFound)}, // no token configured; see TestMetricsNeedTheToken
		"GET /static/*":  {path: static.Path("css/app.css"), want: all(ok)},
		"GET /":          {path: "/", want: all(redirect)},
		"GET /login":     {path: "/login", want: expect{ok, redirect, redirect, redirect, redirect}},
		"POST /login":    {path: "/login", form: url.Values{"email": {"nobody@x.test"}, "password": {"wrong password"}}, want: all(http.StatusUnauthorized)},
		"POST /logout":   {path: "/logout", want: all(redirect)},
		"POST /language": {path: "/language", form: url.Values{"lang": {"zh"}, "next": {"/"}}, want: all(redirect)},

		"GET /account/password":  {path: "/account/password", want: signInFirst(ok, ok, ok, ok)},
		"POST /account/password": {path: "/account/password", form: url.Values{"current": {"wrong"}, "password": {"new password 1"}, "confirm": {"new password 1"}}, want: signInFirst(invalid, invalid, invalid, invalid)},

		"GET /cases":           {path: "/cases", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /dashboard":       {path: "/dashboard", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /assignments":     {path: "/assignments", want: signInFirst(forbid, forbid, ok, forbid)},
		"GET /authentications": {path: "/authentications", want: signInFirst(forbid, forbid, forbid, ok)},

		"GET /admin/users":               {path: "/admin/users", want: signInFirst(ok, forbid, forbid, forbid)},
		"GET /admin/users/new":           {path: "/admin/users/new", want: signInFirst(ok, forbid, forbid, forbid)},
		"POST /admin/users":              {path: "/admin/users", form: url.Values{"email": {"bad"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"GET /admin/users/:id":           {path: "/admin/users/{user}", want: signInFirst(ok, forbid, forbid, forbid)},
		"POST /admin/users/:id/disable":  {path: "/admin/users/{user}/disable", want: signInFirst(redirect, forbid, forbid, forbid)},
		"POST /admin/users/:id/enable":   {path: "/admin/users/{user}/enable", want: signInFirst(redirect, forbid, forbid, forbid)},
		"POST /admin/users/:id/password": {path: "/admin/users/{user}/password", form: url.Values{"password": {"short"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"POST /admin/users/:id/brands":   {path: "/admin/users/{user}/brands", form: url.Values{"brand": {"1"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"POST /admin/users/:id/role":     {path: "/admin/users/{user}/role", form: url.Values{"role": {"brand"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"GET /admin/tokens":              {path: "/admin/tokens", want: signInFirst(ok, forbid, forbid, forbid)},
		"POST /admin/tokens":             {path: "/admin/tokens", form: url.Values{"name": {""}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"POST /admin/tokens/:id/revoke":  {path: "/admin/tokens/{token}/revoke", want: signInFirst(redirect, forbid, forbid, forbid)},

		// The flag API takes API tokens only: a browser session is no key.
		"POST /api/v1/flags":              {path: "/api/v1/flags", want: all(http.StatusUnauthorized)},
		echo.RouteNotFound + " /api/v1":   {path: "/api/v1", want: all(http.StatusUnauthorized)},
		echo.RouteNotFound + " /api/v1/*": {path: "/api/v1/cases", want: all(http.StatusUnauthorized)},

		"GET /cases/export.csv":        {path: "/cases/export.csv", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /cases/:ref":              {path: "/cases/{case}", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /cases/:ref/transitions": {path: "/cases/{case}/transitions", form: url.Values{"event": {"dismiss"}, "version": {"1"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/assign":           {path: "/cases/assign", form: url.Values{"investigator": {"0"}}, want: signInFirst(invalid, invalid, forbid, forbid)}, // nothing ticked: the list again, saying so,
		"POST /cases/:ref/assign":      {path: "/cases/{case}/assign", form: url.Values{"investigator": {"0"}, "version": {"999"}}, want: signInFirst(http.StatusConflict, http.StatusConflict, forbid, forbid)},
		"POST /cases/:ref/comments":    {path: "/cases/{case}/comments", form: url.Values{"body": {""}}, want: signInFirst(invalid, invalid, forbid, forbid)},

		// Test purchases. {purchase} is the seeded volunteer's purchase,
		// delivered (its item held by the volunteer); {evidence} its receipt
		// (staff only); {item} its item; {reimbursement} its reimbursement.
		"GET /cases/:ref/purchase/new":             {path: "/cases/{case}/purchase/new", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /cases/:ref/purchase":                {path: "/cases/{case}/purchase", form: url.Values{"budget": {"x"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/purchase/cancel":         {path: "/cases/{case}/purchase/cancel", form: url.Values{"reason": {""}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/evidence":                {path: "/cases/{case}/evidence", want: signInFirst(http.StatusBadRequest, http.StatusBadRequest, forbid, forbid)}, // not multipart
		"POST /items/:id/release":                  {path: "/items/{item}/release", form: url.Values{"to": {"brand"}}, want: signInFirst(notFound, notFound, forbid, forbid)},
		"POST /reimbursements/:id/approve":         {path: "/reimbursements/{reimbursement}/approve", want: signInFirst(redirect, redirect, forbid, forbid)},
		"POST /reimbursements/:id/paid":            {path: "/reimbursements/{reimbursement}/paid", want: signInFirst(redirect, redirect, forbid, forbid)},
		"GET /reimbursements":                      {path: "/reimbursements", want: signInFirst(forbid, forbid, ok, forbid)},
		"GET /assignments/:id":                     {path: "/assignments/{purchase}", want: signInFirst(forbid, forbid, ok, forbid)},
		"POST /assignments/:id/order":              {path: "/assignments/{purchase}/order", want: signInFirst(forbid, forbid, http.StatusBadRequest, forbid)},
		"POST /assignments/:id/delivery":           {path: "/assignments/{purchase}/delivery", want: signInFirst(forbid, forbid, http.StatusBadRequest, forbid)},
		"POST /assignments/:id/dispatch":           {path: "/assignments/{purchase}/dispatch", want: signInFirst(forbid, forbid, http.StatusBadRequest, forbid)},
		"POST /assignments/:id/return":             {path: "/assignments/{purchase}/return", want: signInFirst(forbid, forbid, http.StatusBadRequest, forbid)},
		"POST /assignments/:id/evidence":           {path: "/assignments/{purchase}/evidence", want: signInFirst(forbid, forbid, http.StatusBadRequest, forbid)},
		echo.RouteNotFound + " /assignments/:id":   {path: "/assignments/{purchase}/nothing", want: signInFirst(forbid, forbid, notFound, forbid)},
		echo.RouteNotFound + " /assignments/:id/*": {path: "/assignments/{purchase}/nothing/else", want: signInFirst(forbid, forbid, notFound, forbid)},
		"GET /notifications":                       {path: "/notifications", want: signInFirst(ok, ok, ok, ok)},
		"POST /notifications/read":                 {path: "/notifications/read", want: signInFirst(redirect, redirect, redirect, redirect)},
		"GET /evidence/:id":                        {path: "/evidence/{evidence}", want: signInFirst(ok, ok, ok, notFound)},
		"GET /evidence/:id/thumb":                  {path: "/evidence/{evidence}/thumb", want: signInFirst(ok, ok, ok, notFound)},
		"POST /evidence/:id/withdraw":              {path: "/evidence/{evidence}/withdraw", form: url.Values{"reason": {""}}, want: signInFirst(redirect, redirect, redirect, notFound)},
		"POST /items/:id/accept":                   {path: "/items/{item}/accept", want: signInFirst(notFound, notFound, notFound, notFound)},
		"GET /authentications/cases":               {path: "/authentications/cases", want: signInFirst(forbid, forbid, forbid, ok)},
		"GET /authentications/report":              {path: "/authentications/report", want: signInFirst(forbid, forbid, forbid, ok)},
		"POST /authentications/report":             {path: "/authentications/report", form: url.Values{"reason": {""}}, want: signInFirst(forbid, forbid, forbid, invalid)},
		"POST /cases/:ref/bundles":                 {path: "/cases/{case}/bundles", want: signInFirst(redirect, redirect, forbid, forbid)},
		"GET /cases/:ref/bundles/:id":              {path: "/cases/{case}/bundles/999999", want: signInFirst(notFound, notFound, forbid, forbid)},
		"POST /cases/:ref/bundles/unredacted":      {path: "/cases/{case}/bundles/unredacted", form: url.Values{"reason": {""}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/linked-cases":            {path: "/cases/{case}/linked-cases", form: url.Values{"shop": {"1"}}, want: signInFirst(redirect, redirect, forbid, forbid)}, // no verdict: a flash
		// The civil claim and the recoveries report.
		"POST /cases/:ref/claim":          {path: "/cases/{case}/claim", form: url.Values{"court": {""}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/claim/hearings": {path: "/cases/{case}/claim/hearings", form: url.Values{"held_on": {"soon"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/claim/outcome":  {path: "/cases/{case}/claim/outcome", form: url.Values{"outcome": {"judgment"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/claim/payments": {path: "/cases/{case}/claim/payments", form: url.Values{"payment_amount": {"x"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"GET /reports/recoveries":         {path: "/reports/recoveries", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /reports/recoveries.csv":     {path: "/reports/recoveries.csv", want: signInFirst(ok, ok, forbid, forbid)},
		// Enforcement, on the flagged {case}: nothing to refer yet.
		"POST /cases/:ref/referral":          {path: "/cases/{case}/referral", form: url.Values{"bureau": {""}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /cases/:ref/referral/progress": {path: "/cases/{case}/referral/progress", form: url.Values{"status": {"accepted"}}, want: signInFirst(notFound, notFound, forbid, forbid)},
		"POST /cases/:ref/raids":             {path: "/cases/{case}/raids", want: signInFirst(http.StatusBadRequest, http.StatusBadRequest, forbid, forbid)}, // not multipart
		// The brand's view of a case whose item is on its way to the brand.
		"GET /authentications/:ref":                     {path: "/authentications/{brandcase}", want: signInFirst(forbid, forbid, forbid, ok)},
		"POST /authentications/:ref/verdict":            {path: "/authentications/{brandcase}/verdict", want: signInFirst(forbid, forbid, forbid, http.StatusBadRequest)}, // not multipart
		echo.RouteNotFound + " /authentications/:ref":   {path: "/authentications/{brandcase}/nothing", want: signInFirst(forbid, forbid, forbid, notFound)},
		echo.RouteNotFound + " /authentications/:ref/*": {path: "/authentications/{brandcase}/nothing/else", want: signInFirst(forbid, forbid, forbid, notFound)},

		// The volunteer pool; {volunteer} is the seeded volunteer's id.
		"GET /volunteers":                             {path: "/volunteers", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /volunteers/:id":                         {path: "/volunteers/{volunteer}", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /volunteers/:id":                        {path: "/volunteers/{volunteer}", form: url.Values{"region": {"Zhejiang"}}, want: signInFirst(redirect, redirect, forbid, forbid)},
		"POST /volunteers/:id/personas":               {path: "/volunteers/{volunteer}/personas", form: url.Values{"phone": {"1"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /volunteers/:id/personas/:persona/burn": {path: "/volunteers/{volunteer}/personas/999999/burn", form: url.Values{"reason": {"spotted"}}, want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /volunteers":           {path: "/volunteers/1/nothing", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /volunteers/*":         {path: "/volunteers/1/nothing/else", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /cases/:ref":           {path: "/cases/{case}/nothing", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /cases/:ref/*":         {path: "/cases/{case}/nothing/else", want: signInFirst(notFound, notFound, forbid, forbid)},

		"GET /flags":                     {path: "/flags", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /flags/open-case":          {path: "/flags/open-case", want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /flags/attach":             {path: "/flags/attach", form: url.Values{"case": {"SC-0000-000000"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /flags/dismiss":            {path: "/flags/dismiss", form: url.Values{"reason": {"noise"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		echo.RouteNotFound + " /flags":   {path: "/flags/nothing", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /flags/*": {path: "/flags/nothing/else", want: signInFirst(notFound, notFound, forbid, forbid)},

		"GET /flags/import":                     {path: "/flags/import", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /flags/import":                    {path: "/flags/import", want: signInFirst(invalid, invalid, forbid, forbid)},
		"GET /flags/import/:id":                 {path: "/flags/import/{import}", want: signInFirst(ok, ok, forbid, forbid)},
		"POST /flags/import/:id/start":          {path: "/flags/import/{import}/start", want: signInFirst(redirect, redirect, forbid, forbid)},
		echo.RouteNotFound + " /flags/import":   {path: "/flags/import/1/nothing", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /flags/import/*": {path: "/flags/import/1/nothing/else", want: signInFirst(notFound, notFound, forbid, forbid)},

		"GET /shops/:id":                     {path: "/shops/{shop}", want: signInFirst(ok, ok, forbid, forbid)},
		"GET /clusters/:id":                  {path: "/clusters/999999", want: signInFirst(notFound, notFound, forbid, forbid)},
		"POST /shops/:id/links":              {path: "/shops/{shop}/links", form: url.Values{"platform": {"taobao"}, "platform_shop_id": {"nope"}, "kind": {"same_phone"}}, want: signInFirst(invalid, invalid, forbid, forbid)},
		"POST /shops/:id/links/:link/delete": {path: "/shops/{shop}/links/999999/delete", want: signInFirst(notFound, notFound, forbid, forbid)},
		"POST /shops/:id/suggestions/:suggestion": {path: "/shops/{shop}/suggestions/999999", form: url.Values{"decision": {"confirm"}, "note": {"same phone"}},
			want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /shops/:id":   {path: "/shops/{shop}/nothing", want: signInFirst(notFound, notFound, forbid, forbid)},
		echo.RouteNotFound + " /shops/:id/*": {path: "/shops/{shop}/nothing/else", want: signInFirst(notFound, notFound, forbid, forbid)},

		"GET /admin/deadlines":             {path: "/admin/deadlines", want: signInFirst(ok, forbid, forbid, forbid)},
		"POST /admin/deadlines":            {path: "/admin/deadlines", form: url.Values{"delivery": {"0"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"POST /admin/deadlines/brands/:id": {path: "/admin/deadlines/brands/{brand}", form: url.Values{"authentication_days": {"x"}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		"GET /admin/brands":                {path: "/admin/brands", want: signInFirst(ok, forbid, forbid, forbid)},
		"POST /admin/brands":               {path: "/admin/brands", form: url.Values{"name": {""}}, want: signInFirst(invalid, forbid, forbid, forbid)},
		echo.RouteNotFound + " /*":         {path: "/no/such/page", want: all(notFound)},
		// Echo registers a not-found route per group so that the group's
		// guards run before the 404: nothing below /admin is revealed to
		// anyone but an admin.
		echo.RouteNotFound + " /":                  {path: "/no-such-page", want: all(notFound)},
		echo.RouteNotFound + " /admin":             {path: "/admin", want: signInFirst(notFound, forbid, forbid, forbid)},
		echo.RouteNotFound + " /admin/*":           {path: "/admin/nothing", want: signInFirst(notFound, forbid, forbid, forbid)},
		echo.RouteNotFound + " /admin/users/:id":   {path: "/admin/users/{user}/nothing", want: signInFirst(notFound, forbid, forbid, forbid)},
		echo.RouteNotFound + " /admin/users/:id/*": {path: "/admin/users/{user}/nothing/else", want: signInFirst(notFound, forbid, forbid, forbid)},
	}
}

func routeKey(r *echo.Route) string { return r.Method + " " + r.Path }

// TestRouteMatrix calls every registered route as every kind of visitor and
// checks the outcome; a route added without a row fails the test.
func TestRouteMatrix(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	target, err := a.users.Create(t.Context(), user.New{Email: "target@test.spotcheck.test", Name: "Target", Role: "staff", Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	objects := seedObjects(t, a)
	rows := matrix()
	var routes []string
	for _, r := range a.echo.Routes() {
		routes = append(routes, routeKey(r))
	}
	sort.Strings(routes)
	seen := map[string]bool{}
	for _, key := range routes {
		if seen[key] {
			continue
		}
		seen[key] = true
		row, ok := rows[key]
		if !ok {
			t.Errorf("route %s has no row in the route matrix", key)
			continue
		}
		method, _, _ := strings.Cut(key, " ")
		path := strings.ReplaceAll(row.path, "{user}", strconv.FormatInt(target.ID, 10))
		for k, v := range objects {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		for i, r := range roles {
			t.Run(key+"/"+r, func(t *testing.T) {
				c := a.as(r) // a fresh session per call: logout and disable must not leak into other rows
				var res response
				switch method {
				case http.MethodGet, echo.RouteNotFound:
					res = c.get(path)
				default:
					res = c.post(path, cloneForm(row.form))
				}
				if res.StatusCode != row.want[i] {
					t.Fatalf("%s %s as %s: status %d, want %d\n%.400s", method, path, r, res.StatusCode, row.want[i], res.body)
				}
			})
		}
	}
	for key := range rows {
		if !seen[key] {
			t.Errorf("the matrix has a row for %s, which is not a registered route", key)
		}
	}
}

func cloneForm(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// TestEveryStateChangingRouteRefusesAMissingOrWrongCSRFToken walks every
// non-GET route as an admin (who could otherwise do anything) and sends it
// no token, a wrong token, and a cross-site request. The case and the shop
// exist: the form's token is checked after the object is loaded, so an
// unknown one would be answered 404 first.
func TestEveryStateChangingRouteRefusesAMissingOrWrongCSRFToken(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	objects := seedObjects(t, a)
	admin := a.as("admin")
	id := strconv.FormatInt(a.accounts["volunteer"].ID, 10)
	checked := 0
	for _, r := range a.echo.Routes() {
		// The flag API is called by machines with a bearer token and no
		// cookies, so there is no ambient authority to forge.
		if r.Method == http.MethodGet || r.Method == echo.RouteNotFound || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		path := strings.ReplaceAll(r.Path, "/shops/:id", "/shops/"+objects["shop"])
		path = strings.ReplaceAll(path, ":id", id)
		path = strings.ReplaceAll(path, ":ref", objects["case"])
		path = strings.ReplaceAll(path, ":link", "1")
		for name, h := range map[string]struct {
			form   url.Values
			header http.Header
		}{
			"no token":     {url.Values{"name": {"x"}}, nil},
			"wrong token":  {url.Values{"_csrf": {"not-the-token"}}, nil},
			"wrong header": {nil, http.Header{"X-Csrf-Token": {"not-the-token"}}},
			"cross-site":   {url.Values{"_csrf": {admin.csrfToken()}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		} {
			res := admin.postRaw(path, h.form, h.header)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with %s: status %d, want 403", r.Method, path, name, res.StatusCode)
			}
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d state-changing routes checked", checked)
	}
	// The admin is still signed in and nothing was changed.
	if res := admin.get("/admin/users"); res.StatusCode != http.StatusOK {
		t.Fatalf("admin after the walk: %d", res.StatusCode)
	}
	v, _ := a.users.Get(t.Context(), a.accounts["volunteer"].ID)
	if v.Disabled() {
		t.Fatal("a request without a valid token disabled a user")
	}
}

func TestUnknownUserIDIsNotFound(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	admin := a.as("admin")
	for _, p := range []string{"/admin/users/999999", "/admin/users/abc"} {
		if res := admin.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, res.StatusCode)
		}
	}
	if res := admin.post("/admin/users/999999/disable", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("disable unknown: %d, want 404", res.StatusCode)
	}
}
