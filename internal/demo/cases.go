package demo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/flag"
	"spotcheck/internal/role"
	"spotcheck/internal/valid"
)

// demoShop is a fictional shop with the flags the risk model raised on it.
type demoShop struct {
	id, name, owner, brand string
	flags                  []demoFlag
}

type demoFlag struct {
	ext, listing, title, price string
	score                      float64
	rule                       string
}

var shops = []demoShop{
	{"tb-100231", "Starlight Watch House", "Zhou Ming", "Aurora Timepieces", []demoFlag{
		{"demo-0001", "it-5501", "Aurora crystal ladies watch, rose gold", "199.00", 0.93, "price_anomaly"},
		{"demo-0002", "it-5502", "Aurora crystal bracelet watch gift box", "229.00", 0.71, "image_match"},
	}},
	{"tb-100877", "Moonbeam Accessories", "Wu Lan", "Aurora Timepieces", []demoFlag{
		{"demo-0003", "it-7701", "Aurora swan pendant watch", "159.00", 0.88, "seller_network"},
	}},
	{"tb-203310", "Silk Road Bags", "Qian Hao", "Lotus Leather", []demoFlag{
		{"demo-0004", "it-3301", "Lotus leather tote, classic monogram", "899.00", 0.85, "price_anomaly"},
	}},
	{"tb-204455", "Harbor Lights Trading", "Sun Yue", "Aurora Timepieces", []demoFlag{
		{"demo-0005", "it-4401", "Aurora sport chronograph", "350.00", 0.74, "price_anomaly"},
	}},
	{"tb-300912", "Peach Blossom Boutique", "Li Na", "Lotus Leather", []demoFlag{
		{"demo-0006", "it-9901", "Lotus mini crossbody bag", "420.00", 0.62, "image_match"},
		{"demo-0007", "it-9902", "Lotus card holder set", "99.00", 0.55, "keyword"},
	}},
	{"tb-301178", "Golden Dragon Goods", "Ma Jun", "Aurora Timepieces", []demoFlag{
		{"demo-0008", "it-1101", "Crystal watch 'Aurora style'", "89.00", 0.48, "keyword"},
	}},
	// Shops whose cases the demo takes through a test purchase.
	{"tb-410020", "Jade Garden Leather", "He Ping", "Lotus Leather", []demoFlag{
		{"demo-0009", "it-2201", "Lotus weekender bag, limited edition", "650.00", 0.91, "price_anomaly"},
	}},
	{"tb-410388", "Northwind Timepieces", "Gao Fei", "Aurora Timepieces", []demoFlag{
		{"demo-0010", "it-2301", "Aurora moonphase watch, blue dial", "299.00", 0.86, "image_match"},
	}},
	{"tb-410777", "Crystal Bay Watches", "Xu Jing", "Aurora Timepieces", []demoFlag{
		{"demo-0011", "it-2401", "Aurora crystal watch with swan clasp", "179.00", 0.94, "price_anomaly"},
	}},
	{"tb-411050", "Silver Lake Watches", "Tang Wei", "Aurora Timepieces", []demoFlag{
		{"demo-0012", "it-2501", "Aurora crystal watch, gift edition", "199.00", 0.96, "price_anomaly"},
	}},
	// The same seller's second shop, registered to another person.
	{"tb-411051", "Silver Lake Outlet", "Tang Mei", "Aurora Timepieces", []demoFlag{
		{"demo-0013", "it-2601", "Crystal watch, outlet price", "149.00", 0.52, "seller_network"},
	}},
	{"tb-411420", "Pearl River Timepieces", "Zhou Lan", "Aurora Timepieces", []demoFlag{
		{"demo-0014", "it-2701", "Aurora rose gold ladies watch", "229.00", 0.9, "image_match"},
	}},
}

