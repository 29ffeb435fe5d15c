package flag

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/database"
	"spotcheck/internal/valid"
)

// CSVColumns are the columns of a flag CSV, the API's fields flattened.
// source, external_id, brand, score, detected_at, shop_platform and
// shop_id are required; the others may be left out.
var CSVColumns = []string{"source", "external_id", "brand", "score", "rule", "detected_at",
	"shop_platform", "shop_id", "shop_name", "shop_owner",
	"listing_id", "listing_url", "listing_title", "listing_price", "listing_currency"}

var requiredColumns = []string{"source", "external_id", "brand", "score", "detected_at", "shop_platform", "shop_id"}

// Import is one uploaded CSV and how far its import has come.
type Import struct {
	ID           int64
	CreatedBy    int64
	Filename     string
	Content      []byte `gorm:"->:false;<-:create"` // written once, read only by the job
	Status       string
	RowsTotal    int
	RowsDone     int
	Created      int
	Duplicates   int
	Rejected     int
	CasesOpened  int
	CasesUpdated int
	Rejections   string // JSON: the first rejections, by row
	Error        string
	CreatedAt    time.Time
	StartedAt    *time.Time
	FinishedAt   *time.Time
}

func (Import) TableName() string { return "flag_imports" }

// Running reports whether the job has yet to finish.
func (i Import) Running() bool { return i.Status == "queued" || i.Status == "running" }

// FirstRejections decodes the stored rejections.
func (i Import) FirstRejections() []Rejection {
	var rs []Rejection
	_ = json.Unmarshal([]byte(i.Rejections), &rs)
	return rs
}

// PreviewRow is one of the first rows of a file with what is wrong with it.
type PreviewRow struct {
	Line    int // line in the file (the header is line 1)
	Cells   []string
	Problem *Rejection
}

// csvReader reads flags from an uploaded table (see openTable), mapping
// columns by header name.
type csvReader struct {
	src  rowSource
	cols map[string]int
	line int
	loc  *time.Location // the zone of times written without one
}

// newCSVReader reads the header; loc nil is UTC.
func newCSVReader(content []byte, loc *time.Location) (*csvReader, error) {
	if loc == nil {
		loc = time.UTC
	}
	src, err := openTable(content)
	if err != nil {
		return nil, err
	}
	header, line, err := src.next()
	if err != nil {
		return nil, errors.Join(valid.Errors{"file": "error.csv_empty"}, src.close())
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) // a second byte-order mark
		cols[h] = i
	}
	for _, c := range requiredColumns {
		if _, ok := cols[c]; !ok {
			return nil, errors.Join(valid.Errors{"file": "error.csv_columns"}, src.close())
		}
	}
	return &csvReader{src: src, cols: cols, line: line, loc: loc}, nil
}

func (c *csvReader) close() error { return c.src.close() }

// next returns the next row as a Record, its cells, and io.EOF at the end.
// A malformed line is returned as a rejection, not an error.
func (c *csvReader) next() (Record, []string, *Rejection, error) {
	cells, line, err := c.src.next()
	if errors.Is(err, io.EOF) {
		return Record{}, nil, nil, io.EOF
	}
	c.line = line
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return Record{}, nil, &Rejection{Index: c.line, Code: "invalid_csv", Message: "the line is not valid CSV"}, nil
		}
		return Record{}, nil, nil, err
	}
	cells = append([]string(nil), cells...) // the reader reuses its slice
	get := func(name string) string {
		if i, ok := c.cols[name]; ok && i < len(cells) {
			return strings.TrimSpace(cells[i])
		}
		return ""
	}
	rec := Record{Source: get("source"), ExternalID: get("external_id"), Brand: get("brand"), Rule: get("rule"),
		DetectedAt: localTime(c.src, get("detected_at"), c.loc), Shop: &ShopRecord{Platform: get("shop_platform"), ID: get("shop_id"), Name: get("shop_name"), Owner: get("shop_owner")}}
	if i := c.cols["detected_at"]; i < len(cells) {
		cells[i] = rec.DetectedAt // the preview shows the time as read (a workbook's is a serial number)
	}
	if s := get("score"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return Record{}, cells, &Rejection{Index: c.line, Field: "score", Code: "wrong_type", Message: "score must be a number"}, nil
		}
		rec.Score = &f
	}
	if id := get("listing_id"); id != "" || get("listing_url") != "" || get("listing_title") != "" {
		rec.Listing = &ListingRecord{ID: id, URL: get("listing_url"), Title: get("listing_title"), Price: get("listing_price"), Currency: get("listing_currency")}
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return Record{}, nil, nil, err
	}
	rec.raw = raw
	return rec, cells, nil, nil
}

