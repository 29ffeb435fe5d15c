package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// The data generators are fixed: the same seed gives the same flags, shops
// and cases on every run, so a change in the figures is a change in the
// code (or the machine), not in the data.

// brandNames are the brands the harness creates with `spotcheck brand add`;
// brandShare is how the flags and cases spread over them (cumulative).
var (
	brandNames   = []string{"Aurora Timepieces", "Lumen Leather", "Northwind Optics", "Sakura Cosmetics"}
	brandHolders = []string{"Aurora AG", "Lumen S.p.A.", "Northwind Optical Ltd", "Sakura Beauty K.K."}
	brandShare   = []float64{0.40, 0.70, 0.90, 1.00}
)

var (
	platforms    = []string{"taobao", "tmall", "jd", "pinduoduo"}
	rules        = []string{"price_anomaly", "logo_match", "keyword_match", "seller_history", "image_similarity"}
	namePrefixes = []string{"星光", "Golden", "Lucky", "环球", "Prime", "金牌", "Oriental", "Royal", "Happy", "优品"}
	nameSuffixes = []string{"表行", "Watch Store", "Outlet", "旗舰店", "Boutique", "优选", "Trading", "专营店"}
	surnames     = []string{"Liu", "Wang", "Zhang", "Chen", "Li", "Yang", "Zhao", "Huang", "Zhou", "Wu"}
	givenNames   = []string{"Wei", "Fang", "Min", "Jing", "Lei", "Yan", "Jun", "Tao", "Hui", "Ping"}
	products     = []string{"Crystal watch", "Leather handbag", "Aviator sunglasses", "Night cream 50ml", "Chronograph",
		"Wallet", "Reading glasses", "Serum 30ml", "Diver watch", "Belt", "Lipstick set", "Travel bag"}
)

