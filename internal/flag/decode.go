package flag

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// MaxPerRequest is the most flags one API request may carry.
const MaxPerRequest = 10000

// ErrTooMany is returned when a body holds more than the limit.
var ErrTooMany = fmt.Errorf("a request may carry at most %d flags", MaxPerRequest)

// ErrBadBody is returned when the body is not a JSON array or NDJSON.
var ErrBadBody = errors.New("the body must be a JSON array of flags, or NDJSON with one flag per line")

// DecodeJSONArray reads a JSON array of flags. Each element is decoded on
// its own and strictly (unknown fields refused), so one bad record is
// rejected by index while the others go on.
func DecodeJSONArray(r io.Reader, max int) ([]Record, []Rejection, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, nil, ErrBadBody
	}
	var raws []json.RawMessage
	for dec.More() {
		if len(raws) == max {
			return nil, nil, ErrTooMany
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, ErrBadBody
		}
		raws = append(raws, raw)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		return nil, nil, ErrBadBody
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, ErrBadBody
	}
	recs, rejs := decodeEach(raws)
	return recs, rejs, nil
}

// DecodeNDJSON reads one flag per line; blank lines are skipped.
func DecodeNDJSON(r io.Reader, max int) ([]Record, []Rejection, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var raws []json.RawMessage
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if len(raws) == max {
			return nil, nil, ErrTooMany
		}
		raws = append(raws, append(json.RawMessage(nil), line...))
	}
	if err := sc.Err(); err != nil {
		return nil, nil, ErrBadBody
	}
	recs, rejs := decodeEach(raws)
	return recs, rejs, nil
}

// decodeEach returns one Record per raw element (zero Records stand for
// rejected ones, so indexes keep matching the request). A large request
// is decoded in parts on all CPUs: the records are independent, and the
// decoding otherwise keeps the request waiting with a core idle.
func decodeEach(raws []json.RawMessage) ([]Record, []Rejection) {
	recs := make([]Record, len(raws))
	parts := min(runtime.GOMAXPROCS(0), len(raws)/500+1)
	rejs := make([][]Rejection, parts)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(raws)/parts, (p+1)*len(raws)/parts
		wg.Go(func() { rejs[p] = decodeRange(raws, recs, lo, hi) })
	}
	wg.Wait()
	return recs, slices.Concat(rejs...)
}

// decodeRange decodes raws[lo:hi] into recs[lo:hi], returning the
// rejections in index order.
func decodeRange(raws []json.RawMessage, recs []Record, lo, hi int) []Rejection {
	var rejs []Rejection
	for i := lo; i < hi; i++ {
		raw := raws[i]
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		var rec Record
		if err := dec.Decode(&rec); err != nil {
			rejs = append(rejs, jsonRejection(i, err))
			continue
		}
		if dec.More() {
			rejs = append(rejs, Rejection{Index: i, Code: "invalid_json", Message: "more than one JSON value in one record"})
			continue
		}
		rec.raw = raw
		recs[i] = rec
	}
	return rejs
}

func jsonRejection(i int, err error) Rejection {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return Rejection{Index: i, Field: te.Field, Code: "wrong_type", Message: fmt.Sprintf("%s must be a %s", te.Field, jsonKind(te.Type.Kind().String()))}
	case errors.As(err, &se):
		return Rejection{Index: i, Code: "invalid_json", Message: "the record is not valid JSON"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Rejection{Index: i, Field: field, Code: "unknown_field", Message: fmt.Sprintf("%s is not a field of a flag", field)}
	}
	return Rejection{Index: i, Code: "invalid_json", Message: "the record is not a JSON object of the flag format"}
}

func jsonKind(k string) string {
	switch k {
	case "float64":
		return "number"
	case "ptr", "struct":
		return "JSON object"
	}
	return k
}
