package shop

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
)

// A cluster is a connected component of the links between shops: a seller
// network. Each shop of one names it in shops.cluster_id; a shop without
// links is in none. The writes that add and remove links keep it, so that
// reading a network is one indexed query: a new link joins or merges
// clusters (the smaller one's shops move), and a removed link that was the
// last path between its shops splits one, walking only the smaller side.

// clusterLock serialises the changes to clusters on PostgreSQL (SQLite has
// one writer): links change by hand, a few a minute at most, and two
// merges of the same clusters must not interleave.
const clusterLock = 0x73686f70636c7573 // "shopclus"

func lockClusters(tx *gorm.DB) error {
	if !database.IsPostgres(tx) {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(clusterLock)).Error
}

// joinTx puts a and b, just linked, in one cluster.
func joinTx(tx *gorm.DB, a, b int64) error {
	if err := lockClusters(tx); err != nil {
		return err
	}
	ca, err := clusterOf(tx, a)
	if err != nil {
		return err
	}
	cb, err := clusterOf(tx, b)
	if err != nil {
		return err
	}
	switch {
	case ca == 0 && cb == 0:
		id, err := newCluster(tx)
		if err != nil {
			return err
		}
		return tx.Exec("UPDATE shops SET cluster_id = ? WHERE id IN ?", id, []int64{a, b}).Error
	case ca == 0:
		return tx.Exec("UPDATE shops SET cluster_id = ? WHERE id = ?", cb, a).Error
	case cb == 0:
		return tx.Exec("UPDATE shops SET cluster_id = ? WHERE id = ?", ca, b).Error
	case ca == cb:
		return nil
	}
	na, err := clusterSize(tx, ca)
	if err != nil {
		return err
	}
	nb, err := clusterSize(tx, cb)
	if err != nil {
		return err
	}
	keep, gone := ca, cb
	if nb > na {
		keep, gone = cb, ca
	}
	if err := tx.Exec("UPDATE shops SET cluster_id = ? WHERE cluster_id = ?", keep, gone).Error; err != nil {
		return err
	}
	return tx.Exec("DELETE FROM clusters WHERE id = ?", gone).Error
}

// splitTx mends the cluster of a and b after a link between them went: if
// they are still joined (another link between them, or a path), nothing;
// else the side found complete first — the smaller — leaves for a cluster
// of its own, and a side left alone leaves clusters altogether.
func splitTx(tx *gorm.DB, a, b int64) error {
	if err := lockClusters(tx); err != nil {
		return err
	}
	c, err := clusterOf(tx, a)
	if err != nil || c == 0 {
		return err
	}
	// Walk from both ends, a step of the smaller frontier at a time.
	seen := [2]map[int64]bool{{a: true}, {b: true}}
	frontier := [2][]int64{{a}, {b}}
	var done map[int64]bool // the side found whole first
	side := 0
	for done == nil {
		i := 0
		if len(frontier[1]) < len(frontier[0]) {
			i = 1
		}
		var ls []Link
		if err := tx.Where("shop_a_id IN ? OR shop_b_id IN ?", frontier[i], frontier[i]).Find(&ls).Error; err != nil {
			return err
		}
		var next []int64
		for _, l := range ls {
			for _, s := range []int64{l.ShopAID, l.ShopBID} {
				if seen[1-i][s] {
					return nil // the two ends still meet
				}
				if !seen[i][s] {
					seen[i][s] = true
					next = append(next, s)
				}
			}
		}
		if frontier[i] = next; len(next) == 0 {
			done, side = seen[i], i // this side is all there is of its component
		}
	}
	small := make([]int64, 0, len(done))
	for s := range done {
		small = append(small, s)
	}
	slices.Sort(small)
	total, err := clusterSize(tx, c)
	if err != nil {
		return err
	}
	if len(small) == 1 {
		if err := tx.Exec("UPDATE shops SET cluster_id = NULL WHERE id = ?", small[0]).Error; err != nil {
			return err
		}
	} else {
		id, err := newCluster(tx)
		if err != nil {
			return err
		}
		for start := 0; start < len(small); start += 500 {
			if err := tx.Exec("UPDATE shops SET cluster_id = ? WHERE id IN ?", id, small[start:min(start+500, len(small))]).Error; err != nil {
				return err
			}
		}
	}
	if rest := total - int64(len(small)); rest == 1 { // the other end, alone now
		other := a
		if side == 0 {
			other = b
		}
		if err := tx.Exec("UPDATE shops SET cluster_id = NULL WHERE id = ?", other).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM clusters WHERE id = ?", c).Error
	}
	return nil
}

func clusterOf(tx *gorm.DB, shopID int64) (int64, error) {
	var id *int64
	if err := tx.Raw("SELECT cluster_id FROM shops WHERE id = ?", shopID).Row().Scan(&id); err != nil {
		return 0, err
	}
	if id == nil {
		return 0, nil
	}
	return *id, nil
}

func clusterSize(tx *gorm.DB, id int64) (int64, error) {
	var n int64
	err := tx.Raw("SELECT count(*) FROM shops WHERE cluster_id = ?", id).Row().Scan(&n)
	return n, err
}

// Cluster is a seller network's row; its shops name it.
type Cluster struct {
	ID        int64
	CreatedAt time.Time
}

func newCluster(tx *gorm.DB) (int64, error) {
	c := Cluster{CreatedAt: database.Now(tx)}
	err := tx.Create(&c).Error
	return c.ID, err
}

// Network is a cluster as staff read it: its shops (by id) and the links
// between them.
type Network struct {
	ID    int64
	Shops []Shop
	Links []Link
}

// ClusterOf returns the cluster a shop is in, 0 for none.
func (s *Service) ClusterOf(ctx context.Context, shopID int64) (int64, error) {
	return clusterOf(s.db.Gorm.WithContext(ctx), shopID)
}

// Network loads a cluster's shops and links for the actor; to anyone who
// may not view shops, and for a cluster that is gone, it is not found.
func (s *Service) Network(ctx context.Context, actor authz.Actor, id int64) (Network, error) {
	if !authz.Can(actor, authz.ViewShop, authz.Subject{Kind: "shop"}) {
		return Network{}, database.ErrNotFound
	}
	db := s.db.Gorm.WithContext(ctx)
	n := Network{ID: id}
	if err := db.Where("cluster_id = ?", id).Order("id").Find(&n.Shops).Error; err != nil {
		return Network{}, err
	}
	if len(n.Shops) == 0 {
		return Network{}, database.ErrNotFound
	}
	ids := make([]int64, len(n.Shops))
	for i, sh := range n.Shops {
		ids[i] = sh.ID
	}
	for start := 0; start < len(ids); start += 500 {
		var ls []Link
		if err := db.Where("shop_a_id IN ?", ids[start:min(start+500, len(ids))]).Order("id").Find(&ls).Error; err != nil {
			return Network{}, err
		}
		n.Links = append(n.Links, ls...)
	}
	return n, nil
}
