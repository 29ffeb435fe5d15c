package web

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/flag"
	"spotcheck/internal/token"
)

const ctxToken = "spotcheck.api_token"

// apiError is the API's error body: a stable English message and a code.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func apiFail(c echo.Context, status int, code, msg string) error {
	return c.JSON(status, apiError{Error: msg, Code: code})
}

// bearer authenticates API clients by token; a revoked token fails at once.
func (s *Server) bearer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="spotcheck"`)
			return apiFail(c, http.StatusUnauthorized, "unauthorized", "an API token is required: Authorization: Bearer <token>")
		}
		t, err := s.Tokens.Authenticate(c.Request().Context(), strings.TrimSpace(secret))
		if errors.Is(err, token.ErrInvalid) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="spotcheck", error="invalid_token"`)
			return apiFail(c, http.StatusUnauthorized, "invalid_token", "the API token is unknown or revoked")
		}
		if err != nil {
			return err
		}
		c.Set(ctxToken, t)
		r := c.Request()
		o := audit.Origin{ActorRole: "ingest", ClientIP: c.RealIP(), RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
		c.SetRequest(r.WithContext(audit.WithOrigin(r.Context(), o)))
		return next(c)
	}
}

// postFlags is the ingestion API: a JSON array or NDJSON of at most
// 10,000 flags; each bad record is rejected by index and field while the
// good ones are stored. An Idempotency-Key makes a retry safe.
func (s *Server) postFlags(c echo.Context) error {
	t := c.Get(ctxToken).(token.Token)
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	decode := flag.DecodeJSONArray
	switch ct {
	case "application/json":
	case "application/x-ndjson":
		decode = flag.DecodeNDJSON
	default:
		return apiFail(c, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send application/json (an array of flags) or application/x-ndjson (one flag per line)")
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 200 {
		return apiFail(c, http.StatusBadRequest, "invalid_idempotency_key", "Idempotency-Key is longer than 200 characters")
	}
	h := sha256.New()
	body := &readErr{r: c.Request().Body}
	recs, rejs, err := decode(io.TeeReader(body, h), flag.MaxPerRequest)
	if err != nil && body.err != nil { // the body did not arrive whole: that, not the JSON, is the problem
		err = body.err
	}
	var tooLarge *echo.HTTPError
	switch {
	case errors.Is(err, flag.ErrTooMany):
		return apiFail(c, http.StatusRequestEntityTooLarge, "too_many_flags", "a request may carry at most "+strconv.Itoa(flag.MaxPerRequest)+" flags; split the batch")
	case errors.As(err, &tooLarge) && tooLarge.Code == http.StatusRequestEntityTooLarge, isBodyTooLarge(err):
		return apiFail(c, http.StatusRequestEntityTooLarge, "body_too_large", "the body is larger than 32 MiB; send at most 10,000 flags per request")
	case errors.Is(err, flag.ErrBadBody):
		return apiFail(c, http.StatusBadRequest, "invalid_body", err.Error())
	case err != nil:
		return err
	}
	_, _ = io.Copy(h, c.Request().Body) // whatever follows the last record counts too
	bodyHash := hex.EncodeToString(h.Sum(nil))
	ctx := c.Request().Context()
	if key != "" {
		if done, err := s.replay(c, t.ID, key, bodyHash); done || err != nil {
			return err
		}
	}
	var hook func(tx *gorm.DB, res flag.Result) error
	if key != "" {
		hook = func(tx *gorm.DB, res flag.Result) error {
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			return flag.SaveReplay(tx, t.ID, key, flag.Replay{RequestHash: bodyHash, Status: http.StatusOK, Response: string(b)})
		}
	}
	res, err := s.Flags.Ingest(ctx, authz.Anonymous, "token:"+strconv.FormatInt(t.ID, 10), recs, rejs, hook)
	if errors.Is(err, flag.ErrKeyTaken) {
		_, err := s.replay(c, t.ID, key, bodyHash)
		return err
	}
	if err != nil {
		return err
	}
	b, err := json.Marshal(res) // byte for byte what a replay will send
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, b)
}

// replay answers from a stored response: the same key with the same body
// gets the first answer again, with a different body 422.
func (s *Server) replay(c echo.Context, tokenID int64, key, bodyHash string) (bool, error) {
	r, found, err := s.Flags.FindReplay(c.Request().Context(), tokenID, key)
	if err != nil || !found {
		return false, err
	}
	if r.RequestHash != bodyHash {
		return true, apiFail(c, http.StatusUnprocessableEntity, "idempotency_key_reused",
			"this Idempotency-Key was used with a different body; use a new key for a new batch")
	}
	c.Response().Header().Set("Idempotent-Replayed", "true")
	return true, c.Blob(r.Status, echo.MIMEApplicationJSON, []byte(r.Response))
}

func isBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// readErr remembers the first error of the underlying reader other than EOF.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}
