package evidence

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // registers file://
	_ "gocloud.dev/blob/s3blob"   // registers s3://
)

// DefaultMaxSize is the size limit of one file when Store.MaxSize is 0.
const DefaultMaxSize int64 = 25 << 20

// s3PartSize bounds what the S3 uploader holds per upload: parts of the
// minimum size S3 accepts, sent one at a time. Files are small enough that
// parallel parts would buy little and cost memory on every upload.
const s3PartSize = 5 << 20

var (
	// ErrEmpty: the file has no content.
	ErrEmpty = errors.New("the file is empty")
	// ErrTooLarge: the file passed the size limit; nothing was stored.
	ErrTooLarge = errors.New("the file is too large")
	// ErrType: the file's content is not of an accepted type. The error
	// returned is a *TypeError naming what was found.
	ErrType = errors.New("the file type is not accepted")
)

// TypeError is a file refused for its content type.
type TypeError struct {
	Detected string // the MIME type found in the content
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("the file type is not accepted: the content is %s; only JPEG, PNG, WebP, HEIC images and PDF files are", e.Detected)
}

func (e *TypeError) Unwrap() error { return ErrType }

// OpenBucket opens blob storage by URL: file:///absolute/dir (created if
// missing) or s3://bucket?endpoint=…&region=…&use_path_style=true for any
// S3-compatible store (credentials from the usual AWS environment).
func OpenBucket(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("evidence storage URL: %w", err)
	}
	switch u.Scheme {
	case "file":
		if u.Host != "" || !path.IsAbs(u.Path) {
			return nil, fmt.Errorf("evidence storage URL %q: want file:///absolute/path", rawURL)
		}
		q := u.Query()
		q.Set("create_dir", "true")
		// Temporary files next to the final ones: a rename out of the
		// system's temp folder fails when it is on another disk.
		q.Set("no_tmp_dir", "true")
		u.RawQuery = q.Encode()
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("evidence storage URL %q: no bucket name", rawURL)
		}
	default:
		return nil, fmt.Errorf("evidence storage URL %q: want file:// or s3://", rawURL)
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("open evidence storage: %w", err)
	}
	if u.Scheme == "s3" {
		ok, err := b.IsAccessible(ctx)
		if err == nil && !ok {
			err = errors.New("bucket not found")
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open evidence storage %s: %w", u.Host, err), b.Close())
		}
	}
	return b, nil
}

// Store puts evidence files into a bucket and reads them back.
type Store struct {
	Bucket  *blob.Bucket
	MaxSize int64 // bytes per file; 0 means DefaultMaxSize
}

// Stored is a file in storage, not yet on record.
type Stored struct {
	Key          string // chosen by the server
	SHA256       string // lower-case hex
	Size         int64
	ContentType  string // decided from the content
	OriginalName string // the client's name, cleaned; untrusted
}

func (s *Store) maxSize() int64 {
	if s.MaxSize > 0 {
		return s.MaxSize
	}
	return DefaultMaxSize
}

// Put streams r into storage under a new key while hashing it. The type is
// read from the first bytes and must be on the allow-list; a file over the
// size limit is refused as it arrives and its partial write is abandoned,
// so a refused file leaves nothing behind. Only one buffer of the file is
// in memory at a time.
func (s *Store) Put(ctx context.Context, r io.Reader, originalName string) (Stored, error) {
	st, err := s.put(ctx, r, s.maxSize())
	if err != nil {
		return Stored{}, err
	}
	st.OriginalName = CleanName(originalName)
	return st, nil
}

// put is Put without a name, with its own size limit: the one path by which
// anything enters storage, uploads and derivatives alike.
func (s *Store) put(ctx context.Context, r io.Reader, max int64) (Stored, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return Stored{}, fmt.Errorf("read upload: %w", err)
	}
	head = head[:n]
	if n == 0 {
		return Stored{}, ErrEmpty
	}
	contentType, err := sniff(head)
	if err != nil {
		return Stored{}, err
	}
	key, err := newKey(time.Now().UTC())
	if err != nil {
		return Stored{}, err
	}
	// Cancelling wctx before Close abandons the write: no object is made.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.Bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: contentType, IfNotExist: true,
		BufferSize: s3PartSize, MaxConcurrency: 1, BeforeWrite: s.smallS3Parts})
	if err != nil {
		return Stored{}, fmt.Errorf("store evidence: %w", err)
	}
	h := sha256.New()
	body := io.LimitReader(io.MultiReader(bytes.NewReader(head), r), max+1)
	size, err := io.Copy(io.MultiWriter(w, h), body)
	if err == nil && size > max {
		err = ErrTooLarge
	} else if err != nil {
		err = fmt.Errorf("store evidence: %w", err)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		return Stored{}, err
	}
	if err := w.Close(); err != nil {
		return Stored{}, fmt.Errorf("store evidence: %w", err)
	}
	return Stored{Key: key, SHA256: hex.EncodeToString(h.Sum(nil)), Size: size, ContentType: contentType}, nil
}

// smallS3Parts makes the S3 uploader stream in parts of s3PartSize. Left
// alone it reads up to 16 MiB of a body into memory before it chooses
// between one PUT and a multipart upload, and s3blob exposes no option for
// that threshold; its documented hook hands over the transfer client, which
// is replaced here by one built with the same S3 client and settings. A
// file under one part is still sent whole in one PUT, as S3 needs.
func (s *Store) smallS3Parts(as func(any) bool) error {
	var tm *transfermanager.Client
	var client *s3.Client
	if !as(&tm) || !s.Bucket.As(&client) {
		return nil // not S3
	}
	*tm = *transfermanager.New(client, func(o *transfermanager.Options) {
		o.RequestChecksumCalculation = client.Options().RequestChecksumCalculation
		o.PartSizeBytes = s3PartSize
		o.MultipartUploadThreshold = s3PartSize
		o.Concurrency = 1
		// An abandoned upload is aborted on a fresh context: the upload's
		// own is cancelled by then, and an unaborted multipart upload
		// lingers, unseen and billed.
		o.FailTimeout = 30 * time.Second
	})
	return nil
}

// newKey names a file by month and 128 random bits: nothing of the
// client's name or of the case goes into it.
func newKey(now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("evidence/%04d/%02d/%s", now.Year(), now.Month(), hex.EncodeToString(b[:])), nil
}

// Open reads a stored file.
func (s *Store) Open(ctx context.Context, key string) (*blob.Reader, error) {
	return s.Bucket.NewReader(ctx, key, nil)
}

// Delete removes a stored file that was never recorded: the caller's
// transaction to record it failed. A file on record is never deleted.
func (s *Store) Delete(ctx context.Context, key string) error {
	return s.Bucket.Delete(ctx, key)
}
