package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"spotcheck/internal/flag"
	"spotcheck/internal/valid"
	"spotcheck/web/view/page"
)

// maxImportBytes bounds one uploaded file (100,000 flags take about 30 MiB).
const maxImportBytes = 64 << 20

func (s *Server) importForm(c echo.Context) error {
	return s.renderImportForm(c, http.StatusOK, "")
}

func (s *Server) renderImportForm(c echo.Context, status int, fileErr string, args ...any) error {
	recent, err := s.Flags.Imports(c.Request().Context(), 10)
	if err != nil {
		return err
	}
	p := page.ImportUploadPage{Columns: flag.CSVColumns, FileError: fileErr, FileArgs: args}
	for _, i := range recent {
		p.Recent = append(p.Recent, importSummary(i))
	}
	return s.render(c, status, page.ImportUpload(p))
}

// uploadImport keeps the file and shows its first rows with their
// problems; nothing is imported yet.
func (s *Server) uploadImport(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return s.renderImportForm(c, http.StatusUnprocessableEntity, "error.csv_empty")
	}
	if fh.Size > maxImportBytes {
		return s.renderImportForm(c, http.StatusRequestEntityTooLarge, "error.csv_too_large")
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	content, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err := errors.Join(err, f.Close()); err != nil {
		return err
	}
	imp, rows, err := s.Flags.CreateImport(c.Request().Context(), actorOf(c), fh.Filename, content, s.Config.Location)
	var ee *flag.EncodingError
	if errors.As(err, &ee) {
		return s.renderImportForm(c, http.StatusUnprocessableEntity, "error.import_encoding", ee.Line)
	}
	if fe, ok := valid.As(err); ok {
		return s.renderImportForm(c, http.StatusUnprocessableEntity, fe["file"])
	}
	if err != nil {
		return err
	}
	p := page.ImportPreviewPage{Import: importSummary(imp), Columns: flag.CSVColumns}
	for _, r := range rows {
		pr := page.ImportPreviewRow{Line: r.Line, Cells: r.Cells}
		if r.Problem != nil {
			pr.Field, pr.Code = r.Problem.Field, r.Problem.Code
		}
		p.Rows = append(p.Rows, pr)
	}
	return s.render(c, http.StatusOK, page.ImportPreview(p))
}

// startImport queues the import job in the same transaction that marks
// the import queued.
func (s *Server) startImport(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	err = s.Flags.StartImport(ctx, actorOf(c), id, func(tx *gorm.DB) error {
		return s.Jobs.InsertTx(ctx, tx, flag.ImportArgs{ImportID: id})
	})
	if errors.Is(err, flag.ErrImportStarted) {
		return s.redirect(c, "/flags/import/"+strconv.FormatInt(id, 10), "info", "error.import_started")
	}
	if err != nil {
		return err
	}
	return s.redirect(c, "/flags/import/"+strconv.FormatInt(id, 10), "success", "import.started")
}

// showImport shows an import's progress; htmx refreshes the status part
// every second while the job runs.
func (s *Server) showImport(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	imp, err := s.Flags.GetImport(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	sum := importSummary(imp)
	if isHTMX(c) {
		return s.render(c, http.StatusOK, page.ImportStatus(sum))
	}
	return s.render(c, http.StatusOK, page.ImportProgress(sum))
}

func importSummary(i flag.Import) page.ImportSummary {
	s := page.ImportSummary{ID: i.ID, Filename: i.Filename, Status: i.Status, RowsTotal: i.RowsTotal, RowsDone: i.RowsDone,
		Created: i.Created, Duplicates: i.Duplicates, Rejected: i.Rejected, CasesOpened: i.CasesOpened, CasesUpdated: i.CasesUpdated,
		Error: i.Error, CreatedAt: i.CreatedAt}
	for _, r := range i.FirstRejections() {
		s.Rejections = append(s.Rejections, page.ImportRejection{Line: r.Index, Field: r.Field, Code: r.Code})
	}
	return s
}
