package demo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/riverqueue/river"

	"spotcheck/internal/authz"
	"spotcheck/internal/bundle"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/purchase"
	"spotcheck/internal/role"
	"spotcheck/internal/user"
	"spotcheck/internal/verdict"
)

// demoVolunteer is a fictional covert buyer with the personas they shop as.
type demoVolunteer struct {
	email, region string
	personas      []purchase.NewPersona
	burn          string // the first persona is burned for this reason
}

var volunteers = []demoVolunteer{
	{"volunteer@demo.spotcheck.test", "Zhejiang", []purchase.NewPersona{
		{PlatformAccount: "tb_sunny_day_88", AddressAlias: "Hangzhou locker H-12", Phone: "+86 138 0000 2231", PaymentInstrument: "Alipay card •• 6222 0000 1111 4821"},
		{PlatformAccount: "tb_quiet_reader", AddressAlias: "Hangzhou parcel station 3", Phone: "+86 139 0000 7710", PaymentInstrument: "WeChat Pay •• 6217 0000 2222 9035"},
	}, "The seller asked for a video call before shipping."},
	{"volunteer2@demo.spotcheck.test", "Jiangsu", []purchase.NewPersona{
		{PlatformAccount: "tb_blue_kite", AddressAlias: "Suzhou locker S-4", Phone: "+86 137 0000 5521", PaymentInstrument: "Alipay card •• 6228 0000 3333 1187"},
	}, ""},
	{"volunteer3@demo.spotcheck.test", "Shanghai", []purchase.NewPersona{
		{PlatformAccount: "tb_tea_and_cake", AddressAlias: "Shanghai parcel station 9", Phone: "+86 136 0000 6642", PaymentInstrument: "Alipay card •• 6225 0000 4444 5520"},
	}, ""},
}

// demoPurchase takes one demo case through a test purchase up to a step.
type demoPurchase struct {
	shop, volunteer string
	persona         int // index into the volunteer's usable personas
	upTo            purchase.Status
}

var purchases = []demoPurchase{
	{"Moonbeam Accessories", "volunteer@demo.spotcheck.test", 0, purchase.Assigned},
	{"Jade Garden Leather", "volunteer@demo.spotcheck.test", 0, purchase.Ordered},
	{"Northwind Timepieces", "volunteer2@demo.spotcheck.test", 0, purchase.Received},
	{"Crystal Bay Watches", "volunteer@demo.spotcheck.test", 0, purchase.Dispatched},
	{"Silver Lake Watches", "volunteer3@demo.spotcheck.test", 0, enforced},
	{"Pearl River Timepieces", "volunteer2@demo.spotcheck.test", 0, atBrand},
}

// Steps past the purchase: atBrand, logged in by the brand and awaiting
// its verdict; enforced, the whole road of the seed story — a
// counterfeit verdict, a referral, a raid, a claim and its judgment.
const (
	atBrand  purchase.Status = "at_brand"
	enforced purchase.Status = "enforced"
)

// loadPurchases creates the volunteers and takes the demo cases through
// their purchases with the real use cases (and real evidence files).
func loadPurchases(ctx context.Context, d Deps, staff authz.Actor) error {
	personas := map[string][]int64{} // usable, by volunteer e-mail
	vols := map[string]user.User{}
	for _, v := range volunteers {
		u, err := d.Users.ByEmail(ctx, v.email) // made with the other demo accounts
		if err != nil {
			return fmt.Errorf("demo volunteer %s: %w", v.email, err)
		}
		vols[v.email] = u
		prof, err := d.Purchases.GetProfile(ctx, staff, u.ID)
		if err != nil {
			return err
		}
		if len(prof.Personas) == 0 {
			if err := d.Purchases.UpdateVolunteer(ctx, staff, u.ID, v.region, false); err != nil {
				return err
			}
			for _, p := range v.personas {
				if _, err := d.Purchases.AddPersona(ctx, staff, u.ID, p); err != nil {
					return err
				}
			}
			if v.burn != "" {
				if prof, err = d.Purchases.GetProfile(ctx, staff, u.ID); err != nil {
					return err
				}
				if err := d.Purchases.BurnPersona(ctx, staff, u.ID, prof.Personas[0].ID, v.burn); err != nil {
					return err
				}
			}
		}
		if prof, err = d.Purchases.GetProfile(ctx, staff, u.ID); err != nil {
			return err
		}
		for _, p := range prof.Personas {
			if p.BurnedAt == nil {
				personas[v.email] = append(personas[v.email], p.ID)
			}
		}
	}
	rows, _, err := d.Cases.List(ctx, staff, casework.Filter{Limit: 100})
	if err != nil {
		return err
	}
	for _, dp := range purchases {
		for _, r := range rows {
			if r.ShopName != dp.shop || r.State != casework.Flagged {
				continue
			}
			done, err := d.Purchases.ForCase(ctx, r.ID)
			if err != nil || len(done) > 0 {
				return err
			}
			v := vols[dp.volunteer]
			if err := walkPurchase(ctx, d, staff, authz.Actor{UserID: v.ID, Role: role.Volunteer}, r.ID, personas[dp.volunteer][dp.persona], dp.upTo); err != nil {
				return fmt.Errorf("demo purchase on %s: %w", dp.shop, err)
			}
		}
	}
	return nil
}

