package web

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"spotcheck/internal/evidence"
	"spotcheck/internal/valid"
)

// upload is a multipart form whose files have been streamed into blob
// storage as they arrived: nothing of a file is held in memory.
type upload struct {
	Values url.Values
	Files  []evidence.Upload
	Fields []string // the form field each file came in
}

// uploadError is a file the store refused: the status says why (413 for
// size), the field where the message goes.
type uploadError struct {
	status int
	errs   valid.Errors
}

func (e *uploadError) Error() string { return "upload refused" }
func (e *uploadError) Unwrap() error { return e.errs }

// kindsFunc says which evidence kind a file field's files are, given the
// text fields read so far (ok false: not a file field of this form).
type kindsFunc func(field string, values url.Values) (evidence.Kind, bool)

// fixedKinds: each file field holds one kind.
func fixedKinds(m map[string]evidence.Kind) kindsFunc {
	return func(field string, _ url.Values) (evidence.Kind, bool) { k, ok := m[field]; return k, ok }
}

// chosenKind: the "files" field holds the kind chosen in the "kind" field,
// which comes before it in the form.
func chosenKind(field string, values url.Values) (evidence.Kind, bool) {
	if field != "files" {
		return "", false
	}
	k, err := evidence.ParseKind(values.Get("kind"))
	return k, err == nil
}

// readUpload reads the request's form, kinds naming the file fields. With the CSRF token in a header (the
// page's script sends it) the body is read part by part as it arrives;
// without JavaScript the CSRF check has already parsed the form, and its
// files are read from where the standard library spooled them.
func (s *Server) readUpload(c echo.Context, kinds kindsFunc) (upload, error) {
	r := c.Request()
	up := upload{Values: url.Values{}}
	put := func(field, name string, body io.Reader) error {
		kind, ok := kinds(field, up.Values)
		if !ok {
			return &uploadError{http.StatusUnprocessableEntity, valid.Errors{field: "error.kind_required"}}
		}
		if len(up.Files) == maxFiles {
			return &uploadError{http.StatusRequestEntityTooLarge, valid.Errors{field: "error.too_many_files"}}
		}
		st, err := s.Evidence.Put(r.Context(), body, valid.Clean(name)) // the client's name: shown to staff only
		switch {
		case errors.Is(err, evidence.ErrTooLarge):
			return &uploadError{http.StatusRequestEntityTooLarge, valid.Errors{field: "error.file_too_large"}}
		case errors.Is(err, evidence.ErrType):
			return &uploadError{http.StatusUnsupportedMediaType, valid.Errors{field: "error.file_type"}}
		case errors.Is(err, evidence.ErrEmpty):
			return &uploadError{http.StatusUnprocessableEntity, valid.Errors{field: "error.file_empty"}}
		case err != nil:
			return err
		}
		up.Files = append(up.Files, evidence.Upload{Kind: kind, Stored: st})
		up.Fields = append(up.Fields, field)
		return nil
	}
	var err error
	if r.MultipartForm != nil {
		up.Values = url.Values(r.MultipartForm.Value)
		err = eachSpooled(r.MultipartForm, put)
	} else {
		err = eachPart(r, up.Values, put)
	}
	if err == nil {
		err = plainValues("form", up.Values)
	}
	if err != nil {
		s.discard(r.Context(), up.Files)
		// Read what is left (within the route's body limit), so that the
		// browser gets the answer instead of a reset connection.
		_, _ = io.Copy(io.Discard, r.Body)
		var ue *uploadError
		if !errors.As(err, &ue) && !errors.Is(err, valid.ErrInvalid) {
			return up, &uploadError{http.StatusBadRequest, valid.Errors{"upload": "error.upload"}}
		}
		return up, err
	}
	return up, nil
}

// maxFormText bounds the text fields of an upload form.
const maxFormText = 256 << 10

func eachPart(r *http.Request, values url.Values, put func(field, name string, body io.Reader) error) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return err
	}
	text := int64(0) // the text fields' bytes: a form's worth, not a body's
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if p.FileName() == "" {
			v, err := io.ReadAll(io.LimitReader(p, maxFormText-text+1))
			if err != nil {
				return err
			}
			if text += int64(len(v)); text > maxFormText {
				return &uploadError{http.StatusRequestEntityTooLarge, valid.Errors{"upload": "error.upload"}}
			}
			values.Add(p.FormName(), string(v))
			continue
		}
		if err := put(p.FormName(), p.FileName(), p); err != nil {
			return err
		}
	}
}

func eachSpooled(f *multipart.Form, put func(field, name string, body io.Reader) error) error {
	for field, hs := range f.File {
		for _, h := range hs {
			if h.Filename == "" && h.Size == 0 {
				continue
			}
			file, err := h.Open()
			if err != nil {
				return err
			}
			err = put(field, h.Filename, file)
			if err := errors.Join(err, file.Close()); err != nil {
				return err
			}
		}
	}
	return nil
}

// discard removes stored files that will never be recorded (the action
// failed), so that blob storage holds only evidence on record.
func (s *Server) discard(ctx context.Context, files []evidence.Upload) {
	for _, f := range files {
		if err := s.Evidence.Delete(context.WithoutCancel(ctx), f.Stored.Key); err != nil {
			s.Logger.WarnContext(ctx, "discarding an unrecorded upload failed", "key", f.Stored.Key, "error", err.Error())
		}
	}
}
