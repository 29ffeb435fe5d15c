package shop_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"spotcheck/internal/database"
	"spotcheck/internal/database/dbtest"
	"spotcheck/internal/shop"
)

// TestClustersAreTheConnectedComponentsOfTheLinks runs random sequences of
// link additions (two kinds, so that a pair can be linked twice) and
// removals through the service and, after each, compares the clusters the
// shops name with the connected components of the links computed here by
// union-find: two shops share a cluster exactly when a path of links joins
// them, and a shop without links is in none.
func TestClustersAreTheConnectedComponentsOfTheLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n = 9
		now := time.Now().UTC()
		for i := range n {
			if err := db.Gorm.Exec(`INSERT INTO shops (id, platform, platform_shop_id, name, created_at, updated_at) VALUES (?, 'taobao', ?, ?, ?, ?)`,
				i+1, fmt.Sprintf("c-%d", i), fmt.Sprintf("Shop %d", i), now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		svc := shop.NewService(db)
		kinds := []string{string(shop.SamePhone), string(shop.SameAddress)}
		rapid.Check(t, func(rt *rapid.T) {
			for _, q := range []string{"DELETE FROM shop_links", "UPDATE shops SET cluster_id = NULL", "DELETE FROM clusters"} {
				if err := db.Gorm.Exec(q).Error; err != nil {
					rt.Fatal(err)
				}
			}
			steps := rapid.IntRange(1, 30).Draw(rt, "steps")
			for range steps {
				var links []shop.Link
				if err := db.Gorm.Find(&links).Error; err != nil {
					rt.Fatal(err)
				}
				if len(links) > 0 && rapid.Bool().Draw(rt, "remove") {
					l := links[rapid.IntRange(0, len(links)-1).Draw(rt, "link")]
					if err := svc.RemoveLink(ctx, l.ShopAID, l.ID); err != nil {
						rt.Fatal(err)
					}
				} else {
					a := int64(rapid.IntRange(1, n).Draw(rt, "a"))
					b := int64(rapid.IntRange(1, n).Draw(rt, "b"))
					if a == b {
						continue
					}
					// A pair already linked so is refused, which must change nothing.
					_, _ = svc.AddLink(ctx, 0, a, b, kinds[rapid.IntRange(0, 1).Draw(rt, "kind")], "")
				}
				checkClusters(rt, db, n)
			}
		})
	})
}

func checkClusters(t *rapid.T, db *database.DB, n int) {
	var links []shop.Link
	if err := db.Gorm.Find(&links).Error; err != nil {
		t.Fatal(err)
	}
	parent := make([]int64, n+1)
	for i := range parent {
		parent[i] = int64(i)
	}
	var find func(int64) int64
	find = func(x int64) int64 {
		if parent[x] != x {
			parent[x] = find(parent[x])
		}
		return parent[x]
	}
	linked := map[int64]bool{}
	for _, l := range links {
		parent[find(l.ShopAID)] = find(l.ShopBID)
		linked[l.ShopAID], linked[l.ShopBID] = true, true
	}
	var rows []struct {
		ID        int64
		ClusterID *int64
	}
	if err := db.Gorm.Raw("SELECT id, cluster_id FROM shops ORDER BY id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, x := range rows {
		if (x.ClusterID != nil) != linked[x.ID] {
			t.Fatalf("shop %d: cluster %v, linked %v (links %v)", x.ID, x.ClusterID, linked[x.ID], links)
		}
		for _, y := range rows {
			if x.ClusterID == nil || y.ClusterID == nil {
				continue
			}
			if same := *x.ClusterID == *y.ClusterID; same != (find(x.ID) == find(y.ID)) {
				t.Fatalf("shops %d and %d: same cluster %v, joined by links %v (links %v)", x.ID, y.ID, same, !same, links)
			}
		}
	}
	var orphans int64
	if err := db.Gorm.Raw("SELECT count(*) FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM shops s WHERE s.cluster_id = c.id)").Row().Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d clusters without shops", orphans)
	}
}
