package network

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"math/bits"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Bands are the 16-bit quarters of an image hash the index keeps: two
// hashes within distance d differ in at most d/4 bits of one quarter
// (pigeonhole), so probing each quarter's value and its neighbours within
// d/4 bits finds every match without reading every hash — multi-index
// hashing. MaxDistance bounds d so that a lookup stays a few hundred probes.
const (
	Bands       = 4
	MaxDistance = 11
)

// HubLimit is how many shops may share one identifier before it stops
// suggesting links: a value that common (a platform's returns warehouse,
// a courier's phone) says nothing about who runs a shop.
const HubLimit = 50

// Row is an identifier as stored.
type Row struct {
	ID        int64
	ShopID    int64
	Kind      Kind
	Digest    string
	Masked    string
	FirstSeen time.Time
}

func (Row) TableName() string { return "shop_identifiers" }

type bandRow struct {
	Band         int
	Bits         int
	IdentifierID int64
}

func (bandRow) TableName() string { return "shop_image_bands" }

// Suggestion is a link suggested between two shops (ShopAID < ShopBID).
type Suggestion struct {
	ID        int64
	ShopAID   int64
	ShopBID   int64
	Status    string
	Note      string
	DecidedBy *int64
	DecidedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (Suggestion) TableName() string { return "link_suggestions" }

type evidenceRow struct {
	SuggestionID  int64
	IdentifierAID int64
	IdentifierBID int64
	CreatedAt     time.Time
}

func (evidenceRow) TableName() string { return "link_evidence" }

// Matching is how identifiers match: image hashes within MaxImageDistance
// bits of each other (the rest by equality of their keyed hashes).
type Matching struct{ MaxImageDistance int }

// RecordTx keeps the identifiers each shop (by id) was sent with, and
// suggests a link between every two shops that now share one, with the
// matching pairs as its evidence. A suggestion rejected before comes back
// only when it gains evidence it did not have. It returns how many
// suggestions are new or gained evidence.
func (m Matching) RecordTx(tx *gorm.DB, now time.Time, shops map[int64][]Identifier) (int, error) {
	var rows []Row
	seen := map[idKey]bool{}
	for shopID, ids := range shops {
		for _, id := range ids {
			r := Row{ShopID: shopID, Kind: id.Kind, Digest: hex.EncodeToString(id.Digest), Masked: id.Masked, FirstSeen: now}
			if k := keyOf(r); !seen[k] {
				seen[k] = true
				rows = append(rows, r)
			}
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	// In one order, so that concurrent batches lock alike.
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.ShopID, b.ShopID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Digest, b.Digest))
	})
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
		return 0, err
	}
	shopIDs := make([]int64, 0, len(shops))
	for id := range shops {
		shopIDs = append(shopIDs, id)
	}
	var mine []Row // the batch's identifiers as stored, new or not
	for start := 0; start < len(shopIDs); start += 500 {
		var part []Row
		if err := tx.Where("shop_id IN ?", shopIDs[start:min(start+500, len(shopIDs))]).Find(&part).Error; err != nil {
			return 0, err
		}
		mine = append(mine, part...)
	}
	sent := map[idKey]bool{}
	for _, r := range rows {
		sent[keyOf(r)] = true
	}
	var exact []string
	var images []Row
	for _, r := range mine {
		if !sent[keyOf(r)] {
			continue
		}
		if r.Kind == ImageHash {
			images = append(images, r)
		} else {
			exact = append(exact, r.Digest)
		}
	}
	if err := insertBands(tx, images); err != nil {
		return 0, err
	}

	// The pairs of identifiers that match, by the pair of shops.
	type pair struct{ a, b int64 }
	evidence := map[pair][][2]int64{}
	add := func(x, y Row) {
		if x.ShopID == y.ShopID {
			return
		}
		if x.ShopID > y.ShopID {
			x, y = y, x
		}
		p := pair{x.ShopID, y.ShopID}
		e := [2]int64{x.ID, y.ID}
		if !slices.Contains(evidence[p], e) {
			evidence[p] = append(evidence[p], e)
		}
	}
	slices.Sort(exact)
	exact = slices.Compact(exact)
	for start := 0; start < len(exact); start += 500 {
		var same []Row
		if err := tx.Where("digest IN ? AND kind <> ?", exact[start:min(start+500, len(exact))], ImageHash).
			Order("digest, shop_id").Find(&same).Error; err != nil {
			return 0, err
		}
		byDigest := map[string][]Row{}
		for _, r := range same {
			byDigest[r.Digest] = append(byDigest[r.Digest], r)
		}
		for _, rs := range byDigest {
			if len(rs) > HubLimit {
				continue
			}
			for i, x := range rs {
				for _, y := range rs[i+1:] {
					if class(x.Kind) == class(y.Kind) && (sent[keyOf(x)] || sent[keyOf(y)]) {
						add(x, y)
					}
				}
			}
		}
	}
	for _, img := range images {
		near, err := m.nearImages(tx, img)
		if err != nil {
			return 0, err
		}
		for _, y := range near {
			add(img, y)
		}
	}
	if len(evidence) == 0 {
		return 0, nil
	}

	pairs := make([]pair, 0, len(evidence))
	for p := range evidence {
		pairs = append(pairs, p)
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		return cmp.Or(cmp.Compare(x.a, y.a), cmp.Compare(x.b, y.b))
	})
	fresh := make([]Suggestion, len(pairs))
	for i, p := range pairs {
		fresh[i] = Suggestion{ShopAID: p.a, ShopBID: p.b, Status: "suggested", CreatedAt: now, UpdatedAt: now}
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&fresh, 500).Error; err != nil {
		return 0, err
	}
	changed := 0
	for start := 0; start < len(pairs); start += 200 {
		part := pairs[start:min(start+200, len(pairs))]
		q := tx.Model(&Suggestion{})
		cond := tx.Where("1 = 0")
		for _, p := range part {
			cond = cond.Or("shop_a_id = ? AND shop_b_id = ?", p.a, p.b)
		}
		var sugs []Suggestion
		if err := q.Where(cond).Find(&sugs).Error; err != nil {
			return 0, err
		}
		ids := make([]int64, len(sugs))
		for i, s := range sugs {
			ids[i] = s.ID
		}
		var have []evidenceRow
		if err := tx.Where("suggestion_id IN ?", ids).Find(&have).Error; err != nil {
			return 0, err
		}
		known := map[[3]int64]bool{}
		for _, e := range have {
			known[[3]int64{e.SuggestionID, e.IdentifierAID, e.IdentifierBID}] = true
		}
		var add []evidenceRow
		var renewed []int64
		for _, s := range sugs {
			gained := false
			for _, e := range evidence[pair{s.ShopAID, s.ShopBID}] {
				if !known[[3]int64{s.ID, e[0], e[1]}] {
					add = append(add, evidenceRow{SuggestionID: s.ID, IdentifierAID: e[0], IdentifierBID: e[1], CreatedAt: now})
					gained = true
				}
			}
			if gained {
				changed++
				renewed = append(renewed, s.ID)
			}
		}
		if len(add) > 0 {
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&add, 500).Error; err != nil {
				return 0, err
			}
		}
		if len(renewed) > 0 { // new evidence: a rejected suggestion is put to staff again
			if err := tx.Model(&Suggestion{}).Where("id IN ?", renewed).Updates(map[string]any{"updated_at": now,
				"status": gorm.Expr("CASE WHEN status = 'rejected' THEN 'suggested' ELSE status END")}).Error; err != nil {
				return 0, err
			}
		}
	}
	return changed, nil
}

