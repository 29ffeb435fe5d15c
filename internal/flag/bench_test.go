package flag_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

// BenchmarkIngest stores batches of 10,000 new flags (2,000 shops each)
// through the use case, without HTTP, and reports flags per second.
func BenchmarkIngest(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *database.DB{"postgres": dbtest.Postgres, "sqlite": dbtest.SQLite} {
		b.Run(name, func(b *testing.B) {
			db := open(b)
			seedBrandsTB(b, db)
			s := flag.NewService(db, 0.8)
			batch := 0
			b.ResetTimer()
			for b.Loop() {
				var sb strings.Builder
				for i := range 10000 {
					n := batch*10000 + i
					sb.WriteString(rec(fmt.Sprintf("f-%d", n), fmt.Sprintf("shop-%d", n/5), float64(n%100)/100))
					sb.WriteByte('\n')
				}
				batch++
				recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(sb.String()), flag.MaxPerRequest)
				if err != nil {
					b.Fatal(err)
				}
				res, err := s.Ingest(context.Background(), system, "bench", recs, rejs, nil)
				if err != nil || res.Created != 10000 {
					b.Fatal(res, err)
				}
			}
			b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "flags/s")
		})
	}
}

func seedBrandsTB(t testing.TB, db *database.DB) {
	for _, n := range []string{"Aurora Timepieces", "Lotus Leather"} {
		if err := db.Gorm.Exec("INSERT INTO brands (name, created_at) VALUES (?, CURRENT_TIMESTAMP)", n).Error; err != nil {
			t.Fatal(err)
		}
	}
}
