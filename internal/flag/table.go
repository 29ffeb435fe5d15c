package flag

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"spotcheck/internal/valid"
)

// An uploaded table is what staff save from Excel: a workbook (.xlsx), or
// text in one of the encodings Excel writes — UTF-8 ("CSV UTF-8"),
// GB18030/GBK ("CSV (逗号分隔)" on Chinese Windows) or UTF-16 with a
// byte-order mark ("Unicode 文本", separated by tabs). Text in any other
// encoding is refused rather than stored garbled.

// EncodingError: the file's text is in none of the encodings read.
type EncodingError struct{ Line int }

func (e *EncodingError) Error() string {
	return fmt.Sprintf("the file is not UTF-8, UTF-16 or GB18030 text: line %d has bytes that are none of them; save it as CSV UTF-8 or Excel workbook", e.Line)
}

func (e *EncodingError) Unwrap() error { return valid.ErrInvalid }

var (
	bomUTF8    = []byte{0xef, 0xbb, 0xbf}
	bomUTF16LE = []byte{0xff, 0xfe}
	bomUTF16BE = []byte{0xfe, 0xff}
	zipMagic   = []byte("PK\x03\x04")                                   // .xlsx is a zip archive
	oleMagic   = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1} // .xls (Excel 97-2003)
)

// maxUnzipped bounds what a workbook may unpack to, against zip bombs.
const maxUnzipped = 1 << 30

// rowSource yields the rows of a table with their line (row) numbers.
type rowSource interface {
	// next returns io.EOF at the end, a *csv.ParseError for a malformed line.
	next() (cells []string, line int, err error)
	// date reads a date cell's raw value, if the source has date cells.
	date(v string, loc *time.Location) (time.Time, bool)
	// close frees what the source holds; a workbook's temporary files.
	close() error
}

// openTable picks the reader by the file's content, not its name.
func openTable(content []byte) (rowSource, error) {
	switch {
	case bytes.HasPrefix(content, zipMagic):
		return openWorkbook(content)
	case bytes.HasPrefix(content, oleMagic):
		return nil, valid.Errors{"file": "error.import_xls"}
	}
	text, err := decodeText(content)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = separator(text)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	return &textRows{r: r}, nil
}

// decodeText returns content as UTF-8: UTF-8 with or without a BOM,
// UTF-16 with a BOM, else GB18030 when the bytes are not UTF-8 but are
// GB18030 throughout. A replacement character or a NUL in the decoded
// text means bytes that were none of these (or text garbled earlier).
func decodeText(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		return checkedText(string(b[len(bomUTF8):]))
	case bytes.HasPrefix(b, bomUTF16LE), bytes.HasPrefix(b, bomUTF16BE):
		end := unicode.LittleEndian
		if bytes.HasPrefix(b, bomUTF16BE) {
			end = unicode.BigEndian
		}
		out, err := unicode.UTF16(end, unicode.ExpectBOM).NewDecoder().Bytes(b)
		if err != nil || len(b)%2 != 0 {
			return "", &EncodingError{Line: bytes.Count(out, []byte("\n")) + 1}
		}
		return checkedText(string(out))
	case utf8.Valid(b):
		return checkedText(string(b))
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err == nil && badLine(string(out)) == 0 {
		return string(out), nil
	}
	// Name the first line that is neither; a file mixing the two has none,
	// and then the first line that is not GB18030.
	for i, line := range bytes.Split(b, []byte("\n")) {
		if !utf8.Valid(line) && !isGB18030(line) {
			return "", &EncodingError{Line: i + 1}
		}
	}
	return "", &EncodingError{Line: max(badLine(string(out)), 1)}
}

func isGB18030(b []byte) bool {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	return err == nil && !strings.ContainsRune(string(out), utf8.RuneError)
}

func checkedText(s string) (string, error) {
	if line := badLine(s); line > 0 {
		return "", &EncodingError{Line: line}
	}
	return s, nil
}

// badLine is the line of the first replacement character or NUL in s
// (or invalid UTF-8), 0 when there is none.
func badLine(s string) int {
	i := strings.IndexFunc(s, func(r rune) bool { return r == utf8.RuneError || r == 0 })
	if i < 0 {
		return 0
	}
	return strings.Count(s[:i], "\n") + 1
}

// separator is a tab when the header line has more tabs than commas, as
// in Excel's "Unicode text", else a comma.
func separator(text string) rune {
	header, _, _ := strings.Cut(text, "\n")
	if strings.Count(header, "\t") > strings.Count(header, ",") {
		return '\t'
	}
	return ','
}

// textRows reads a CSV (or tab-separated) text.
type textRows struct{ r *csv.Reader }

func (t *textRows) next() ([]string, int, error) {
	cells, err := t.r.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return nil, pe.StartLine, err
	}
	if err != nil {
		return nil, 0, err
	}
	line, _ := t.r.FieldPos(0)
	return cells, line, nil
}

func (t *textRows) date(string, *time.Location) (time.Time, bool) { return time.Time{}, false }
func (t *textRows) close() error                                  { return nil }

// sheetRows streams the first sheet of a workbook, raw cell values (so
// numbers keep their digits and dates are serial numbers).
type sheetRows struct {
	f        *excelize.File
	rows     *excelize.Rows
	line     int
	date1904 bool
}

func openWorkbook(content []byte) (*sheetRows, error) {
	f, err := excelize.OpenReader(bytes.NewReader(content), excelize.Options{UnzipSizeLimit: maxUnzipped})
	if err != nil {
		return nil, valid.Errors{"file": "error.xlsx_unreadable"}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errors.Join(valid.Errors{"file": "error.csv_empty"}, f.Close())
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, errors.Join(valid.Errors{"file": "error.xlsx_unreadable"}, f.Close())
	}
	s := &sheetRows{f: f, rows: rows}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		s.date1904 = *p.Date1904
	}
	return s, nil
}

// next skips blank rows, as a CSV reader skips blank lines.
func (s *sheetRows) next() ([]string, int, error) {
	for s.rows.Next() {
		s.line++
		cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, s.line, err
		}
		if strings.TrimSpace(strings.Join(cells, "")) != "" {
			return cells, s.line, nil
		}
	}
	if err := s.rows.Error(); err != nil {
		return nil, s.line, err
	}
	return nil, s.line, io.EOF
}

// date reads a serial date as the wall-clock time it shows, in loc.
func (s *sheetRows) date(v string, loc *time.Location) (time.Time, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return time.Time{}, false
	}
	t, err := excelize.ExcelDateToTime(f, s.date1904)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, loc), true
}

func (s *sheetRows) close() error {
	return errors.Join(s.rows.Close(), s.f.Close())
}

// excelLayouts are the ways Excel writes a date and time into a CSV: the
// short date of Chinese Windows, and ISO with a space; hours of one digit.
var excelLayouts = []string{"2006/1/2 15:04", "2006/1/2 15:04:05", "2006-1-2 15:04", "2006-1-2 15:04:05", "2006/1/2", "2006-1-2"}

// localTime turns a time written without a zone (as Excel writes one)
// into RFC 3339 in loc; RFC 3339 and anything unreadable are kept as they
// are, for the flag's own check to judge.
func localTime(src rowSource, v string, loc *time.Location) string {
	if _, err := time.Parse(time.RFC3339Nano, v); err == nil || v == "" {
		return v
	}
	for _, l := range excelLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t.Format(time.RFC3339)
		}
	}
	if t, ok := src.date(v, loc); ok {
		return t.Format(time.RFC3339)
	}
	return v
}
