package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"spotcheck/internal/database/dbtest"
)

// cluster is a PostgreSQL server of the test's own (Debian's initdb and
// pg_ctl, on a port of its own), so that a test may stop, restart or
// starve it without disturbing the other packages' tests on the shared
// server.
type cluster struct {
	dir, port  string
	asPostgres bool // the server refuses to run as root: run it as the postgres user
}

// newCluster makes and starts a cluster, stopped when the test ends. Where
// the PostgreSQL server programs are missing, the test is skipped, except
// under SPOTCHECK_E2E=1 (CI), where that is a failure.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	if _, err := exec.LookPath("initdb"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) > 0 {
			t.Setenv("PATH", filepath.Dir(m[len(m)-1])+string(os.PathListSeparator)+os.Getenv("PATH"))
		} else if os.Getenv("SPOTCHECK_E2E") == "1" {
			t.Fatal("initdb not found: the fault tests need PostgreSQL's server programs")
		} else {
			t.Skip("initdb not found (install postgresql); SPOTCHECK_E2E=1 makes this a failure")
		}
	}
	c := &cluster{port: freePort(t), asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "spotcheck-pg")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the stop below, which waits for the server to exit
		if err := os.RemoveAll(dir); err != nil {
			t.Error(err)
		}
	})
	c.dir = filepath.Join(dir, "data")
	if c.asPostgres {
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	c.run(t, "initdb", "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	c.Start(t)
	t.Cleanup(func() { c.pgctl(t, "stop", "-m", "immediate") })
	return c
}

// URL is the cluster's database for the app.
func (c *cluster) URL() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// Start starts the server and waits until it takes connections.
func (c *cluster) Start(t *testing.T) {
	t.Helper()
	c.pgctl(t, "start", "-w", "-l", filepath.Join(filepath.Dir(c.dir), "server.log"),
		"-o", "-p "+c.port+" -c listen_addresses=127.0.0.1 -k "+filepath.Dir(c.dir)+" -c fsync=off -c max_connections=100")
}

// Stop stops the server the fast way: sessions are ended, nothing is lost.
func (c *cluster) Stop(t *testing.T) { t.Helper(); c.pgctl(t, "stop", "-w", "-m", "fast") }

func (c *cluster) pgctl(t *testing.T, args ...string) {
	t.Helper()
	c.run(t, "pg_ctl", append([]string{"-D", c.dir}, args...)...)
}

func (c *cluster) run(t *testing.T, name string, args ...string) {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, args...) // #nosec G204 -- a PostgreSQL program found on PATH, run on the test's own cluster
	if c.asPostgres {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...) // #nosec G204 -- the same program as the postgres user
	}
	cmd.Dir = os.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// SQL is a connection pool of the test's own to the cluster.
func (c *cluster) SQL(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", c.URL()+"&application_name=test")
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}