// shopIdentifiers are what the risk systems know behind some demo shops
// (fictional values), sent with their flags: the Silver Lake seller's two
// shops share a phone and a warehouse.
var shopIdentifiers = map[string]string{
	"tb-411050": `[{"kind":"phone","value":"+86 137 0000 4411"},{"kind":"payout_account","value":"6217 0000 9988 1234"},` +
		`{"kind":"warehouse_address","value":"浙江省义乌市稠城街道银湖路 8 号 3 楼"},{"kind":"image_hash","value":"c3a5f00f5aa5c33c"}]`,
	"tb-411051": `[{"kind":"phone","value":"13700004411"},{"kind":"return_address","value":"浙江省义乌市稠城街道银湖路8号3楼"}]`,
}

// loadCases sends the demo flags through the real ingestion (a resend
// changes nothing), links the two shops one seller controls, and moves a
// few cases along so that every screen has something to show.
func loadCases(ctx context.Context, d Deps) error {
	var lines []string
	for _, s := range shops {
		for _, f := range s.flags {
			ids := ""
			if v, ok := shopIdentifiers[s.id]; ok {
				ids = `,"identifiers":` + v
			}
			lines = append(lines, fmt.Sprintf(`{"source":"risk-model-7","external_id":%q,"brand":%q,"score":%g,"rule":%q,`+
				`"detected_at":"2026-11-20T08:00:00Z","shop":{"platform":"taobao","id":%q,"name":%q,"owner":%q%s},`+
				`"listing":{"id":%q,"url":"https://item.example/%s","title":%q,"price":%q,"currency":"CNY"}}`,
				f.ext, s.brand, f.score, f.rule, s.id, s.name, s.owner, ids, f.listing, f.listing, f.title, f.price))
		}
	}
	recs, rejs, err := flag.DecodeNDJSON(strings.NewReader(strings.Join(lines, "\n")), flag.MaxPerRequest)
	if err != nil {
		return err
	}
	res, err := d.Flags.Ingest(ctx, authz.Anonymous, "demo", recs, rejs, nil)
	if err != nil {
		return err
	}
	if len(res.Rejected) > 0 {
		return fmt.Errorf("demo flags rejected: %+v", res.Rejected)
	}
	a, err := d.Shops.FindByPlatformID(ctx, "taobao", "tb-100231")
	if err != nil {
		return err
	}
	b, err := d.Shops.FindByPlatformID(ctx, "taobao", "tb-100877")
	if err != nil {
		return err
	}
	_, err = d.Shops.AddLink(ctx, 0, a.ID, b.ID, "same_controller", "Second shop registered to another person, run from the same address and payout account")
	if fe, ok := valid.As(err); err != nil && !(ok && fe["shop"] == "error.link_exists") {
		return err
	}
	staff, err := d.Users.ByEmail(ctx, "staff@demo.spotcheck.test")
	if err != nil {
		return err
	}
	actor := authz.Actor{UserID: staff.ID, Role: role.Staff}
	rows, _, err := d.Cases.List(ctx, actor, casework.Filter{Limit: 50})
	if err != nil {
		return err
	}
	for _, r := range rows {
		switch {
		case r.ShopName == "Starlight Watch House" && r.InvestigatorID == nil:
			c, err := d.Cases.Get(ctx, actor, r.ID)
			if err != nil {
				return err
			}
			if _, err := d.Cases.Assign(ctx, actor, c.ID, c.Version, staff.ID); err != nil {
				return err
			}
			if err := d.Cases.Comment(ctx, actor, c.ID, "Prices far below the brand's floor; the second shop shares the payout account."); err != nil {
				return err
			}
		case r.ShopName == "Silk Road Bags" && r.State == casework.Flagged:
			c, err := d.Cases.Get(ctx, actor, r.ID)
			if err != nil {
				return err
			}
			_, err = d.Cases.Fire(ctx, actor, c.ID, c.Version, casework.Dismiss, "The brand confirms the seller is an authorised reseller.")
			if err != nil && !errors.Is(err, casework.ErrConflict) {
				return err
			}
		}
	}
	return loadPurchases(ctx, d, actor)
}
