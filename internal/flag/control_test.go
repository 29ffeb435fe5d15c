package flag_test

import (
	"strings"
	"testing"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/flag"
)

// TestControlCharactersInARecordAreRejectedByField: NUL and the other
// control characters in any string of a record (JSON lets a sender write
// \u0000) are refused with the field named, never stored.
func TestControlCharactersInARecordAreRejectedByField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		seedBrands(t, db)
		s := flag.NewService(db, 0.8)
		res := ingest(t, s,
			strings.Replace(rec("f-1", "shop-1", 0.5), `"Star Watch shop-1"`, `"Star\u0000Watch"`, 1),
			strings.Replace(rec("f-2", "shop-1", 0.5), `"risk-model-7"`, `"risk\u0001model"`, 1),
			strings.Replace(rec("f-3", "shop-1", 0.5), `"Crystal watch f-3"`, `"Crystal\u007fwatch"`, 1),
			strings.Replace(rec("f-4", "shop-1", 0.5), `"id":"item-f-4"`, `"id":"item\u0085"`, 1),
			strings.Replace(rec("f-5", "shop-1", 0.5), `"Crystal watch f-5"`, `"水晶\t手表"`, 1),
		)
		want := []struct {
			index int
			field string
		}{{0, "shop.name"}, {1, "source"}, {2, "listing.title"}, {3, "listing.id"}}
		if res.Created != 1 || len(res.Rejected) != len(want) {
			t.Fatalf("result = %+v", res)
		}
		for i, w := range want {
			if r := res.Rejected[i]; r.Index != w.index || r.Field != w.field || r.Code != "control_character" {
				t.Errorf("rejection %d = %+v, want index %d field %s control_character", i, r, w.index, w.field)
			}
		}
		if n := count(t, db, "flags", ""); n != 1 {
			t.Fatalf("%d flags stored", n)
		}
	})
}
