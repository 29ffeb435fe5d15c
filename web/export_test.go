package web_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"spotcheck/internal/database/dbtest"
)

// utf8BOM is what tells Excel that a CSV is UTF-8; without it Excel on
// Chinese Windows reads the file as GBK and shows mojibake.
const utf8BOM = "\ufeff"

// readExport checks that an export is a UTF-8 CSV with the byte-order
// mark and returns its rows.
func readExport(t *testing.T, res response) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Fatalf("export: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(res.body, utf8BOM) {
		t.Fatalf("the export does not start with a UTF-8 byte-order mark: %q", res.body[:min(len(res.body), 20)])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, utf8BOM))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestTheCaseExportOpensInExcelWithChineseShopNames(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	a.ingestNDJSON(t, flagJSON("cn-1", "星光名表", "Aurora Timepieces", 0.95))
	rows := readExport(t, a.as("staff").get("/cases/export.csv"))
	if len(rows) != 2 || rows[0][0] != "reference" || rows[1][4] != "Star Watch 星光名表" {
		t.Fatalf("rows %q", rows)
	}
}

func TestTheRecoveriesExportOpensInExcelWithChineseBrandNames(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t))
	if err := a.db.Gorm.Exec("INSERT INTO brands (name, created_at) VALUES (?, ?)", "极光钟表", time.Now().UTC()).Error; err != nil {
		t.Fatal(err)
	}
	rows := readExport(t, a.as("staff").get("/reports/recoveries.csv"))
	found := false
	for _, r := range rows {
		found = found || r[0] == "极光钟表"
	}
	if rows[0][0] != "brand" || !found {
		t.Fatalf("rows %q", rows)
	}
}
