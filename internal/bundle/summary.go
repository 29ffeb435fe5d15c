package bundle

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"time"

	"spotcheck/internal/casework"
	"spotcheck/internal/enforcement"
	"spotcheck/internal/evidence"
	"spotcheck/internal/i18n"
	"spotcheck/internal/purchase"
	"spotcheck/internal/shop"
	"spotcheck/internal/verdict"
)

//go:embed summary.tmpl
var summarySource string

// summaryTemplate is parsed once; each rendering clones it with functions
// bound to its language, clock and people.
var summaryTemplate = template.Must(template.New("summary").Funcs(funcs(nil)).Parse(summarySource))

// part is one section of the summary: a block of summary.tmpl and its data.
type part struct {
	ID    string // the anchor, and the block's name
	Title string // a catalog key
	Data  any
}

// section is a part rendered, as the page frame ranges over them.
type section struct {
	ID    string
	Title string
	Body  template.HTML
}

// sections lists the parts of the summary in reading order. A further
// part of the case road (a civil claim) is a block in summary.tmpl, its
// data in record, and one line here.
func sections(rec record, files []file, withheld []Withheld) []part {
	names := map[int64]string{}
	for _, f := range files {
		names[f.Evidence.ID] = f.Name
	}
	return []part{
		{"case", "bundle.section.case", rec},
		{"shop", "bundle.section.shop", shopView(rec)},
		{"purchases", "bundle.section.purchases", purchaseViews(rec)},
		{"verdicts", "bundle.section.verdicts", verdictViews(rec, names)},
		{"referral", "bundle.section.referral", struct {
			Referral *enforcement.Referral
			Raids    []enforcement.Raid
		}{rec.Referral, rec.Raids}},
		{"evidence", "bundle.section.evidence", evidenceViews(rec, files, withheld)},
		{"timeline", "bundle.section.timeline", timelineViews(rec)},
		{"audit", "bundle.section.audit", struct {
			Events   int
			Head     AuditHead
			Redacted bool
		}{len(rec.Audit), rec.Head, rec.Kind != Unredacted}},
	}
}

func renderSummary(w io.Writer, rec record, files []file, withheld []Withheld, lang i18n.Lang, now time.Time) error {
	tmpl, err := summaryTemplate.Clone()
	if err != nil {
		return err
	}
	f := &formatter{lang: lang, loc: now.Location(), people: rec.People, brand: rec.Brand.Name}
	tmpl.Funcs(funcs(f))
	page := struct {
		Lang        i18n.Lang
		Reference   string
		GeneratedAt time.Time
		Unredacted  bool
		Sections    []section
	}{Lang: lang, Reference: rec.Case.Reference, GeneratedAt: now, Unredacted: rec.Kind == Unredacted}
	for _, p := range sections(rec, files, withheld) {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, p.ID, p.Data); err != nil {
			return fmt.Errorf("bundle summary, %s: %w", p.ID, err)
		}
		page.Sections = append(page.Sections, section{ID: p.ID, Title: lang.T(p.Title), Body: template.HTML(b.String())}) // #nosec G203 -- b is the output of an html/template, escaped when it was executed
	}
	if err := tmpl.ExecuteTemplate(w, "page", page); err != nil {
		return fmt.Errorf("bundle summary: %w", err)
	}
	return nil
}

// formatter shows values in the summary's language and time zone.
type formatter struct {
	lang   i18n.Lang
	loc    *time.Location
	people map[int64]string
	brand  string
}

func funcs(f *formatter) template.FuncMap {
	if f == nil {
		f = &formatter{lang: i18n.English, loc: time.UTC}
	}
	return template.FuncMap{
		"t":      f.t,
		"label":  f.label,
		"dt":     func(t time.Time) string { return f.lang.DateTime(t, f.loc) },
		"day":    func(t time.Time) string { return f.lang.Date(t, f.loc) },
		"date":   func(t time.Time) string { return f.lang.Date(t, time.UTC) }, // days are stored as UTC midnight
		"money":  f.lang.Money,
		"person": f.person,
		"party":  f.party,
		"named":  f.named,
		"isTrue": func(b *bool) bool { return b != nil && *b },
		"value":  func(s enforcement.Seizure) int64 { return s.Value() },
	}
}