// idKey is what makes an identifier row one: its shop, kind and digest.
type idKey struct {
	shop   int64
	kind   Kind
	digest string
}

func keyOf(r Row) idKey { return idKey{r.ShopID, r.Kind, r.Digest} }

// band is the i-th 16-bit quarter of an image hash.
func band(h uint64, i int) int { return int(h >> (16 * (Bands - 1 - i)) & 0xffff) }

func imageBits(r Row) uint64 {
	b, _ := hex.DecodeString(r.Digest)
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func insertBands(tx *gorm.DB, images []Row) error {
	if len(images) == 0 {
		return nil
	}
	rows := make([]bandRow, 0, Bands*len(images))
	for _, r := range images {
		h := imageBits(r)
		for i := range Bands {
			rows = append(rows, bandRow{Band: i, Bits: band(h, i), IdentifierID: r.ID})
		}
	}
	return tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error
}

// neighbours are v and every 16-bit value within r bits of it.
func neighbours(v, r int) []int {
	out := []int{v}
	if r >= 1 {
		for i := range 16 {
			out = append(out, v^(1<<i))
		}
	}
	if r >= 2 {
		for i := range 16 {
			for j := i + 1; j < 16; j++ {
				out = append(out, v^(1<<i)^(1<<j))
			}
		}
	}
	return out
}

// nearImages are the other shops' image hashes within the distance of
// img: the candidates from the bands' index, then the exact distance.
func (m Matching) nearImages(tx *gorm.DB, img Row) ([]Row, error) {
	d := min(max(m.MaxImageDistance, 0), MaxDistance)
	h := imageBits(img)
	q := tx.Table("shop_image_bands b").Select("DISTINCT si.id, si.shop_id, si.kind, si.digest, si.masked, si.first_seen").
		Joins("JOIN shop_identifiers si ON si.id = b.identifier_id")
	cond := tx.Where("1 = 0")
	for i := range Bands {
		cond = cond.Or("b.band = ? AND b.bits IN ?", i, neighbours(band(h, i), d/Bands))
	}
	var cands []Row
	if err := q.Where(cond).Where("si.shop_id <> ?", img.ShopID).Find(&cands).Error; err != nil {
		return nil, err
	}
	out := cands[:0]
	for _, c := range cands {
		if bits.OnesCount64(h^imageBits(c)) <= d {
			out = append(out, c)
		}
	}
	return out, nil
}

// PenalisedTx finds, among the shops holding these identifiers (hex
// digests; image hashes aside), those already found selling fakes — a
// case of theirs with a counterfeit verdict in force, or closed enforced
// or recovered — and returns, by digest, the earliest such case.
func PenalisedTx(tx *gorm.DB, digests []string) (map[string]int64, error) {
	out := map[string]int64{}
	for start := 0; start < len(digests); start += 500 {
		var rows []struct {
			Digest string
			CaseID int64
		}
		if err := tx.Raw(`SELECT si.digest, min(c.id) AS case_id
			FROM shop_identifiers si JOIN cases c ON c.shop_id = si.shop_id
			WHERE si.digest IN ? AND si.kind <> 'image_hash'
			  AND (c.close_reason IN ('enforced', 'recovered')
			       OR EXISTS (SELECT 1 FROM verdicts v WHERE v.case_id = c.id AND v.result = 'counterfeit'
			                  AND NOT EXISTS (SELECT 1 FROM verdicts w WHERE w.supersedes_id = v.id)))
			GROUP BY si.digest`, digests[start:min(start+500, len(digests))]).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.Digest] = r.CaseID
		}
	}
	return out, nil
}
