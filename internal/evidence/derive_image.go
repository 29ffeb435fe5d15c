package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	// imaging, not a hand-written EXIF reader: its AutoOrientation reads
	// the orientation tag from the same stream the decoder reads (no second
	// pass, no buffering of the file) and applies all eight orientations;
	// its Lanczos resize is what the thumbnail needs. Reading EXIF
	// ourselves would be parsing the very metadata we mean to drop, with
	// our own bugs. It registers JPEG and PNG (and GIF, BMP, TIFF, which
	// the content-type gate keeps out).
	"github.com/disintegration/imaging"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode
)

// decodable maps each content type that has a derivative to the format
// name the image package gives it.
var decodable = map[string]string{
	"image/jpeg": "jpeg",
	"image/png":  "png",
	"image/webp": "webp",
}

// render stores the image of derivative t of e and returns it with its size
// in pixels. Metadata cannot survive: only pixels are carried from the
// decoder to the encoder, and Go's JPEG and PNG encoders write none.
func (s *Store) render(ctx context.Context, e Evidence, t Transform) (Stored, int, int, error) {
	if err := s.checkConfig(ctx, e); err != nil {
		return Stored{}, 0, 0, err
	}
	img, err := s.decode(ctx, e)
	if err != nil {
		return Stored{}, 0, 0, err
	}
	if n := t.longSide(); n > 0 {
		img = imaging.Fit(img, n, n, imaging.Lanczos) // a smaller image is kept as it is
	}
	encode := func(w io.Writer) error { return jpeg.Encode(w, flatten(img), &jpeg.Options{Quality: 90}) }
	if e.ContentType == "image/png" {
		encode = func(w io.Writer) error { return png.Encode(w, img) }
	}
	st, err := s.putEncoded(ctx, encode)
	if err != nil {
		return Stored{}, 0, 0, err
	}
	b := img.Bounds()
	return st, b.Dx(), b.Dy(), nil
}

// checkConfig reads the image's header only, and refuses a file whose
// content is not the format on record or whose pixels would not fit in
// reason: a 100 KB PNG can claim 50,000 × 50,000 pixels.
func (s *Store) checkConfig(ctx context.Context, e Evidence) error {
	r, err := s.Open(ctx, e.BlobKey)
	if err != nil {
		return fmt.Errorf("open evidence %d: %w", e.ID, err)
	}
	defer r.Close()
	er := &errReader{r: r}
	cfg, format, err := image.DecodeConfig(er)
	switch {
	case er.err != nil:
		return fmt.Errorf("read evidence %d: %w", e.ID, er.err)
	case err != nil:
		return fmt.Errorf("%w: %v", ErrNoDerivative, err)
	case format != decodable[e.ContentType]:
		return fmt.Errorf("%w: a %s file on record holds %s", ErrNoDerivative, e.ContentType, format)
	case cfg.Width <= 0 || cfg.Height <= 0:
		return fmt.Errorf("%w: an image of %d × %d pixels", ErrNoDerivative, cfg.Width, cfg.Height)
	case int64(cfg.Width)*int64(cfg.Height) > MaxPixels:
		return fmt.Errorf("%w (%d × %d)", ErrTooManyPixels, cfg.Width, cfg.Height)
	}
	return nil
}

// decode reads the whole original, hashing it on the way, and returns its
// pixels the way up its EXIF orientation says. A file that no longer
// matches its record gives ErrOriginalChanged.
func (s *Store) decode(ctx context.Context, e Evidence) (image.Image, error) {
	r, err := s.Open(ctx, e.BlobKey)
	if err != nil {
		return nil, fmt.Errorf("open evidence %d: %w", e.ID, err)
	}
	defer r.Close()
	h := sha256.New()
	er := &errReader{r: io.TeeReader(r, h)}
	img, err := imaging.Decode(er, imaging.AutoOrientation(true))
	if er.err == nil {
		_, _ = io.Copy(io.Discard, er) // the rest, for the hash
	}
	switch {
	case er.err != nil:
		return nil, fmt.Errorf("read evidence %d: %w", e.ID, er.err)
	case hex.EncodeToString(h.Sum(nil)) != e.SHA256:
		return nil, fmt.Errorf("evidence %d: %w", e.ID, ErrOriginalChanged)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNoDerivative, err)
	}
	return img, nil
}

// putEncoded streams what encode writes into storage, without holding
// the encoded file in memory.
func (s *Store) putEncoded(ctx context.Context, encode func(io.Writer) error) (Stored, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := encode(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	st, err := s.put(ctx, pr, maxDerivativeSize)
	pr.CloseWithError(errors.New("storing the derivative stopped")) // #nosec G104 -- always nil; it frees the encoder if put returned early
	if encErr := <-done; err == nil && encErr != nil {
		err = encErr
	}
	if err != nil {
		return Stored{}, fmt.Errorf("store derivative: %w", err)
	}
	return st, nil
}

// flatten puts an image with transparency onto white, since JPEG has no
// alpha and its encoder would show transparent pixels black.
func flatten(img image.Image) image.Image {
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		b := img.Bounds()
		img = imaging.Overlay(imaging.New(b.Dx(), b.Dy(), color.White), img, image.Point{}, 1)
	}
	// What imaging returns, shown as the same bytes in the type the JPEG
	// encoder has a fast path for: otherwise it boxes every pixel (24
	// million allocations for a phone photo). Opaque, the two agree.
	if n, ok := img.(*image.NRGBA); ok {
		return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}
	}
	return img
}

// errReader remembers its reader's first error other than EOF, to tell a
// storage failure from content that does not decode.
type errReader struct {
	r   io.Reader
	err error
}

func (er *errReader) Read(p []byte) (int, error) {
	n, err := er.r.Read(p)
	if err != nil && err != io.EOF && er.err == nil {
		er.err = err
	}
	return n, err
}