// t fails the rendering on a key missing from the catalog, so a bundle
// never shows one; the tests render every block in both languages.
func (f *formatter) t(key string, args ...any) (string, error) {
	if !i18n.Has(key) {
		return "", fmt.Errorf("message %q is not in the catalog", key)
	}
	return f.lang.T(key, args...), nil
}

// label names a stored value (a state, a kind): the catalog's word for
// prefix+value, a bundle-only word for it, or the value itself.
func (f *formatter) label(prefix, value string) string {
	for _, key := range []string{prefix + value, "bundle." + prefix + value} {
		if i18n.Has(key) {
			return f.lang.T(key)
		}
	}
	return value
}

func (f *formatter) person(id int64) string {
	if name, ok := f.people[id]; ok {
		return name
	}
	if id == 0 {
		return "—"
	}
	return fmt.Sprintf("#%d", id)
}

// party names who held an item: the volunteer's pseudonym, the brand's
// name, the governance team or the police.
func (f *formatter) party(kind purchase.Party, id int64) string {
	switch kind {
	case purchase.PartyVolunteer:
		return f.lang.T("party.volunteer") + " " + f.person(id)
	case purchase.PartyBrand:
		return f.lang.T("party.brand") + " " + f.brand
	case purchase.PartyStaff, purchase.PartyPolice:
		return f.lang.T("party." + kind)
	}
	return kind
}

// named names a party of a redacted custody line, whose name is given.
func (f *formatter) named(kind purchase.Party, name string) string {
	switch kind {
	case "":
		return f.lang.T("party.seller")
	case purchase.PartyVolunteer, purchase.PartyBrand:
		return f.lang.T("party."+kind) + " " + name
	}
	return f.lang.T("party." + kind)
}

// linkedShop is a shop of the seller's network with how it is linked and
// its cases.
type linkedShop struct {
	Shop  shop.Shop
	Links []shop.Link
	Cases []relatedCase
}

func shopView(rec record) any {
	linked := make([]linkedShop, len(rec.Network))
	for i, sh := range rec.Network {
		linked[i] = linkedShop{Shop: sh, Cases: rec.Related[sh.ID]}
		for _, l := range rec.Links {
			if l.ShopAID == sh.ID || l.ShopBID == sh.ID {
				linked[i].Links = append(linked[i].Links, l)
			}
		}
	}
	return struct {
		Shop     shop.Shop
		Listings []shop.Listing
		OwnCases []relatedCase
		Linked   []linkedShop
	}{rec.Shop, rec.Listings, rec.Related[rec.Shop.ID], linked}
}

// purchaseView is a purchase with the chains of its items. A redacted
// one has no order number, no seal of the seller's parcel, no reason typed
// for a cancellation, and its chains as purchase.OutsideLines shapes them.
type purchaseView struct {
	Purchase purchase.Purchase
	Redacted bool
	Chains   []chainView
}

type chainView struct {
	purchase.Chain
	Redacted  bool
	Lines     []purchase.Line // redacted: the chain to show
	PendingID int64
	Intact    bool
	Problem   string
}

