package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const volunteerEmail = "volunteer@bench.spotcheck.test"

// uploadPhase measures evidence uploads: a volunteer sends a 25 MiB file
// (and, for comparison, a 1 MiB one) to their purchase through the real
// multipart route, streamed from disk by the client as a phone's browser
// does. It prints the upload rate next to sha256sum of the same file (the
// server hashes every byte it stores) and the server's memory during each
// size, which must stay flat: not grow with the file.
func (b *bench) uploadPhase(ctx context.Context) error {
	fmt.Printf("\n== Evidence upload ==\n")
	purchaseID, err := b.seedPurchase(ctx)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	csrf, err := signInAs(ctx, client, b.addr, volunteerEmail, password)
	if err != nil {
		return err
	}
	const runs = 5
	sizes := []int64{1 << 20, 25 << 20}
	peaks := map[int64]memFigures{}
	rates := map[int64]float64{}
	for _, size := range sizes {
		path, err := pdfFile(b.dataDir, size)
		if err != nil {
			return err
		}
		end := b.watch.phase()
		var best time.Duration
		for i := range runs {
			d, err := upload(ctx, client, b.addr, csrf, purchaseID, path)
			if err != nil {
				return fmt.Errorf("upload %d of %s: %w", i+1, mib(size>>10), err)
			}
			if best == 0 || d < best {
				best = d
			}
		}
		peaks[size] = end()
		rates[size] = float64(size) / (1 << 20) / best.Seconds()
		fmt.Printf("  %-8s ×%d   best %s = %.1f MiB/s   server %s\n", mib(size>>10), runs, best.Round(time.Millisecond), rates[size], peaks[size])
		if size == 25<<20 {
			hash, err := sha256sumTime(path)
			if err != nil {
				return err
			}
			hashRate := float64(size) / (1 << 20) / hash.Seconds()
			fmt.Printf("  sha256sum of the same file: best of 3 %s = %.1f MiB/s; upload/sha256sum = %.2f×\n",
				hash.Round(time.Millisecond), hashRate, rates[size]/hashRate)
			b.note("upload 25 MiB: %.1f MiB/s (sha256sum %.1f MiB/s, %.2f×)", rates[size], hashRate, rates[size]/hashRate)
		}
		if err := os.Remove(path); err != nil {
			return err
		}
	}
	small, large := peaks[1<<20], peaks[25<<20]
	growth := large.MaxRSS - small.MaxRSS
	fmt.Printf("  memory: max VmRSS %s with 1 MiB files, %s with 25 MiB files (growth %s for 24 MiB more per file)\n",
		mib(small.MaxRSS), mib(large.MaxRSS), mib(growth))
	b.note("upload memory: max VmRSS %s (1 MiB files) vs %s (25 MiB files)", mib(small.MaxRSS), mib(large.MaxRSS))
	b.judge("upload memory flat (25 MiB vs 1 MiB files, < 8 MiB growth)", growth < 8<<10, "%s growth", mib(growth))
	return nil
}

// seedPurchase makes a volunteer with a purchase to upload to: through
// the CLI for the account, in SQL for the rest (a bench needs one row).
func (b *bench) seedPurchase(ctx context.Context) (int64, error) {
	if _, err := b.spotcheck(ctx, password+"\n", "user", "add", "--email", volunteerEmail, "--name", "Bench Volunteer", "--role", "volunteer"); err != nil {
		return 0, err
	}
	var id int64
	err := b.pool.QueryRow(ctx, `
WITH u AS (SELECT id FROM users WHERE email = $1),
     sh AS (INSERT INTO shops (platform, platform_shop_id, name, created_at, updated_at) VALUES ('taobao', 'bench-upload', 'Bench Upload Shop', now(), now()) RETURNING id),
     c AS (INSERT INTO cases (reference, shop_id, brand_id, state, opened_at, updated_at, state_since) SELECT 'SC-1999-000001', sh.id, $2, 'purchasing', now(), now(), now() FROM sh RETURNING id, shop_id),
     v AS (INSERT INTO volunteers (user_id, pseudonym, created_at) SELECT id, 'Buyer B-BNCH', now() FROM u RETURNING user_id),
     p AS (INSERT INTO personas (volunteer_id, platform_account, address_alias, phone, payment_instrument, created_at) SELECT user_id, 'bench', 'bench', 'bench', 'bench', now() FROM v RETURNING id, volunteer_id)
INSERT INTO purchases (case_id, shop_id, volunteer_id, persona_id, ordered_by, status, budget_minor, currency, due_on, created_at, updated_at)
SELECT c.id, c.shop_id, p.volunteer_id, p.id, $3, 'assigned', 10000, 'CNY', current_date + 7, now(), now() FROM c, p RETURNING id`,
		volunteerEmail, b.brandIDs[0], b.users[1]).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("seed a purchase: %w", err)
	}
	_, err = b.pool.Exec(ctx, `INSERT INTO case_counts (brand_id, state, n) VALUES ($1, 'purchasing', 1)
		ON CONFLICT (brand_id, state) DO UPDATE SET n = case_counts.n + 1`, b.brandIDs[0])
	return id, err
}