// previewRows is how many rows a preview shows.
const previewRows = 20

// CreateImport checks an uploaded CSV, keeps it, and returns the import
// with a preview of its first rows and their problems. Nothing is
// imported until StartImport.
func (s *Service) CreateImport(ctx context.Context, actor authz.Actor, filename string, content []byte, loc *time.Location) (_ Import, _ []PreviewRow, err error) {
	if !authz.Can(actor, authz.ImportFlags, authz.Subject{}) {
		return Import{}, nil, database.ErrNotFound
	}
	if len(content) == 0 {
		return Import{}, nil, valid.Errors{"file": "error.csv_empty"}
	}
	rd, err := newCSVReader(content, loc)
	if err != nil {
		return Import{}, nil, err
	}
	defer func() { err = errors.Join(err, rd.close()) }()
	brands, err := s.brandIDs(ctx)
	if err != nil {
		return Import{}, nil, err
	}
	now := s.db.Now()
	var preview []PreviewRow
	total := 0
	for {
		rec, cells, rej, err := rd.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Import{}, nil, valid.Errors{"file": "error.csv_unreadable"}
		}
		total++
		if len(preview) < previewRows {
			if rej == nil {
				if _, r := check(rd.line, rec, brands, s.key, nil, now); r != nil {
					rej = r
				}
			}
			preview = append(preview, PreviewRow{Line: rd.line, Cells: cells, Problem: rej})
		}
	}
	if total == 0 {
		return Import{}, nil, valid.Errors{"file": "error.csv_empty"}
	}
	imp := Import{CreatedBy: actor.UserID, Filename: filename, Content: content, Status: "previewed", RowsTotal: total, Rejections: "[]", CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&imp).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "flags.import_upload", ObjectType: "flag_import", ObjectID: imp.ID,
			Detail: map[string]any{"filename": filename, "rows": total, "bytes": len(content)}})
		return err
	})
	imp.Content = nil
	return imp, preview, err
}

// GetImport loads an import (without its file) for the actor.
func (s *Service) GetImport(ctx context.Context, actor authz.Actor, id int64) (Import, error) {
	if !authz.Can(actor, authz.ImportFlags, authz.Subject{}) {
		return Import{}, database.ErrNotFound
	}
	var imp Import
	err := s.db.Gorm.WithContext(ctx).Omit("content").Take(&imp, id).Error
	return imp, database.NotFound(err)
}

// Imports lists the latest imports.
func (s *Service) Imports(ctx context.Context, limit int) ([]Import, error) {
	var out []Import
	err := s.db.Gorm.WithContext(ctx).Omit("content").Order("id DESC").Limit(limit).Find(&out).Error
	return out, err
}

// ErrImportStarted: the import was started already.
var ErrImportStarted = errors.New("this import was started already")

// StartImport queues the import; enqueue inserts the job in the same
// transaction, so the import is queued exactly when its job exists.
func (s *Service) StartImport(ctx context.Context, actor authz.Actor, id int64, enqueue func(tx *gorm.DB) error) error {
	if !authz.Can(actor, authz.ImportFlags, authz.Subject{}) {
		return database.ErrNotFound
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Import{}).Where("id = ? AND status = 'previewed'", id).Update("status", "queued")
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&Import{}).Where("id = ?", id).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return database.ErrNotFound
			}
			return ErrImportStarted
		}
		if err := enqueue(tx); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "flags.import_start", ObjectType: "flag_import", ObjectID: id})
		return err
	})
}

// importBatch is how many rows one transaction of an import takes.
const importBatch = 2000