func purchaseViews(rec record) []purchaseView {
	redacted := rec.Kind != Unredacted
	name := func(kind purchase.Party, id int64) string {
		switch kind {
		case purchase.PartyVolunteer:
			return rec.Pseudonyms[id]
		case purchase.PartyBrand:
			return rec.Brand.Name
		}
		return ""
	}
	all := func(purchase.CustodyEvent) bool { return true }
	out := make([]purchaseView, len(rec.Purchases))
	for i, p := range rec.Purchases {
		out[i].Purchase, out[i].Redacted = p, redacted
		if redacted {
			out[i].Purchase.OrderNumber, out[i].Purchase.SealNumber, out[i].Purchase.CancelReason = "", "", ""
		}
		for _, c := range rec.Chains {
			if c.Item.PurchaseID != p.ID {
				continue
			}
			cv := chainView{Chain: c, Intact: true, Redacted: redacted}
			if c.Item.PendingID != nil {
				cv.PendingID = *c.Item.PendingID
			}
			if err := c.Verify(); err != nil {
				cv.Intact, cv.Problem = false, err.Error()
			}
			if redacted {
				cv.Lines = purchase.OutsideLines(c.Events, p.OrderDate, rec.Pseudonyms[p.VolunteerID], name, all)
				cv.Events, cv.Problem = nil, "" // the problem may quote a tracking number
			}
			out[i].Chains = append(out[i].Chains, cv)
		}
	}
	return out
}

type verdictView struct {
	verdict.Verdict
	ItemNumber string
	ReportName string
	Superseded bool
}

func verdictViews(rec record, names map[int64]string) []verdictView {
	current := verdict.Current(rec.Verdicts)
	out := make([]verdictView, len(rec.Verdicts))
	for i, v := range rec.Verdicts {
		out[i] = verdictView{Verdict: v, Superseded: current == nil || current.ID != v.ID}
		for _, c := range rec.Chains {
			if c.Item.ID == v.ItemID {
				out[i].ItemNumber = c.Item.Number
			}
		}
		if v.ReportEvidenceID != nil {
			out[i].ReportName = names[*v.ReportEvidenceID]
		}
	}
	return out
}

type evidenceView struct {
	Name        string // "" for a file not in the bundle
	Kind        string
	ContentType string
	UploadedAt  time.Time
	UploadedBy  int64
	Size        int64
	SHA256      string // of the file on record
	Derived     *evidence.Derivative
	Transform   string
	Withheld    string // why the file is not in the bundle
	Withdrawn   bool
	WithdrawnAt time.Time
	WithdrawnBy int64
	Reason      string // the withdrawal's; not in a redacted bundle
}

// evidenceViews lists every file on record: in the bundle (a derivative
// with the original's hash and how it was made) or withheld, and why.
func evidenceViews(rec record, files []file, withheld []Withheld) []evidenceView {
	in := map[int64]file{}
	for _, f := range files {
		in[f.Evidence.ID] = f
	}
	held := map[int64]string{}
	for _, w := range withheld {
		held[w.EvidenceID] = w.Reason
	}
	out := make([]evidenceView, len(rec.Evidence))
	for i, e := range rec.Evidence {
		f := in[e.ID]
		out[i] = evidenceView{Name: f.Name, Kind: string(e.Kind), ContentType: e.ContentType, UploadedAt: e.UploadedAt,
			UploadedBy: e.UploadedBy, Size: e.Size, SHA256: e.SHA256, Derived: f.Derivative, Withheld: held[e.ID], Withdrawn: e.Withdrawn()}
		if f.Derivative != nil {
			out[i].Transform = f.Derivative.Transform.Description()
		}
		if rec.Kind == Unredacted {
			out[i].Reason = e.WithdrawnReason
		}
		if e.WithdrawnAt != nil {
			out[i].WithdrawnAt = *e.WithdrawnAt
		}
		if e.WithdrawnBy != nil {
			out[i].WithdrawnBy = *e.WithdrawnBy
		}
	}
	return out
}

// timelineView is an entry of the case's timeline; a redacted bundle
// shows no comments and no text typed with a transition or assignment.
type timelineView struct {
	casework.Entry
	Assigned bool
	ShowNote bool
}

func timelineViews(rec record) []timelineView {
	var out []timelineView
	for _, e := range rec.Timeline {
		v := timelineView{Entry: e, Assigned: e.Note != "", ShowNote: e.Note != "" && e.Kind != "flag"}
		if rec.Kind != Unredacted {
			if e.Kind == "comment" {
				continue
			}
			v.ShowNote = false
		}
		out = append(out, v)
	}
	return out
}
