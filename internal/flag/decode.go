package flag

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
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
// rejected ones, so indexes keep matching the request).
func decodeEach(raws []json.RawMessage) ([]Record, []Rejection) {
	recs := make([]Record, len(raws))
	var rejs []Rejection
	for i, raw := range raws {
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
	return recs, rejs
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
