package flag_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
	"spotcheck/internal/network"
)

// BenchmarkIngest stores batches of 10,000 new flags (2,000 shops each)
// through the use case, without HTTP, and reports flags per second; with
// identifiers, each shop carries a phone and a payout account.
func BenchmarkIngest(b *testing.B) {
	for _, ids := range []bool{false, true} {
		for name, open := range map[string]func(testing.TB) *database.DB{"postgres": dbtest.Postgres, "sqlite": dbtest.SQLite} {
			if ids {
				name += "/identifiers"
			}
			b.Run(name, func(b *testing.B) { benchIngest(b, open, ids) })
		}
	}
}

func benchIngest(b *testing.B, open func(testing.TB) *database.DB, ids bool) {
	{
		{
			db := open(b)
			seedBrandsTB(b, db)
			s := flag.NewService(db, 0.8)
			if ids {
				s.UseIdentifiers(network.Key("0123456789abcdef0123456789abcdef"), network.Matching{MaxImageDistance: 6}, nil)
			}
			batch := 0
			b.ResetTimer()
			for b.Loop() {
				var sb strings.Builder
				for i := range 10000 {
					n := batch*10000 + i
					line := rec(fmt.Sprintf("f-%d", n), fmt.Sprintf("shop-%d", n/5), float64(n%100)/100)
					if ids {
						line = strings.Replace(line, `"owner":"Liu"}`, fmt.Sprintf(`"owner":"Liu","identifiers":[{"kind":"phone","value":"138%08d"},`+
							`{"kind":"payout_account","value":"6222%012d"}]}`, n/5, payoutOf(n/5)), 1)
					}
					sb.WriteString(line)
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
		}
	}
}

func seedBrandsTB(t testing.TB, db *database.DB) {
	for _, n := range []string{"Aurora Timepieces", "Lotus Leather"} {
		if err := db.Gorm.Exec("INSERT INTO brands (name, created_at) VALUES (?, CURRENT_TIMESTAMP)", n).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// payoutOf is a shop's payout account: one shop in ten shares the one
// before it's, as in the bench's generator.
func payoutOf(shop int) int {
	if shop%10 == 1 {
		return shop - 1
	}
	return shop
}
