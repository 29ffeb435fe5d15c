package flag

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecode feeds the flag API's two body decoders the same bytes (the
// body of POST /api/v1/flags is outside input): neither may panic, and an
// accepted body keeps one slot per record, rejections by index in order
// and within the request, every other slot holding the record's own JSON.
// The seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`[{"source":"risk-model-7","external_id":"f-1","brand":"Aurora","score":0.93,"detected_at":"2026-11-20T08:00:00Z","shop":{"platform":"taobao","id":"s-1"}}]`))
	f.Add([]byte("{\"source\":\"s\",\"external_id\":\"1\"}\n\n{\"score\":\"high\"}\n"))
	const max = 8 // small, so that the limit is reached too
	f.Fuzz(func(t *testing.T, body []byte) {
		for name, decode := range map[string]func([]byte) ([]Record, []Rejection, error){
			"array":  func(b []byte) ([]Record, []Rejection, error) { return DecodeJSONArray(bytes.NewReader(b), max) },
			"ndjson": func(b []byte) ([]Record, []Rejection, error) { return DecodeNDJSON(bytes.NewReader(b), max) },
		} {
			recs, rejs, err := decode(body)
			if err != nil {
				if !errors.Is(err, ErrBadBody) && !errors.Is(err, ErrTooMany) {
					t.Fatalf("%s: error %v is neither ErrBadBody nor ErrTooMany", name, err)
				}
				if recs != nil || rejs != nil {
					t.Fatalf("%s: an error with %d records and %d rejections", name, len(recs), len(rejs))
				}
				continue
			}
			if len(recs) > max {
				t.Fatalf("%s: %d records past the limit of %d", name, len(recs), max)
			}
			rejected := map[int]bool{}
			for i, r := range rejs {
				if r.Index < 0 || r.Index >= len(recs) || (i > 0 && r.Index <= rejs[i-1].Index) {
					t.Fatalf("%s: rejection %d has index %d (of %d records)", name, i, r.Index, len(recs))
				}
				if r.Code == "" || r.Message == "" {
					t.Fatalf("%s: rejection %+v names no code or message", name, r)
				}
				rejected[r.Index] = true
			}
			for i, rec := range recs {
				if !rejected[i] && len(rec.raw) == 0 {
					t.Fatalf("%s: record %d neither rejected nor kept with its JSON", name, i)
				}
			}
		}
	})
}
