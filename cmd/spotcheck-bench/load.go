package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sync"
	"time"
)

// newClient is an HTTP client for up to conns connections to one host,
// with a cookie jar (nil: a fresh one) and without following redirects.
func newClient(conns int, jar http.CookieJar) *http.Client {
	if jar == nil {
		jar, _ = cookiejar.New(nil)
	}
	return &http.Client{
		Jar:     jar,
		Timeout: 10 * time.Minute,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			MaxConnsPerHost:     conns,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// loadResult is one run of the load generator.
type loadResult struct {
	Conns    int
	Requests int // answered in the measured window
	All      int // answered, warm-up included (for CPU per request)
	Errors   int
	FirstErr string
	Elapsed  time.Duration
	Bytes    int64
	lat      []time.Duration // sorted
}

func (r loadResult) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p+0.999999) - 1
	return r.lat[min(max(i, 0), len(r.lat)-1)]
}

func (r loadResult) P50() time.Duration { return r.pct(0.50) }
func (r loadResult) P99() time.Duration { return r.pct(0.99) }
func (r loadResult) Max() time.Duration { return r.pct(1) }

// check looks at one answer; it returns an error for a wrong one.
type check func(status int, body []byte) error

// runLoad sends GET target from conns workers, each one request at a time
// on its own keep-alive connection, for d after a warm-up of warm (not
// counted). Worker i uses clients[i % len(clients)] (its cookie jar: its
// session). Every answer is read whole and checked.
func runLoad(ctx context.Context, clients []*http.Client, target string, conns int, warm, d time.Duration, ok check) loadResult {
	type worker struct {
		lat   []time.Duration
		all   int
		errs  int
		first string
		bytes int64
	}
	ws := make([]*worker, conns)
	var wg sync.WaitGroup
	start := time.Now()
	measureFrom := start.Add(warm)
	end := measureFrom.Add(d)
	for i := range ws {
		w := &worker{lat: make([]time.Duration, 0, 4096)}
		ws[i] = w
		client := clients[i%len(clients)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 256<<10)
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(end) {
					return
				}
				status, body, err := get(ctx, client, target, buf[:0])
				buf = body[:0]
				took := time.Since(t0)
				w.all++
				if t0.Before(measureFrom) {
					continue
				}
				if err == nil {
					err = ok(status, body)
				}
				if err != nil {
					w.errs++
					if w.first == "" {
						w.first = err.Error()
					}
					continue
				}
				w.lat = append(w.lat, took)
				w.bytes += int64(len(body))
			}
		}()
	}
	wg.Wait()
	res := loadResult{Conns: conns, Elapsed: d}
	for _, w := range ws {
		res.lat = append(res.lat, w.lat...)
		res.Errors += w.errs
		res.All += w.all
		res.Bytes += w.bytes
		if res.FirstErr == "" {
			res.FirstErr = w.first
		}
	}
	// Requests still running at the deadline finish after it; the window
	// is measured from the first counted request to the last answer.
	if el := time.Since(measureFrom); el > d {
		res.Elapsed = el
	}
	res.Requests = len(res.lat)
	slices.Sort(res.lat)
	return res
}

func get(ctx context.Context, client *http.Client, target string, buf []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return 0, buf, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, buf, err
	}
	defer res.Body.Close()
	body, err := readAll(res.Body, buf)
	return res.StatusCode, body, err
}

// readAll is io.ReadAll into a reused buffer.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
