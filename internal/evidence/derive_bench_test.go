package evidence_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
)

// noisyJPEG is a 6000×4000 photo-sized JPEG of gradients and noise, at the
// highest quality that stays within the upload limit (about 25 MiB).
func noisyJPEG(b *testing.B) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 6000, 4000))
	r := rand.New(rand.NewPCG(1, 2)) // #nosec G404 -- a seeded generator makes a repeatable noisy image, not a secret
	for i := 0; i < len(img.Pix); i += 4 {
		x, y, n := (i/4)%6000, (i/4)/6000, uint8(r.Uint32())
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x/24)+n/2, uint8(y/16)+n/2, uint8(x+y)/2+n/2, 255
	}
	for q := 96; q > 80; q-- {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			b.Fatal(err)
		}
		if int64(buf.Len()) <= evidence.DefaultMaxSize {
			return buf.Bytes()
		}
	}
	b.Fatal("no quality fits the upload limit")
	return nil
}

// bigJPEG is made once: the benchmark function runs more than once.
var (
	bigJPEGOnce sync.Once
	bigJPEG     []byte
)

// peakMemory samples the Go heap's live objects and all memory the runtime
// holds from the OS until stop is called, and returns their peaks.
func peakMemory() (stop func() (heap, total uint64)) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	var heap, total uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			heap, total = max(heap, s[0].Value.Uint64()), max(total, s[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() (uint64, uint64) { close(done); wg.Wait(); return heap, total }
}

// BenchmarkDerive25MiBJPEG: the time and the process's peak memory to
// derive the clean copy of a 24-megapixel, 25 MiB JPEG turned sideways
// (orientation 6, so the pixels are also rotated). The figures include the
// benchmark's own copy of the file (25 MiB); storing and recording each
// new original is outside the timer.
func BenchmarkDerive25MiBJPEG(b *testing.B) {
	bigJPEGOnce.Do(func() {
		plain := noisyJPEG(b)
		exif := segment(0xE1, append([]byte("Exif\x00\x00"), tiffExif(6)...))
		bigJPEG = append(append(append([]byte{}, plain[:2]...), exif...), plain[2:]...)
	})
	orig := bigJPEG
	db := dbtest.SQLite(b)
	f := setup(b, db)
	s, _ := fileStore(b, 0)
	runtime.GC()
	stop := peakMemory()
	b.SetBytes(int64(len(orig)))
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		e := f.onRecord(b, s, orig, "big.jpg")
		b.StartTimer()
		d, err := s.Derive(context.Background(), db, e, evidence.Clean)
		if err != nil {
			b.Fatal(err)
		}
		if d.Width != 4000 || d.Height != 6000 {
			b.Fatalf("derivative is %d×%d", d.Width, d.Height)
		}
	}
	heap, total := stop()
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(total)/(1<<20), "peak-runtime-MiB")
}
