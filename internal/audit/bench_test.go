package audit_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
)

// BenchmarkAppend measures one audited write: a transaction holding only
// the append (the serialisation point of every write).
func BenchmarkAppend(b *testing.B) {
	for name, open := range map[string]func(testing.TB) *database.DB{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		b.Run(name, func(b *testing.B) {
			db := open(b)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				err := db.InTx(ctx, func(tx *gorm.DB) error {
					_, err := audit.Append(ctx, tx, audit.Record{Action: "bench.write", ObjectType: "thing", ObjectID: i, Detail: map[string]any{"i": i}})
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures walking a chain of 10,000 events.
func BenchmarkVerify(b *testing.B) {
	db := dbtest.Postgres(b)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *gorm.DB) error {
		for i := range 10000 {
			if _, err := audit.Append(ctx, tx, audit.Record{Action: "bench.write", ObjectType: "thing", ObjectID: i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := audit.Verify(ctx, db.Gorm)
		if err != nil || s.Events != 10000 {
			b.Fatal(s, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/event")
}
