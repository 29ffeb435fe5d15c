package evidence_test

import (
	"context"
	"io"
	"testing"

	"spotcheck/internal/evidence"
)

// pdfStream is a PDF of n bytes made up as it is read, so that the
// benchmark's own input holds nothing in memory either.
type pdfStream struct {
	head []byte
	off  int64
	n    int64
}

func newPDFStream(n int64) *pdfStream { return &pdfStream{head: pdfBytes(), n: n} }

func (r *pdfStream) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		if at := r.off + int64(i); at < int64(len(r.head)) {
			p[i] = r.head[at]
		} else {
			p[i] = byte(' ' + at%64)
		}
	}
	r.off += int64(len(p))
	return len(p), nil
}

// BenchmarkPut25MiB: bytes allocated per Put must stay a small constant,
// far below the file's 25 MiB, since the file is streamed, never held.
func BenchmarkPut25MiB(b *testing.B) {
	s, _ := fileStore(b, 0)
	b.ReportAllocs()
	b.SetBytes(evidence.DefaultMaxSize)
	for b.Loop() {
		if _, err := s.Put(context.Background(), newPDFStream(evidence.DefaultMaxSize), "big.pdf"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPut25MiBS3: the same through the in-process S3, where the
// uploader holds 5 MiB parts. The figure also counts gofakes3, which keeps
// and copies whole objects in memory: a memory profile puts about 80% of
// it on the server's side.
func BenchmarkPut25MiBS3(b *testing.B) {
	s := s3Store(b, 0)
	b.ReportAllocs()
	b.SetBytes(evidence.DefaultMaxSize)
	for b.Loop() {
		st, err := s.Put(context.Background(), newPDFStream(evidence.DefaultMaxSize), "big.pdf")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Delete(context.Background(), st.Key); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
