package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river"

	"spotcheck/internal/brand"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/config"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/deadline"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/flag"
	"spotcheck/internal/job"
	"spotcheck/internal/network"
	"spotcheck/internal/notify"
	"spotcheck/internal/password"
	"spotcheck/internal/purchase"
	"spotcheck/internal/sharing"
	"spotcheck/internal/shop"
	"spotcheck/internal/stats"
	"spotcheck/internal/token"
	"spotcheck/internal/user"
	"spotcheck/internal/verdict"
	"spotcheck/web"
)

// testPassword is every seeded account's password.
const testPassword = "correct horse battery"

// fastHash keeps sign-ins quick in tests; production parameters are
// pinned down in the password package.
var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// app is a real Spotcheck server on a loopback port over a fresh database,
// with one account per role.
type app struct {
	t        testing.TB
	db       *database.DB
	echo     *echo.Echo
	srv      *httptest.Server
	zone     *time.Location // the configured SPOTCHECK_TIMEZONE
	users    *user.Service
	brands   *brand.Service
	cases    *casework.Service
	flags    *flag.Service
	network  *network.Service
	key      network.Key // the identifier key the flags are hashed with
	shops    *shop.Service
	tokens   *token.Service
	purchase *purchase.Service
	evidence *evidence.Store
	notify   *notify.Service
	jobs     *job.Queue           // inserts only; startWorkers runs what it inserted
	accounts map[string]user.User // by role name
	brand    brand.Brand
	other    brand.Brand // a brand none of the seeded users acts for
	logs     syncBuffer  // everything the server logged
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newApp starts the server; tweak adjusts the configuration first.
func newApp(t testing.TB, db *database.DB, tweak ...func(*config.Config)) *app {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.LoginMaxFails = 1000
	for _, f := range tweak {
		f(&cfg)
	}
	a := &app{t: t, db: db, accounts: map[string]user.User{}, zone: cfg.Location}
	a.users = user.NewService(db, password.NewHasher(fastHash, 4), user.Limits{MaxFailures: cfg.LoginMaxFails, Window: cfg.LoginWindow})
	a.brands = brand.NewService(db)
	a.cases = casework.NewService(db)
	a.flags = flag.NewService(db, cfg.AutoOpenScore)
	key, err := network.LoadKey(cfg.IdentifierKey, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a.key = key
	a.network = network.NewService(db)
	a.shops = shop.NewService(db)
	a.tokens = token.NewService(db)
	jobs, err := job.New(db, job.Config{}) // inserts only; startWorkers runs them
	if err != nil {
		t.Fatal(err)
	}
	a.jobs = jobs
	a.flags.UseIdentifiers(key, network.Matching{MaxImageDistance: cfg.ImageHashDistance}, jobs)
	a.purchase = purchase.NewService(db, jobs, cfg.RotationWindow, cfg.Location)
	a.notify = notify.NewService(db)
	if cfg.BlobURL == "" {
		cfg.BlobURL = "file://" + filepath.ToSlash(t.TempDir())
	}
	bucket, err := evidence.OpenBucket(context.Background(), cfg.BlobURL)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, bucket)
	a.evidence = &evidence.Store{Bucket: bucket, MaxSize: cfg.MaxUpload}
	a.echo = web.New(web.Deps{Config: cfg, SessionStore: sessionStore(db), Ready: db.Ping, Clock: db, Users: a.users, Brands: a.brands,
		Cases: a.cases, Flags: a.flags, Shops: a.shops, Tokens: a.tokens, Jobs: jobs,
		Purchases: a.purchase, Evidence: a.evidence, Notifications: a.notify, Verdicts: verdict.NewService(db, jobs),
		Enforcement: enforcement.NewService(db, jobs, enforcement.DefaultThresholds, cfg.Location),
		Sharing:     sharing.NewService(db, a.evidence, a.purchase),
		Bundles:     bundle.NewService(db, a.evidence, jobs),
		Deadlines:   deadline.NewService(db),
		Stats:       stats.NewReader(db),
		Network:     a.network,
		Logger:      slog.New(slog.NewJSONHandler(&a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	a.srv = httptest.NewServer(a.echo)
	t.Cleanup(a.srv.Close)
	a.seed()
	return a
}

// sessionStore is the database's session store, as cmd/spotcheck wires it.
func sessionStore(db *database.DB) scs.Store { return db.Sessions() }

func (a *app) seed() {
	ctx := context.Background()
	var err error
	if a.brand, err = a.brands.Create(ctx, brand.New{Name: "Aurora Timepieces"}); err != nil {
		a.t.Fatal(err)
	}
	if a.other, err = a.brands.Create(ctx, brand.New{Name: "Other Brand"}); err != nil {
		a.t.Fatal(err)
	}
	for _, r := range []string{"admin", "staff", "volunteer", "brand"} {
		in := user.New{Email: r + "@test.spotcheck.test", Name: "Test " + r, Role: r, Password: testPassword}
		if r == "brand" {
			in.BrandIDs = []int64{a.brand.ID}
		}
		u, err := a.users.Create(ctx, in)
		if err != nil {
			a.t.Fatal(err)
		}
		a.accounts[r] = u
	}
}

// client is one browser: its own cookie jar, redirects not followed so
// that tests see them.
type client struct {
	t    testing.TB
	app  *app
	http *http.Client
	// header is added to every request (e.g. Accept-Language).
	header http.Header
}

func (a *app) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, app: a, header: http.Header{}, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// as returns a client signed in as the seeded account of role r.
func (a *app) as(r string) *client {
	c := a.client()
	if r == "anonymous" {
		c.get("/login")
		return c
	}
	res := c.signIn(r+"@test.spotcheck.test", testPassword)
	if res.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign-in as %s: %d\n%s", r, res.StatusCode, res.body)
	}
	return c
}

type response struct {
	*http.Response
	body string
}

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	for k, v := range c.header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{res, string(b)}
}

func (c *client) get(path string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.app.srv.URL+path, nil)
	return c.do(req)
}

// csrfToken is the token a page would have put in its forms: the cookie
// set by the CSRF middleware (fetched with a GET when there is none yet).
func (c *client) csrfToken() string {
	c.t.Helper()
	u, _ := url.Parse(c.app.srv.URL)
	for i := 0; i < 2; i++ {
		for _, ck := range c.http.Jar.Cookies(u) {
			if ck.Name == "spotcheck_csrf" {
				return ck.Value
			}
		}
		c.get("/login")
	}
	c.t.Fatal("no CSRF cookie")
	return ""
}

// post sends a form with a valid CSRF token.
func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.csrfToken())
	return c.postRaw(path, form, nil)
}