func walkPurchase(ctx context.Context, d Deps, staff, vol authz.Actor, caseID, persona int64, upTo purchase.Status) error {
	c, err := d.Cases.Get(ctx, staff, caseID)
	if err != nil {
		return err
	}
	today := clock.Today(d.DB.Clock(), d.Location)
	p, err := d.Purchases.Order(ctx, staff, caseID, purchase.OrderInput{CaseVersion: c.Version, VolunteerID: vol.UserID, PersonaID: persona,
		Budget: "300.00", Currency: "CNY", DueOn: today.AddDays(10).String(),
		ShipTo:       "Brand authentication office, 88 Example Road, Hangzhou (fictional)",
		Instructions: "Buy one piece of the listed item. Keep the parcel sealed; photograph it before opening the outer box."})
	if err != nil || upTo == purchase.Assigned {
		return err
	}
	files := func(kinds ...evidence.Kind) ([]evidence.Upload, error) {
		var out []evidence.Upload
		for i, k := range kinds {
			st, err := d.Evidence.Put(ctx, bytes.NewReader(demoImage(i, k)), string(k)+".png")
			if err != nil {
				return nil, err
			}
			out = append(out, evidence.Upload{Kind: k, Stored: st})
		}
		return out, nil
	}
	fs, err := files(evidence.Receipt, evidence.Screenshot)
	if err != nil {
		return err
	}
	if err := d.Purchases.RecordOrder(ctx, vol, p.ID, purchase.OrderStep{Version: p.Version, OrderNumber: fmt.Sprintf("TB%d", 4200000+p.ID),
		AmountPaid: "279.00", Fee: "12.00", OrderDate: today.AddDays(-3).String()}, fs); err != nil || upTo == purchase.Ordered {
		return err
	}
	if p, err = d.Purchases.Get(ctx, staff, p.ID); err != nil {
		return err
	}
	if fs, err = files(evidence.ParcelPhoto, evidence.ItemPhoto); err != nil {
		return err
	}
	if err := d.Purchases.RecordDelivery(ctx, vol, p.ID, purchase.DeliveryStep{Version: p.Version, DeliveredOn: today.AddDays(-1).String(),
		SealNumber: fmt.Sprintf("SC-SEAL-%05d", p.ID), Carrier: "SF Express", Tracking: fmt.Sprintf("SF%010d", p.ID)}, fs); err != nil || upTo == purchase.Received {
		return err
	}
	if p, err = d.Purchases.Get(ctx, staff, p.ID); err != nil {
		return err
	}
	err = d.Purchases.Dispatch(ctx, vol, p.ID, purchase.DispatchStep{Version: p.Version, To: purchase.PartyBrand, Carrier: "EMS",
		Tracking: fmt.Sprintf("EMS%09d", p.ID), Seal: fmt.Sprintf("SC-SEAL-%05d", p.ID)}, nil)
	if err != nil || upTo == purchase.Dispatched {
		return err
	}
	if err := judge(ctx, d, staff, caseID, p.ID, upTo == enforced); err != nil || upTo != enforced {
		return err
	}
	return enforce(ctx, d, staff, caseID)
}

// judge has the demo brand user log the item in and sign a counterfeit
// verdict: packaging, workmanship and colour failed, as in the seed story.
func judge(ctx context.Context, d Deps, staff authz.Actor, caseID, purchaseID int64, sign bool) error {
	u, err := d.Users.ByEmail(ctx, "brand@demo.spotcheck.test")
	if err != nil {
		return err
	}
	brandUser := u.Actor()
	ch, _, err := d.Purchases.ChainOf(ctx, purchaseID)
	if err != nil {
		return err
	}
	if err := d.Purchases.Accept(ctx, brandUser, ch.Item.ID, purchase.Acceptance{SealIntact: true, Place: "Aurora authentication office"}, nil); err != nil || !sign {
		return err
	}
	c, err := d.Cases.Get(ctx, staff, caseID)
	if err != nil {
		return err
	}
	in := verdict.Input{CaseVersion: c.Version, Result: string(verdict.Counterfeit), Outcomes: map[string]string{}, Notes: map[string]string{},
		Authenticator: "Ada Keller, Aurora brand protection", Summary: "Inconsistent packaging, rough workmanship, abnormal colour of the crystals.",
		SignedName: "Ada Keller", Confirmed: true}
	for _, item := range verdict.Items {
		in.Outcomes[item] = string(verdict.Pass)
	}
	for item, note := range map[string]string{"packaging": "Box print and insert differ from the original.",
		"workmanship": "Rough edges on the case and clasp.", "colour": "Crystals of an abnormal colour."} {
		in.Outcomes[item], in.Notes[item] = string(verdict.Fail), note
	}
	in.Outcomes["serial_batch"] = string(verdict.NA)
	_, err = d.Verdicts.Submit(ctx, brandUser, caseID, in, nil, nil, nil)
	return err
}