// signInAs signs in through the real form and returns the CSRF token the
// page's script would send.
func signInAs(ctx context.Context, client *http.Client, addr, email, pw string) (string, error) {
	base := &url.URL{Scheme: "http", Host: addr, Path: "/"}
	if status, _, err := get(ctx, client, base.String()+"login", nil); err != nil || status != http.StatusOK {
		return "", fmt.Errorf("GET /login: %d %v", status, err)
	}
	csrf := ""
	for _, c := range client.Jar.Cookies(base) {
		if c.Name == "spotcheck_csrf" {
			csrf = c.Value
		}
	}
	form := url.Values{"email": {email}, "password": {pw}, "_csrf": {csrf}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+"login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := client.Do(req)
	if err != nil {
		return "", err
	}
	if err := res.Body.Close(); err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /login as %s: %d", email, res.StatusCode)
	}
	return csrf, nil
}

// pdfFile writes a file of size bytes that is a PDF by its signature
// (the allow-list decides by content) and random after it.
func pdfFile(dir string, size int64) (_ string, err error) {
	path := filepath.Join(dir, fmt.Sprintf("upload-%d.pdf", size))
	f, err := os.Create(path) // #nosec G304 -- path is a generated name in the bench's own temporary folder
	if err != nil {
		return "", err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	head := []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	if _, err := f.Write(head); err != nil {
		return "", err
	}
	_, err = io.CopyN(f, rand.Reader, size-int64(len(head)))
	return path, err
}

// upload streams the file as one multipart request, as htmx sends it.
func upload(ctx context.Context, client *http.Client, addr, csrf string, purchaseID int64, path string) (time.Duration, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() (err error) {
			if err := mw.WriteField("kind", "report"); err != nil {
				return err
			}
			part, err := mw.CreateFormFile("files", filepath.Base(path))
			if err != nil {
				return err
			}
			f, err := os.Open(path) // #nosec G304 -- path is the upload file this bench wrote
			if err != nil {
				return err
			}
			defer func() { err = errors.Join(err, f.Close()) }()
			if _, err := io.Copy(part, f); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	target := fmt.Sprintf("http://%s/assignments/%d/evidence", addr, purchaseID)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("HX-Request", "true")
	t := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	if err := errors.Join(err, res.Body.Close()); err != nil {
		return 0, err
	}
	d := time.Since(t)
	if res.StatusCode != http.StatusNoContent {
		return 0, fmt.Errorf("status %d: %.300s", res.StatusCode, body)
	}
	return d, nil
}

// sha256sumTime is the best of three runs of sha256sum over the file.
func sha256sumTime(path string) (time.Duration, error) {
	var best time.Duration
	for range 3 {
		t := time.Now()
		if out, err := exec.Command("sha256sum", path).CombinedOutput(); err != nil { // #nosec G204 -- the fixed sha256sum program on the bench's own upload file
			return 0, errors.Join(err, errors.New(string(out)))
		}
		if d := time.Since(t); best == 0 || d < best {
			best = d
		}
	}
	return best, nil
}
