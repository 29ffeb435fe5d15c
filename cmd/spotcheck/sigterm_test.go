package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// upload is an evidence upload whose body the test writes as it pleases.
type upload struct {
	pw     *io.PipeWriter
	mw     *multipart.Writer
	file   io.Writer
	answer chan *http.Response
}

// startUpload begins a staff upload of a receipt to the case, sending the
// form's fields and the first bytes of the file; the rest waits.
func startUpload(t *testing.T, c *http.Client, base, ref string) *upload {
	t.Helper()
	pr, pw := io.Pipe()
	u := &upload{pw: pw, mw: multipart.NewWriter(pw), answer: make(chan *http.Response, 1)}
	req, _ := http.NewRequest(http.MethodPost, base+"/cases/"+ref+"/evidence", pr)
	req.Header.Set("Content-Type", u.mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-CSRF-Token", "streamed") // the body is read part by part; Sec-Fetch-Site settles CSRF
	go func() {
		res, err := c.Do(req)
		if err != nil {
			u.answer <- nil
			return
		}
		if err := res.Body.Close(); err != nil {
			t.Error(err)
		}
		u.answer <- res
	}()
	go func() {
		_ = u.mw.WriteField("kind", "receipt")
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="receipt.pdf"`)
		h.Set("Content-Type", "application/pdf")
		f, err := u.mw.CreatePart(h)
		if err != nil {
			return
		}
		u.file = f
		_, _ = f.Write([]byte("%PDF-1.4\n" + strings.Repeat("% receipt line\n", 4096)))
	}()
	return u
}

// finish sends the rest of the file and ends the body.
func (u *upload) finish() {
	_, _ = u.file.Write([]byte(strings.Repeat("% more\n", 4096) + "%%EOF\n"))
	_ = u.mw.Close()
	_ = u.pw.Close()
}

// abandon drops the connection mid-file, as a phone losing its network does.
func (u *upload) abandon() { _ = u.pw.CloseWithError(fmt.Errorf("the phone lost its network")) }

func count(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestSIGTERMLetsUploadsFinishAndTheBundleResume stops the server while
// two uploads and a bundle build are under way. The upload that goes on
// sending is taken and recorded; the one the phone abandons leaves neither
// a file nor a row; the bundle (held up by a lock on a table it reads) is
// cancelled at the end of the shutdown's grace and built by the next
// process, without waiting for River's hour-long rescue.
func TestSIGTERMLetsUploadsFinishAndTheBundleResume(t *testing.T) {
	pg := newCluster(t)
	e := newEnv(t, pg.URL())
	s := startServer(t, e, "SPOTCHECK_SHUTDOWN_TIMEOUT=3s", "SPOTCHECK_DB_LOCK_TIMEOUT=1m")
	c := s.staffClient(t, 30*time.Second)
	admin := pg.SQL(t)
	var ref string
	if err := admin.QueryRow(`SELECT c.reference FROM cases c WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.case_id = c.id)
		ORDER BY c.id LIMIT 1`).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	rowsBefore := count(t, admin, `SELECT count(*) FROM evidence`)
	blobDir := filepath.Join(strings.TrimPrefix(e[0], "SPOTCHECK_DATA="), "evidence")

	kept, dropped := startUpload(t, c, s.base, ref), startUpload(t, c, s.base, ref)
	time.Sleep(300 * time.Millisecond)

	lock, err := admin.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = lock.Rollback() }()
	if _, err := lock.Exec(`LOCK TABLE flags IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.base+"/cases/"+ref+"/bundles", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bundle request: %s", res.Status)
	}
	var bundleID int64
	if err := admin.QueryRow(`SELECT max(id) FROM bundles`).Scan(&bundleID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return count(t, admin, `SELECT count(*) FROM bundles WHERE id = $1 AND status = 'building'`, bundleID) == 1
	})

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitForLine(t, s.logs, "shutting down")
	dropped.abandon()
	kept.finish()
	if res := <-kept.answer; res == nil || res.StatusCode != http.StatusSeeOther {
		t.Errorf("the upload that went on after SIGTERM: %v, want 303 to the case", res)
	}
	<-dropped.answer
	if err := s.cmd.Wait(); err != nil {
		t.Errorf("the server's exit: %v", err)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}

	if got := count(t, admin, `SELECT count(*) FROM evidence`); got != rowsBefore+1 {
		t.Errorf("evidence rows: %d, want %d (the finished upload's only)", got, rowsBefore+1)
	}
	rows, err := admin.Query(`SELECT blob_key FROM evidence UNION ALL SELECT blob_key FROM evidence_derivatives`)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		keys[k] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	blobs := 0
	err = filepath.WalkDir(blobDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".attrs") {
			return err
		}
		rel, _ := filepath.Rel(blobDir, p)
		if strings.HasPrefix(rel, "bundles"+string(filepath.Separator)) {
			return nil
		}
		blobs++
		if !keys[filepath.ToSlash(rel)] {
			t.Errorf("a file with no evidence row: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range keys {
		if _, err := os.Stat(filepath.Join(blobDir, filepath.FromSlash(k))); err != nil {
			t.Errorf("an evidence row without its file: %s", k)
		}
	}
	if status := count(t, admin, `SELECT count(*) FROM bundles WHERE id = $1 AND status = 'done'`, bundleID); status != 0 {
		t.Fatal("the bundle was built before the shutdown; the lock did not hold it up")
	}

	restarted := time.Now()
	startServer(t, e)
	waitFor(t, func() bool {
		return count(t, admin, `SELECT count(*) FROM bundles WHERE id = $1 AND status = 'done'`, bundleID) == 1
	})
	t.Logf("SIGTERM with two uploads and a bundle build in flight: %d evidence and derivative rows, %d files; the bundle built %s after the restart",
		len(keys), blobs, time.Since(restarted).Round(time.Millisecond))
	auditIntact(t, e)
}