// keepRejections bounds the rejections an import keeps to show.
const keepRejections = 100

// RunImport imports a queued file in batches, each one transaction with
// its progress, so a retried job resumes after the last batch that was
// stored and counts no row twice.
func (s *Service) RunImport(ctx context.Context, id int64, loc *time.Location) (err error) {
	var imp Import
	if err := s.db.Gorm.WithContext(ctx).Select("*").Take(&imp, id).Error; err != nil {
		return database.NotFound(err)
	}
	if imp.Status == "done" || imp.Status == "failed" {
		return nil
	}
	var content []byte
	if err := s.db.Gorm.WithContext(ctx).Raw("SELECT content FROM flag_imports WHERE id = ?", id).Row().Scan(&content); err != nil {
		return err
	}
	now := s.db.Now()
	if err := s.db.Gorm.WithContext(ctx).Model(&Import{}).Where("id = ?", id).
		Updates(map[string]any{"status": "running", "started_at": now}).Error; err != nil {
		return err
	}
	ctx = audit.WithOrigin(ctx, audit.Origin{ActorID: imp.CreatedBy, ActorRole: "staff", ClientIP: "job", RequestID: fmt.Sprintf("import-%d", id)})
	actor := authz.Actor{UserID: imp.CreatedBy}
	rd, err := newCSVReader(content, loc)
	if err != nil {
		var ee *EncodingError
		if errors.As(err, &ee) {
			return s.failImport(ctx, id, ee.Error())
		}
		return s.failImport(ctx, id, "the file's header is not valid")
	}
	defer func() { err = errors.Join(err, rd.close()) }()
	rejections := imp.FirstRejections()
	row := 0
	for {
		var recs []Record
		var pre []Rejection
		var lines []int
		for len(recs) < importBatch {
			rec, _, rej, err := rd.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return s.failImport(ctx, id, "the file could not be read")
			}
			row++
			if row <= imp.RowsDone {
				continue // done in an earlier run of this job
			}
			lines = append(lines, rd.line)
			if rej != nil {
				rej.Index = len(recs)
				pre = append(pre, *rej)
			}
			recs = append(recs, rec)
		}
		if len(recs) == 0 {
			break
		}
		kept := rejections
		_, err := s.Ingest(ctx, actor, fmt.Sprintf("import:%d", id), recs, pre, func(tx *gorm.DB, res Result) error {
			kept = rejections
			for _, r := range res.Rejected {
				if len(kept) < keepRejections {
					r.Index = lines[r.Index] // report the line of the file
					kept = append(kept, r)
				}
			}
			rj, _ := json.Marshal(kept)
			return tx.Model(&Import{}).Where("id = ?", id).Updates(map[string]any{
				"rows_done": gorm.Expr("rows_done + ?", len(recs)), "created": gorm.Expr("created + ?", res.Created),
				"duplicates": gorm.Expr("duplicates + ?", res.Duplicates), "rejected": gorm.Expr("rejected + ?", len(res.Rejected)),
				"cases_opened": gorm.Expr("cases_opened + ?", res.CasesOpened), "cases_updated": gorm.Expr("cases_updated + ?", res.CasesUpdated),
				"rejections": string(rj)}).Error
		})
		if err != nil {
			return err // River retries; the batches stored are recorded with them and skipped
		}
		rejections = kept
		imp.RowsDone += len(recs)
	}
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Import{}).Where("id = ?", id).Updates(map[string]any{"status": "done", "finished_at": s.db.Now()}).Error; err != nil {
			return err
		}
		var done Import
		if err := tx.Omit("content").Take(&done, id).Error; err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "flags.import_done", ObjectType: "flag_import", ObjectID: id,
			Detail: map[string]any{"rows": done.RowsDone, "created": done.Created, "duplicates": done.Duplicates,
				"rejected": done.Rejected, "cases_opened": done.CasesOpened}})
		return err
	})
}

func (s *Service) failImport(ctx context.Context, id int64, why string) error {
	return s.db.Gorm.WithContext(ctx).Model(&Import{}).Where("id = ?", id).
		Updates(map[string]any{"status": "failed", "error": why, "finished_at": s.db.Now()}).Error
}