// postRaw sends a form exactly as given, with extra headers.
func (c *client) postRaw(path string, form url.Values, h http.Header) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.app.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range h {
		req.Header[k] = v
	}
	return c.do(req)
}

func (c *client) signIn(email, pw string) response {
	c.t.Helper()
	return c.post("/login", url.Values{"email": {email}, "password": {pw}})
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.app.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// startWorkers runs the background jobs (the CSV import) for this app
// until the test ends, polling often so tests need not wait.
func (a *app) startWorkers() {
	workers := river.NewWorkers()
	river.AddWorker(workers, &flag.ImportWorker{Flags: a.flags, Location: a.zone})
	notifier := &notify.Worker{DB: a.db}
	river.AddWorker(workers, notifier)
	river.AddWorker(workers, &bundle.Worker{DB: a.db, Store: a.evidence})
	q, err := job.New(a.db, job.Config{Workers: workers, Work: true, PollInterval: 50 * time.Millisecond})
	if err != nil {
		a.t.Fatal(err)
	}
	notifier.Queue = q
	ctx, cancel := context.WithCancel(context.Background())
	if err := q.Start(ctx); err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(func() {
		stop, done := context.WithTimeout(context.Background(), 10*time.Second)
		defer done()
		_ = q.Stop(stop)
		cancel()
	})
}

// scalarOf runs a query of one number, failing the test on its error.
func scalarOf(t testing.TB, db *database.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm.Raw(q, args...).Row().Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