// mix is a fixed 64-bit hash (splitmix64's finaliser) for attributes that
// must be the same wherever an object appears.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func shopPlatform(shop int) string { return platforms[shop%len(platforms)] }
func shopExtID(shop int) string    { return "shop-" + pad(shop, 7) }
func shopName(shop int) string {
	h := mix(uint64(shop) + 1) // #nosec G115 -- shop is a non-negative index into the generated shops
	return namePrefixes[h%uint64(len(namePrefixes))] + nameSuffixes[(h>>8)%uint64(len(nameSuffixes))] + " " + strconv.Itoa(shop)
}
func shopOwner(shop int) string {
	h := mix(uint64(shop) + 7) // #nosec G115 -- shop is a non-negative index into the generated shops
	return surnames[h%uint64(len(surnames))] + " " + givenNames[(h>>8)%uint64(len(givenNames))]
}
func listingTitle(shop, k int) string {
	h := mix(uint64(shop)*64 + uint64(k)) // #nosec G115 -- shop and k are non-negative indexes of generated rows
	return products[h%uint64(len(products))] + " " + strconv.Itoa(int(h>>40)%9000+1000)
}
func listingPrice(shop, k int) string {
	h := mix(uint64(shop)*64 + uint64(k) + 3) // #nosec G115 -- shop and k are non-negative indexes of generated rows
	cents := []string{".00", ".99", ".50"}[h%3]
	return strconv.Itoa(int(h>>20)%4900+99) + cents
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

func pickBrand(r *rand.Rand) int {
	u := r.Float64()
	for i, c := range brandShare {
		if u < c {
			return i
		}
	}
	return len(brandShare) - 1
}

// flagGen makes the flags of the ingestion phase. Flag i is the same on
// every call: each batch has its own generator seeded by (seed, start), so
// batches can be made in any order, by any sender, and made again for the
// resend.
type flagGen struct {
	seed     uint64
	source   string
	shops    int // the flags name shops shopBase … shopBase+shops-1
	shopBase int
	base     time.Time // the latest detected_at
	brandIDs []int64   // the ids of brandNames, in order
	// identifiers: each shop is sent with two (a phone of its own and a
	// payout account, which one shop in ten shares with the one before it,
	// so that links are suggested).
	identifiers bool
}

// genFlag is one generated flag.
type genFlag struct {
	n        int // its number: external_id f-<n>
	brand    int // index into brandNames
	score    float64
	rule     string
	detected time.Time
	shop     int
	listing  int // 0 … 19 within the shop
}

// batch returns flags start … start+n-1.
func (g *flagGen) batch(start, n int) []genFlag {
	r := rand.New(rand.NewPCG(g.seed, uint64(start))) // #nosec G115 G404 -- start is a non-negative row number; the seeded generator makes repeatable bench data, not secrets
	out := make([]genFlag, n)
	for i := range out {
		u := r.Float64()
		out[i] = genFlag{
			n:     start + i,
			brand: pickBrand(r),
			// Most flags are weak; about one in nine reaches the 0.8 that
			// opens a case by itself.
			score:    math.Round(u*u*10000) / 10000,
			rule:     rules[r.IntN(len(rules))],
			detected: g.base.Add(-time.Duration(r.Int64N(int64(60 * 24 * time.Hour)))).Truncate(time.Second),
			shop:     g.shopBase + r.IntN(g.shops),
			listing:  r.IntN(20),
		}
	}
	return out
}

func (g *flagGen) externalID(f *genFlag) string { return "f-" + pad(f.n, 8) }

// appendJSON writes f as one line of the API's NDJSON (no newline). The
// texts need no JSON escaping: the generator makes none that would.
func (g *flagGen) appendJSON(b []byte, f *genFlag) []byte {
	b = append(b, `{"source":"`...)
	b = append(b, g.source...)
	b = append(b, `","external_id":"f-`...)
	b = append(b, pad(f.n, 8)...)
	b = append(b, `","brand":"`...)
	b = append(b, brandNames[f.brand]...)
	b = append(b, `","score":`...)
	b = strconv.AppendFloat(b, f.score, 'g', -1, 64)
	b = append(b, `,"rule":"`...)
	b = append(b, f.rule...)
	b = append(b, `","detected_at":"`...)
	b = f.detected.AppendFormat(b, time.RFC3339)
	b = append(b, `","shop":{"platform":"`...)
	b = append(b, shopPlatform(f.shop)...)
	b = append(b, `","id":"`...)
	b = append(b, shopExtID(f.shop)...)
	b = append(b, `","name":"`...)
	b = append(b, shopName(f.shop)...)
	b = append(b, `","owner":"`...)
	b = append(b, shopOwner(f.shop)...)
	b = append(b, '"')
	if g.identifiers {
		payout := f.shop
		if f.shop%10 == 1 {
			payout--
		}
		b = append(b, `,"identifiers":[{"kind":"phone","value":"138`...)
		b = append(b, pad(f.shop%100_000_000, 8)...)
		b = append(b, `"},{"kind":"payout_account","value":"6222`...)
		b = append(b, pad(payout, 12)...)
		b = append(b, `"}]`...)
	}
	b = append(b, `},"listing":{"id":"`...)
	lid := "item-" + pad(f.shop, 7) + "-" + pad(f.listing, 2)
	b = append(b, lid...)
	b = append(b, `","url":"https://`...)
	b = append(b, shopPlatform(f.shop)...)
	b = append(b, `.example/item/`...)
	b = append(b, lid...)
	b = append(b, `","title":"`...)
	b = append(b, listingTitle(f.shop, f.listing)...)
	b = append(b, `","price":"`...)
	b = append(b, listingPrice(f.shop, f.listing)...)
	b = append(b, `","currency":"CNY"}}`...)
	return b
}

// ndjson is the request body of flags start … start+n-1.
func (g *flagGen) ndjson(start, n int) []byte {
	fs := g.batch(start, n)
	b := make([]byte, 0, n*520)
	for i := range fs {
		b = g.appendJSON(b, &fs[i])
		b = append(b, '\n')
	}
	return b
}