// demoImage draws a small, plainly fake picture for a demo evidence file.
func demoImage(i int, k evidence.Kind) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	base := map[evidence.Kind]color.RGBA{evidence.Receipt: {240, 240, 230, 255}, evidence.Screenshot: {220, 230, 245, 255},
		evidence.ParcelPhoto: {200, 170, 120, 255}, evidence.ItemPhoto: {230, 200, 210, 255}}[k]
	for y := range 120 {
		for x := range 160 {
			c := base
			if (x/16+y/16+i)%2 == 0 {
				c.R, c.G, c.B = c.R-30, c.G-30, c.B-30
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// enforce takes a confirmed case down the rest of the road: the linked
// shop is linked, the evidence bundle built, the police referral, a raid
// seizing 125 watches and 2 fake seals, a claim of ¥1,400,000 and the
// judgment, and a first payment.
func enforce(ctx context.Context, d Deps, staff authz.Actor, caseID int64) error {
	c, err := d.Cases.Get(ctx, staff, caseID)
	if err != nil {
		return err
	}
	a, err := d.Shops.FindByPlatformID(ctx, "taobao", "tb-411050")
	if err != nil {
		return err
	}
	b, err := d.Shops.FindByPlatformID(ctx, "taobao", "tb-411051")
	if err != nil {
		return err
	}
	if _, err := d.Shops.AddLink(ctx, staff.UserID, a.ID, b.ID, "same_controller", "Registered to a relative; same warehouse address"); err != nil {
		return err
	}
	built, err := bundle.NewService(d.DB, d.Evidence, d.Jobs).Request(ctx, staff, caseID, i18n.English)
	if err != nil {
		return err
	}
	w := &bundle.Worker{DB: d.DB, Store: d.Evidence}
	if err := w.Work(ctx, &river.Job[bundle.Args]{Args: bundle.Args{BundleID: built.ID}}); err != nil {
		return err
	}
	day := func(n int) string { return clock.Today(d.DB.Clock(), d.Location).AddDays(n).String() }
	if _, err := d.Enforcement.Refer(ctx, staff, caseID, enforcement.ReferralInput{CaseVersion: c.Version,
		Bureau: "Riverside District Public Security Bureau (fictional)", District: "Riverside", Contact: "Officer Lin, economic crimes unit",
		ReferredOn: day(0), LetterNumber: "GOV-2026-0117"}); err != nil {
		return err
	}
	if err := d.Enforcement.Progress(ctx, staff, caseID, 1, enforcement.Accepted, "RPSB-2026-0042"); err != nil {
		return err
	}
	if _, err := d.Enforcement.RecordRaid(ctx, staff, caseID, enforcement.RaidInput{RaidedOn: day(0), Place: "Warehouse 3, 18 Example Road, Riverside",
		Arrests: "2", EstimatedSales: "86000", Notes: "The seller kept stock for both shops in one warehouse.",
		Lines: []enforcement.LineInput{
			{Description: "Counterfeit Aurora crystal watches", Quantity: "125", UnitValue: "1200.00"},
			{Description: "Fake Aurora seals", Quantity: "2", UnitValue: "50.00"}}}, nil); err != nil {
		return err
	}
	if c, err = d.Cases.Get(ctx, staff, caseID); err != nil {
		return err
	}
	if _, err := d.Enforcement.FileClaim(ctx, staff, caseID, enforcement.ClaimInput{CaseVersion: c.Version,
		Court: "Riverside Intermediate People's Court (fictional)", CourtCaseNumber: "(2026) Riverside Civil 0042", FiledOn: day(0),
		Basis: "goodwill", Amount: "1400000"}); err != nil {
		return err
	}
	if err := d.Enforcement.AddHearing(ctx, staff, caseID, day(0), "First hearing; the seller did not contest the test purchase."); err != nil {
		return err
	}
	if c, err = d.Cases.Get(ctx, staff, caseID); err != nil {
		return err
	}
	if err := d.Enforcement.RecordOutcome(ctx, staff, caseID, enforcement.OutcomeInput{CaseVersion: c.Version, Outcome: "judgment",
		Amount: "1400000", On: day(0)}); err != nil {
		return err
	}
	return d.Enforcement.AddPayment(ctx, staff, caseID, "350000", day(0), "First instalment")
}
