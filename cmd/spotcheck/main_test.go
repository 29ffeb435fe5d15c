package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"spotcheck/internal/database/dbtest"
)

var binary string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "spotcheck-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "spotcheck")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput() // #nosec G204 -- the fixed go toolchain building this package into a temporary folder
	if err != nil {
		fmt.Fprintf(os.Stderr, "building spotcheck: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	if err := os.RemoveAll(dir); err != nil && code == 0 {
		fmt.Fprintf(os.Stderr, "removing the built binary: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

// env is a configuration for one test: its own data folder, and the given
// database (empty: embedded SQLite).
type env []string

func newEnv(t *testing.T, databaseURL string) env {
	e := env{"SPOTCHECK_DATA=" + t.TempDir(), "SPOTCHECK_LOG_FORMAT=json", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	if databaseURL != "" {
		e = append(e, "DATABASE_URL="+databaseURL)
	}
	return e
}

func (e env) run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...) // #nosec G204 -- binary is the spotcheck binary TestMain built
	cmd.Env = e
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (e env) mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := e.run(t, stdin, args...)
	if err != nil {
		t.Fatalf("spotcheck %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func bothDatabases(t *testing.T, fn func(t *testing.T, e env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newEnv(t, dbtest.PostgresURL(t))) })
}

var eventsRE = regexp.MustCompile(`intact: (\d+) events, head (\d+) ([0-9a-f]{64})`)

func TestDemoIsIdempotentAndPrintsAnAccountPerRole(t *testing.T) {
	bothDatabases(t, func(t *testing.T, e env) {
		e = append(e, "SPOTCHECK_DEMO_PASSWORD=demo password 1")
		first := e.mustRun(t, "", "demo")
		for _, r := range []string{"admin", "staff", "volunteer", "brand"} {
			if !strings.Contains(first, r+"@demo.spotcheck.test") {
				t.Fatalf("no %s account in:\n%s", r, first)
			}
		}
		before := eventsRE.FindStringSubmatch(e.mustRun(t, "", "audit", "verify"))
		second := e.mustRun(t, "", "demo")
		after := eventsRE.FindStringSubmatch(e.mustRun(t, "", "audit", "verify"))
		if before == nil || after == nil || before[3] != after[3] {
			t.Fatalf("the second demo run wrote something: %v → %v", before, after)
		}
		if strings.Contains(second, " created") {
			t.Fatalf("second run created again:\n%s", second)
		}
	})
}

func TestDemoGeneratesAPasswordWhenNoneIsGiven(t *testing.T) {
	e := newEnv(t, "")
	out := e.mustRun(t, "", "demo")
	m := regexp.MustCompile(`Password for all of them: (\S+)`).FindStringSubmatch(out)
	if m == nil || len(m[1]) < 16 {
		t.Fatalf("no generated password in:\n%s", out)
	}
	again := e.mustRun(t, "", "demo")
	if !strings.Contains(again, m[1]) {
		t.Fatal("a later run does not print the same password")
	}
	other := newEnv(t, "")
	if strings.Contains(other.mustRun(t, "", "demo"), m[1]) {
		t.Fatal("two installations got the same demo password")
	}
}

func TestShellAdministration(t *testing.T) {
	bothDatabases(t, func(t *testing.T, e env) {
		e.mustRun(t, "", "brand", "add", "--name", "Aurora Timepieces", "--rights-holder", "Aurora AG")
		out := e.mustRun(t, "a long password\n", "user", "add", "--email", "Root@Example.test", "--name", "Root", "--role", "admin")
		if !strings.Contains(out, "root@example.test (admin)") {
			t.Fatalf("user add: %s", out)
		}
		e.mustRun(t, "brand password\n", "user", "add", "--email", "b@example.test", "--name", "B", "--role", "brand", "--brand", "aurora timepieces")
		if out, err := e.run(t, "short\n", "user", "add", "--email", "c@example.test", "--name", "C", "--role", "staff"); err == nil || !strings.Contains(out, "--password: Use at least 8 characters") {
			t.Fatalf("short password accepted: %v %s", err, out)
		}
		if out, err := e.run(t, "long enough\n", "user", "add", "--email", "d@example.test", "--name", "D", "--role", "wizard"); err == nil || !strings.Contains(out, "--role") {
			t.Fatalf("bad role accepted: %v %s", err, out)
		}
		e.mustRun(t, "a new password\n", "user", "passwd", "--email", "root@example.test")
		e.mustRun(t, "", "user", "disable", "--email", "b@example.test")
		out = e.mustRun(t, "", "audit", "verify")
		if m := eventsRE.FindStringSubmatch(out); m == nil || m[1] != "5" {
			t.Fatalf("audit verify: %s", out)
		}
	})
}

func TestConfigurationErrorsNameEveryBadValue(t *testing.T) {
	e := append(newEnv(t, ""), "SPOTCHECK_SESSION_IDLE=soon", "DATABASE_URL=mysql://x", "SPOTCHECK_TRUSTED_PROXIES=10.0.0.0/99")
	out, err := e.run(t, "", "migrate")
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, name := range []string{"SPOTCHECK_SESSION_IDLE", "DATABASE_URL", "SPOTCHECK_TRUSTED_PROXIES"} {
		if !strings.Contains(out, name) {
			t.Errorf("%s not named in:\n%s", name, out)
		}
	}
}

func TestMigrateStatusListsAppliedMigrations(t *testing.T) {
	e := newEnv(t, "")
	if out := e.mustRun(t, "", "migrate", "status"); !strings.Contains(out, "pending") {
		t.Fatalf("fresh database: %s", out)
	}
	e.mustRun(t, "", "migrate")
	if out := e.mustRun(t, "", "migrate", "status"); strings.Contains(out, "pending") || !strings.Contains(out, "applied") {
		t.Fatalf("after migrate: %s", out)
	}
}

func TestAuditVerifyNamesTheFirstBrokenEvent(t *testing.T) {
	e := newEnv(t, "")
	e.mustRun(t, "", "demo")
	dataDir := strings.TrimPrefix(e[0], "SPOTCHECK_DATA=")
	// Tamper with the file as an attacker with disk access would.
	tamper := exec.Command("go", "run", "./testdata/tamper.go", filepath.Join(dataDir, "spotcheck.db"), "3") // #nosec G204 -- the fixed go toolchain running this package's testdata program on the test's own database
	tamper.Env = os.Environ()
	if out, err := tamper.CombinedOutput(); err != nil {
		t.Fatalf("tamper: %v\n%s", err, out)
	}
	out, err := e.run(t, "", "audit", "verify")
	if err == nil || !strings.Contains(out, "BROKEN at event 3") {
		t.Fatalf("tampered chain: %v\n%s", err, out)
	}
}

// TestServeStopsGracefully starts the server, begins a request whose body
// is still arriving, sends SIGTERM, finishes the body, and expects the
// answer to arrive and the process to exit 0.
func TestServeStopsGracefully(t *testing.T) {
	e := newEnv(t, "")
	port := freePort(t)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(e, "SPOTCHECK_ADDR=127.0.0.1:"+port, "SPOTCHECK_SHUTDOWN_TIMEOUT=10s")
	logs, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	base := "http://127.0.0.1:" + port
	waitFor(t, func() bool { r, err := http.Get(base + "/healthz"); return err == nil && r.StatusCode == 200 })

	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, base+"/login", pr)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	answer := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
		}
		answer <- res
	}()
	if _, err := fmt.Fprint(pw, "email=a%40b.test&"); err != nil { // the request is now in flight
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, lines, "shutting down")
	// The listener closes as shutdown begins, while the request above is
	// still waiting for the rest of its body.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			if cerr := c.Close(); cerr != nil {
				t.Error(cerr)
			}
		}
		return err != nil
	})
	if _, err := fmt.Fprint(pw, "password=whatever"); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	res := <-answer
	if res == nil || res.StatusCode != http.StatusForbidden { // no CSRF token: refused, but answered
		t.Fatalf("in-flight request: %v", res)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	waitForLine(t, lines, "stopped")
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("timed out")
}

func waitForLine(t *testing.T, lines <-chan string, substr string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("log ended before %q", substr)
			}
			if strings.Contains(l, substr) {
				return
			}
		case <-timeout:
			t.Fatalf("no log line with %q", substr)
		}
	}
}

func TestTokenCreateListRevoke(t *testing.T) {
	e := newEnv(t, "")
	cmd := exec.Command(binary, "token", "create", "--name", "risk-model-7")
	cmd.Env = e
	out, err := cmd.Output() // the secret alone on stdout, for scripts
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(out))
	if !strings.HasPrefix(secret, "sc_") || strings.Contains(secret, "\n") {
		t.Fatalf("stdout %q", out)
	}
	list := e.mustRun(t, "", "token", "list")
	if !strings.Contains(list, "risk-model-7") || strings.Contains(list, secret) || !strings.Contains(list, "active") {
		t.Fatalf("list: %s", list)
	}
	e.mustRun(t, "", "token", "revoke", "--id", "1")
	if list := e.mustRun(t, "", "token", "list"); !strings.Contains(list, "revoked") {
		t.Fatalf("after revoke: %s", list)
	}
}
