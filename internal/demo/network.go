package demo

import (
	"context"
	"fmt"
	"strings"

	"spotcheck/internal/authz"
	"spotcheck/internal/flag"
)

// networkFlags are what the risk systems send later about shops near the
// Silver Lake seller, whose first shop the story takes to a judgment (its
// identifiers, fictional, came with its first flag): a look-alike listing
// image on an unrelated-looking shop, which suggests a link for staff to
// confirm or reject, and a new shop paid out to the same account with a
// low score — a repeat offender, opened as a case whatever its score.
var networkFlags = []struct {
	ext, shopID, shopName, owner, title string
	score                               float64
	identifiers                         string
}{
	{"demo-net-01", "tb-411730", "Bright Lake Select", "Fang Qi", "Crystal swan watch, boxed", 0.35,
		`[{"kind":"image_hash","value":"c3a5f00f5aa5c33f"},{"kind":"device","value":"DEV-58A1-77"}]`},
	{"demo-net-02", "tb-411990", "Lakeside Time Direct", "Tang Jie", "Crystal watch, factory price", 0.3,
		`[{"kind":"payout_account","value":"6217-0000-9988-1234"},{"kind":"email","value":"lakeside.direct@example.com"}]`},
}

// loadNetwork sends the network's flags through the real ingestion, once
// the story's enforcement is done (a resend changes nothing).
func loadNetwork(ctx context.Context, d Deps) error {
	lines := make([]string, len(networkFlags))
	for i, f := range networkFlags {
		lines[i] = fmt.Sprintf(`{"source":"risk-network","external_id":%q,"brand":"Aurora Timepieces","score":%g,"rule":"seller_network",`+
			`"detected_at":"2026-11-28T08:00:00Z","shop":{"platform":"taobao","id":%q,"name":%q,"owner":%q,"identifiers":%s},`+
			`"listing":{"id":"net-%d","url":"https://item.example/net-%d","title":%q,"price":"139.00","currency":"CNY"}}`,
			f.ext, f.score, f.shopID, f.shopName, f.owner, f.identifiers, i, i, f.title)
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
		return fmt.Errorf("demo network flags rejected: %+v", res.Rejected)
	}
	return nil
}
