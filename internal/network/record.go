package network

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math/bits"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"spotcheck/internal/database"
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
// suggestions are new or gained evidence, and the shops holding each
// identifier sent (image hashes aside).
func (m Matching) RecordTx(tx *gorm.DB, now time.Time, shops map[int64][]Identifier) (Recorded, error) {
	n, holders, err := m.recordTx(tx, now, shops)
	return Recorded{Suggested: n, Holders: holders}, err
}

// Recorded is what RecordTx did and found.
type Recorded struct {
	Suggested int                // suggestions new or with new evidence
	Holders   map[string][]int64 // the shops holding each identifier sent, by hex digest (image hashes aside)
}

func (m Matching) recordTx(tx *gorm.DB, now time.Time, shops map[int64][]Identifier) (int, map[string][]int64, error) {
	holders := map[string][]int64{}
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
		return 0, holders, nil
	}
	// In one order, so that concurrent batches lock alike.
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(a.ShopID, b.ShopID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Digest, b.Digest))
	})
	mine, err := insertIdentifiers(tx, rows) // the batch's identifiers as stored, new or not
	if err != nil {
		return 0, nil, err
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
		return 0, nil, err
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
	for start := 0; start < len(exact); start += 5000 {
		same, err := holdersOf(tx, exact[start:min(start+5000, len(exact))])
		if err != nil {
			return 0, nil, err
		}
		byDigest := map[string][]Row{}
		for _, r := range same {
			byDigest[r.Digest] = append(byDigest[r.Digest], r)
		}
		for d, rs := range byDigest {
			if len(rs) > HubLimit { // too common to say who runs a shop
				continue
			}
			for _, r := range rs {
				holders[d] = append(holders[d], r.ShopID)
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
			return 0, nil, err
		}
		for _, y := range near {
			add(img, y)
		}
	}
	if len(evidence) == 0 {
		return 0, holders, nil
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
		return 0, nil, err
	}
	changed := 0
	for start := 0; start < len(pairs); start += 500 {
		part := pairs[start:min(start+500, len(pairs))]
		// The pairs' rows: by their shops on each side (the pair index),
		// then only the pairs asked for.
		var as, bs []int64
		want := map[pair]bool{}
		for _, p := range part {
			as, bs = append(as, p.a), append(bs, p.b)
			want[p] = true
		}
		slices.Sort(as)
		slices.Sort(bs)
		var found []Suggestion
		if err := tx.Where("shop_a_id IN ? AND shop_b_id IN ?", slices.Compact(as), slices.Compact(bs)).Find(&found).Error; err != nil {
			return 0, nil, err
		}
		var sugs []Suggestion
		for _, sg := range found {
			if want[pair{sg.ShopAID, sg.ShopBID}] {
				sugs = append(sugs, sg)
			}
		}
		ids := make([]int64, len(sugs))
		for i, s := range sugs {
			ids[i] = s.ID
		}
		var have []evidenceRow
		if err := tx.Where("suggestion_id IN ?", ids).Find(&have).Error; err != nil {
			return 0, nil, err
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
				return 0, nil, err
			}
		}
		if len(renewed) > 0 { // new evidence: a rejected suggestion is put to staff again
			if err := tx.Model(&Suggestion{}).Where("id IN ?", renewed).Updates(map[string]any{"updated_at": now,
				"status": gorm.Expr("CASE WHEN status = 'rejected' THEN 'suggested' ELSE status END")}).Error; err != nil {
				return 0, nil, err
			}
		}
	}
	return changed, holders, nil
}

// insertIdentifiers stores the rows not stored yet and returns every row
// of them as stored, with its id. On PostgreSQL one statement inserts them
// all from arrays and returns the new ones; the rest are read only when
// some were there already.
func insertIdentifiers(tx *gorm.DB, rows []Row) ([]Row, error) {
	if !database.IsPostgres(tx) {
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, 500).Error; err != nil {
			return nil, err
		}
		return storedIdentifiers(tx, rows)
	}
	stx, err := database.SQLTx(tx)
	if err != nil {
		return nil, err
	}
	shop, kind, digest, masked := make([]int64, len(rows)), make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		shop[i], kind[i], digest[i], masked[i] = r.ShopID, string(r.Kind), r.Digest, r.Masked
	}
	res, err := stx.QueryContext(tx.Statement.Context, `INSERT INTO shop_identifiers (shop_id, kind, digest, masked, first_seen)
		SELECT u.shop_id, u.kind, u.digest, u.masked, $5 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(shop_id, kind, digest, masked)
		ON CONFLICT (shop_id, kind, digest) DO NOTHING RETURNING id, shop_id, kind, digest, masked, first_seen`,
		shop, kind, digest, masked, rows[0].FirstSeen)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []Row
	for res.Next() {
		var r Row
		if err := res.Scan(&r.ID, &r.ShopID, &r.Kind, &r.Digest, &r.Masked, &r.FirstSeen); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	if len(out) == len(rows) {
		return out, nil
	}
	return storedIdentifiers(tx, rows)
}

