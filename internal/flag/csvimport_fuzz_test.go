package flag

import (
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"spotcheck/internal/valid"
)

// FuzzCSVReader reads an uploaded flag CSV (outside input, from the staff's
// import form) through the reader the preview and the import job share:
// it may not panic or loop, a bad header is a validation error, a bad line
// a rejection on that line, and every row it accepts carries its JSON.
// The seeds are in testdata/fuzz/FuzzCSVReader; a file in an encoding
// it cannot read is also a validation error.
func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("source,external_id,brand,score,detected_at,shop_platform,shop_id\ns,1,Aurora,0.9,2026-11-20T08:00:00Z,taobao,s-1\n"))
	f.Add([]byte("\ufeffSOURCE, external_id ,brand,score,detected_at,shop_platform,shop_id,listing_url\n\"a\"\"b\",2,B,x,,p,i,u\n"))
	f.Fuzz(func(t *testing.T, content []byte) {
		rd, err := newCSVReader(content, time.UTC)
		if err != nil {
			if !errors.Is(err, valid.ErrInvalid) {
				t.Fatalf("header error %v is not a validation error", err)
			}
			return
		}
		// A row takes at least one byte, and the end one more read.
		for rows := 0; ; rows++ {
			if rows > len(content)+1 {
				t.Fatalf("%d rows from %d bytes: the reader does not advance", rows, len(content))
			}
			line := rd.line
			rec, cells, rej, err := rd.next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("row %d: %v (a bad line must be a rejection)", rows, err)
			}
			if rd.line <= line { // a quoted cell may span lines: the count is the file's
				t.Fatalf("line went from %d to %d", line, rd.line)
			}
			if rej != nil {
				if rej.Index != rd.line || rej.Code == "" {
					t.Fatalf("rejection %+v on line %d", rej, rd.line)
				}
				continue
			}
			if cells == nil || !json.Valid(rec.raw) {
				t.Fatalf("accepted row %d has cells %q and JSON %q", rows, cells, rec.raw)
			}
		}
	})
}
