package network_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/network"
)

var testKey = network.Key("0123456789abcdef0123456789abcdef")

func shops(t *testing.T, db *database.DB, n int) []int64 {
	t.Helper()
	now := time.Now().UTC()
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(500 + i)
		if err := db.Gorm.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, ?, ?, ?)`,
			ids[i], fmt.Sprintf("net-%d", i), fmt.Sprintf("Shop %d", i), now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func made(t *testing.T, kind network.Kind, value string) network.Identifier {
	t.Helper()
	id, err := testKey.Make(kind, value)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func record(t *testing.T, db *database.DB, m network.Matching, at map[int64][]network.Identifier) int {
	t.Helper()
	var n int
	if err := db.InTx(context.Background(), func(tx *gorm.DB) error {
		r, err := m.RecordTx(tx, db.Now(), at)
		n = r.Suggested
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

type suggestion struct {
	A, B     int64
	Status   string
	Evidence int
}

func suggestions(t *testing.T, db *database.DB) map[[2]int64]suggestion {
	t.Helper()
	var rows []suggestion
	if err := db.Gorm.Raw(`SELECT s.shop_a_id AS a, s.shop_b_id AS b, s.status,
		(SELECT count(*) FROM link_evidence e WHERE e.suggestion_id = s.id) AS evidence FROM link_suggestions s`).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[[2]int64]suggestion{}
	for _, r := range rows {
		out[[2]int64{r.A, r.B}] = r
	}
	return out
}

// TestSharedIdentifiersSuggestLinksWithTheirEvidence records identifiers
// for shops and reads the suggestions: a phone written two ways, an
// address as a return and as a warehouse address, image hashes at the
// distance limit and one bit past it; a rejected suggestion stays
// rejected on the same evidence and comes back with new evidence; a
// value shared by more shops than HubLimit suggests nothing.
func TestSharedIdentifiersSuggestLinksWithTheirEvidence(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		m := network.Matching{MaxImageDistance: 6}
		s := shops(t, db, 6+network.HubLimit+1)
		const img = 0xF0F0F0F0A5A5A5A5
		hex := func(h uint64) string { return fmt.Sprintf("%016x", h) }
		n := record(t, db, m, map[int64][]network.Identifier{
			s[0]: {made(t, network.Phone, "138 0013 2231"), made(t, network.ReturnAddress, "浙江省杭州市西湖区文三路100号"),
				made(t, network.ImageHash, hex(img))},
			s[1]: {made(t, network.Phone, "+86 13800132231")},
		})
		if n != 1 {
			t.Errorf("%d suggestions made, want 1", n)
		}
		// Later, on their own: a warehouse at s[0]'s return address, and
		// images 6 bits and 7 bits from s[0]'s.
		record(t, db, m, map[int64][]network.Identifier{s[2]: {made(t, network.WarehouseAddress, "浙江省 杭州市 西湖区 文三路 100 号")}})
		record(t, db, m, map[int64][]network.Identifier{s[3]: {made(t, network.ImageHash, hex(img^0b111111))}})
		record(t, db, m, map[int64][]network.Identifier{s[4]: {made(t, network.ImageHash, hex(img^0xFE00_0000_0000_0000))}})
		got := suggestions(t, db)
		for pair, want := range map[[2]int64]int{{s[0], s[1]}: 1, {s[0], s[2]}: 1, {s[0], s[3]}: 1} {
			if g := got[pair]; g.Status != "suggested" || g.Evidence != want {
				t.Errorf("shops %v: %+v, want suggested with %d evidence", pair, g, want)
			}
		}
		if g, ok := got[[2]int64{s[0], s[4]}]; ok {
			t.Errorf("an image 7 bits away suggested a link: %+v", g)
		}
		if len(got) != 3 {
			t.Errorf("%d suggestions: %v", len(got), got)
		}

		// Rejected: the same evidence again changes nothing; new evidence
		// puts it to staff again.
		if err := db.Gorm.Exec(`UPDATE link_suggestions SET status = 'rejected' WHERE shop_a_id = ? AND shop_b_id = ?`, s[0], s[1]).Error; err != nil {
			t.Fatal(err)
		}
		if n := record(t, db, m, map[int64][]network.Identifier{s[1]: {made(t, network.Phone, "13800132231")}}); n != 0 {
			t.Errorf("the same evidence again renewed %d suggestions", n)
		}
		if g := suggestions(t, db)[[2]int64{s[0], s[1]}]; g.Status != "rejected" {
			t.Errorf("the same evidence again: %+v", g)
		}
		record(t, db, m, map[int64][]network.Identifier{s[1]: {made(t, network.ReturnAddress, "浙江省杭州市西湖区文三路100号")}})
		if g := suggestions(t, db)[[2]int64{s[0], s[1]}]; g.Status != "suggested" || g.Evidence != 2 {
			t.Errorf("new evidence: %+v, want suggested again with 2", g)
		}

		// A hub: one courier phone on HubLimit+1 shops.
		hub := map[int64][]network.Identifier{}
		for _, id := range s[5:] {
			hub[id] = []network.Identifier{made(t, network.Other, "courier 95338")}
		}
		before := len(suggestions(t, db))
		if n := record(t, db, m, hub); n != 0 || len(suggestions(t, db)) != before {
			t.Errorf("a value on %d shops made %d suggestions", len(hub), n)
		}
		var stored int64
		if err := db.Gorm.Raw("SELECT count(*) FROM shop_identifiers").Row().Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if want := int64(3 + 1 + 1 + 1 + 1 + 1 + len(hub)); stored != want {
			t.Errorf("%d identifiers stored, want %d (one row per shop, kind and value)", stored, want)
		}
	})
}