// holdersOf reads the rows (id, shop, kind, digest) holding these digests,
// image hashes aside, through shop_identifiers_digest_idx: on PostgreSQL
// with one array parameter and no reflection, as a batch reads thousands.
func holdersOf(tx *gorm.DB, digests []string) ([]Row, error) {
	var out []Row
	if !database.IsPostgres(tx) {
		for start := 0; start < len(digests); start += 500 {
			var part []Row
			if err := tx.Select("id, shop_id, kind, digest").Where("digest IN ? AND kind <> ?", digests[start:min(start+500, len(digests))], ImageHash).
				Order("digest, shop_id").Find(&part).Error; err != nil {
				return nil, err
			}
			out = append(out, part...)
		}
		return out, nil
	}
	stx, err := database.SQLTx(tx)
	if err != nil {
		return nil, err
	}
	res, err := stx.QueryContext(tx.Statement.Context, `SELECT id, shop_id, kind, digest FROM shop_identifiers
		WHERE digest = ANY($1::text[]) AND kind <> 'image_hash' ORDER BY digest, shop_id`, digests)
	if err != nil {
		return nil, err
	}
	defer res.Close()
	for res.Next() {
		var r Row
		if err := res.Scan(&r.ID, &r.ShopID, &r.Kind, &r.Digest); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, res.Err()
}

// storedIdentifiers reads the stored rows of the shops of rows.
func storedIdentifiers(tx *gorm.DB, rows []Row) ([]Row, error) {
	var shopIDs []int64
	for _, r := range rows {
		shopIDs = append(shopIDs, r.ShopID)
	}
	slices.Sort(shopIDs)
	shopIDs = slices.Compact(shopIDs)
	var out []Row
	for start := 0; start < len(shopIDs); start += 500 {
		var part []Row
		if err := tx.Where("shop_id IN ?", shopIDs[start:min(start+500, len(shopIDs))]).Find(&part).Error; err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
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

// PenalisedTx finds, among the shops holding identifiers (holders: the
// shops by hex digest, as RecordTx found them), those already found selling
// fakes — a case of theirs with a counterfeit verdict in force, or closed
// enforced or recovered — and returns, by digest, the earliest such case.
// Index reads only: their penalised cases (cases_penalised_shop_idx) and
// their cases with a counterfeit verdict (verdicts_counterfeit_case_idx).
func PenalisedTx(tx *gorm.DB, byDigest map[string][]int64) (map[string]int64, error) {
	holders := map[int64][]string{} // shop → the digests it holds
	for d, ids := range byDigest {
		for _, id := range ids {
			holders[id] = append(holders[id], d)
		}
	}
	shops := slices.Sorted(maps.Keys(holders))
	out := map[string]int64{}
	for start := 0; start < len(shops); start += 1000 {
		var rows []struct {
			ShopID int64
			CaseID int64
		}
		part := shops[start:min(start+1000, len(shops))]
		if err := tx.Raw(`SELECT shop_id, min(id) AS case_id FROM cases
			WHERE shop_id IN ? AND close_reason IN ('enforced', 'recovered') GROUP BY shop_id
			UNION ALL
			SELECT c.shop_id, min(c.id) FROM cases c JOIN verdicts v ON v.case_id = c.id AND v.result = 'counterfeit'
			WHERE c.shop_id IN ? AND NOT EXISTS (SELECT 1 FROM verdicts w WHERE w.supersedes_id = v.id)
			GROUP BY c.shop_id`, part, part).Scan(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			for _, d := range holders[r.ShopID] {
				if e, ok := out[d]; !ok || r.CaseID < e {
					out[d] = r.CaseID
				}
			}
		}
	}
	return out, nil
}
