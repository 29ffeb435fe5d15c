package evidence_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/evidence"
)

// s3Store is a Store on an in-process S3 (gofakes3), opened by URL as the
// server would open a real one.
func s3Store(t testing.TB, max int64) *evidence.Store {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("evidence"); err != nil {
		t.Fatal(err)
	}
	b, err := evidence.OpenBucket(context.Background(), fakeS3(t, backend, "evidence"))
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Close(t, b)
	return &evidence.Store{Bucket: b, MaxSize: max}
}

// fakeS3 serves backend over HTTP and returns the URL of bucket on it.
// Credentials come from the environment, never from this machine's files.
func fakeS3(t testing.TB, backend gofakes3.Backend, bucket string) string {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return "s3://" + bucket + "?endpoint=" + url.QueryEscape(srv.URL) + "&region=us-east-1&use_path_style=true&response_checksum_validation=when_required"
}

// One file sent in a single PUT, one in a multipart upload.
func TestS3RoundTrip(t *testing.T) {
	for _, size := range []int{200_000, 12 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) { s3RoundTrip(t, size) })
	}
}

func s3RoundTrip(t *testing.T, size int) {
	s := s3Store(t, 0)
	ctx := context.Background()
	body := pdfOfSize(size)
	st, err := s.Put(ctx, bytes.NewReader(body), "收据 2026.pdf")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if st.SHA256 != hex.EncodeToString(sum[:]) || st.Size != int64(len(body)) || st.ContentType != "application/pdf" ||
		st.OriginalName != "收据 2026.pdf" || !keyShape.MatchString(st.Key) {
		t.Fatalf("stored %+v", st)
	}
	if got := readAll(t, s, st.Key); !bytes.Equal(got, body) {
		t.Fatal("read back differs")
	}
	attrs, err := s.Bucket.Attributes(ctx, st.Key)
	if err != nil || attrs.ContentType != "application/pdf" {
		t.Fatalf("attributes %+v, %v", attrs, err)
	}
	if err := s.Delete(ctx, st.Key); err != nil {
		t.Fatal(err)
	}
	if k := keys(t, s.Bucket); len(k) != 0 {
		t.Fatalf("after Delete: %v", k)
	}
}

// The limit is past the uploader's first 5 MiB part, so that the refusal
// comes after a multipart upload was started: it must be aborted.
// (gofakes3 answers NoSuchUpload for a bucket that never had one, so an
// empty list proves the upload was both started and aborted.)
func TestS3TooLargeLeavesNoObject(t *testing.T) {
	const max = 6 << 20
	s := s3Store(t, max)
	_, err := s.Put(context.Background(), bytes.NewReader(pdfOfSize(max+1)), "over.pdf")
	if !errors.Is(err, evidence.ErrTooLarge) {
		t.Fatalf("Put = %v, want ErrTooLarge", err)
	}
	var client *s3.Client
	if !s.Bucket.As(&client) {
		t.Fatal("not an S3 bucket")
	}
	ups, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("evidence")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("unfinished uploads left: %d", len(ups.Uploads))
	}
	if _, err := s.Put(context.Background(), bytes.NewReader([]byte("<html></html>")), "x.pdf"); !errors.Is(err, evidence.ErrType) {
		t.Fatalf("Put html = %v", err)
	}
	if k := keys(t, s.Bucket); len(k) != 0 {
		t.Fatalf("refused uploads left objects: %v", k)
	}
}

func TestS3MissingBucketIsAnError(t *testing.T) {
	u := fakeS3(t, s3mem.New(), "nowhere")
	if b, err := evidence.OpenBucket(context.Background(), u); err == nil {
		t.Fatalf("a missing bucket opened (close: %v)", b.Close())
	}
}
