// Package verdict is the brand's authentication of a purchased item: the
// result, the defect checklist, the report and the signature. A verdict
// is never changed; before enforcement starts the brand may supersede it
// with a new one and a reason, and both stay on record.
package verdict

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/notify"
	"spotcheck/internal/purchase"
	"spotcheck/internal/shop"
	"spotcheck/internal/valid"
)

// Result is what the brand found.
type Result string

const (
	Counterfeit  Result = "counterfeit"
	Genuine      Result = "genuine"
	Inconclusive Result = "inconclusive"
)

// Results lists them in the order the form offers them.
var Results = []Result{Counterfeit, Genuine, Inconclusive}

// event is the transition each result fires.
func (r Result) event() casework.Event {
	switch r {
	case Counterfeit:
		return casework.VerdictCounterfeit
	case Genuine:
		return casework.VerdictGenuine
	}
	return casework.VerdictInconclusive
}

// Items is the defect checklist, in the order the form shows it.
var Items = []string{"packaging", "logo_trademark", "labels_tags", "security_features", "serial_batch", "workmanship",
	"materials", "colour", "accessories_documents", "weight_dimensions", "function"}

// Outcome is one checklist line's finding.
type Outcome string

const (
	Pass Outcome = "pass"
	Fail Outcome = "fail"
	NA   Outcome = "na"
)

// Check is one line of the checklist.
type Check struct {
	VerdictID int64
	Item      string
	Outcome   Outcome
	Note      string
	PhotoIDs  []int64 `gorm:"-"` // evidence files of this line
}

func (Check) TableName() string { return "verdict_checks" }

// Verdict is one signed authentication.
type Verdict struct {
	ID               int64
	CaseID           int64
	ItemID           int64
	BrandID          int64
	Result           Result
	Authenticator    string
	Notes            string
	ReportEvidenceID *int64
	SignedName       string
	SignedBy         int64
	SignedAt         time.Time
	SupersedesID     *int64
	SupersedeReason  string
	Checks           []Check `gorm:"-"`
}

// Failed lists the checklist items that failed.
func (v Verdict) Failed() []string {
	var out []string
	for _, c := range v.Checks {
		if c.Outcome == Fail {
			out = append(out, c.Item)
		}
	}
	return out
}

// Input is the verdict form.
type Input struct {
	CaseVersion     int
	Result          string
	Outcomes        map[string]string // checklist item → pass, fail, na
	Notes           map[string]string // checklist item → note
	Authenticator   string
	Summary         string // the verdict's notes
	SignedName      string
	Confirmed       bool
	SupersedeReason string
}

// ErrNotWithBrand: the item must be in the brand's hands to be judged.
var ErrNotWithBrand = errors.New("the item has not been logged in by the brand")

// Service holds the verdict use cases.
type Service struct {
	db    *database.DB
	queue notify.Inserter
}

func NewService(db *database.DB, queue notify.Inserter) *Service {
	return &Service{db: db, queue: queue}
}

// check validates the form and builds the checklist.
func (in Input) check() (Result, []Check, error) {
	errs := valid.Errors{}
	r := Result(in.Result)
	if !slices.Contains(Results, r) {
		errs.Add("result", "error.required")
	}
	var checks []Check
	failed := 0
	for _, item := range Items {
		o := Outcome(in.Outcomes[item])
		note := strings.TrimSpace(in.Notes[item])
		switch o {
		case Pass, Fail, NA:
		default:
			errs.Add("check_"+item, "error.check_required")
		}
		if o == Fail {
			failed++
		}
		if len(note) > 2000 {
			errs.Add("check_"+item, "error.too_long")
		}
		checks = append(checks, Check{Item: item, Outcome: o, Note: note})
	}
	summary := strings.TrimSpace(in.Summary)
	switch {
	case r == Counterfeit && failed == 0:
		errs.Add("result", "error.verdict_no_defect")
	case (r == Genuine || r == Inconclusive) && summary == "":
		errs.Add("summary", "error.verdict_notes_required")
	}
	if strings.TrimSpace(in.Authenticator) == "" {
		errs.Add("authenticator", "error.required")
	}
	if strings.TrimSpace(in.SignedName) == "" {
		errs.Add("signed_name", "error.required")
	} else if !in.Confirmed {
		errs.Add("signed_name", "error.verdict_confirm")
	}
	if len(summary) > 10000 {
		errs.Add("summary", "error.too_long")
	}
	return r, checks, errs.Err()
}

// Submit records a verdict on the case's item held by the actor's brand
// and fires its transition, in one transaction: the report and photos are
// recorded as brand-visible evidence, the verdict and its checklist are
// written, a previous verdict on the item is superseded (a reason needed),
// and the case moves.
// checkPhotos are photos of single checklist lines, by item.
func (s *Service) Submit(ctx context.Context, actor authz.Actor, caseID int64, in Input, report []evidence.Upload, photos []evidence.Upload,
	checkPhotos map[string][]evidence.Upload) (Verdict, error) {
	for item := range checkPhotos {
		if !slices.Contains(Items, item) {
			return Verdict{}, valid.Errors{"check_" + item: "error.invalid"}
		}
	}
	result, checks, err := in.check()
	if err != nil {
		return Verdict{}, err
	}
	if result == Counterfeit && len(report) == 0 && strings.TrimSpace(in.Summary) == "" {
		return Verdict{}, valid.Errors{"summary": "error.verdict_report_or_notes"}
	}
	var v Verdict
	err = s.db.InTx(ctx, func(tx *gorm.DB) error {
		var c casework.Case
		if err := tx.Take(&c, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.SubmitVerdict, c.Subject()) {
			return database.ErrNotFound
		}
		var itemID int64
		err := tx.Raw(`SELECT id FROM items WHERE case_id = ? AND holder_kind = 'brand' AND holder_id = ? AND pending_kind IS NULL
			ORDER BY id DESC LIMIT 1`, c.ID, c.BrandID).Row().Scan(&itemID)
		if err != nil {
			return ErrNotWithBrand
		}
		var prev Verdict
		hasPrev := tx.Where("item_id = ? AND id NOT IN (SELECT supersedes_id FROM verdicts WHERE supersedes_id IS NOT NULL)", itemID).
			Order("id DESC").Take(&prev).Error == nil
		reason := strings.TrimSpace(in.SupersedeReason)
		if hasPrev && reason == "" {
			return valid.Errors{"supersede_reason": "error.reason_required"}
		}
		now := s.db.Now()
		files := make([]evidence.New, 0, len(report)+len(photos))
		var lineOf []string // the checklist item of each file ("" for none)
		for _, f := range append(report, photos...) {
			files = append(files, evidence.New{CaseID: c.ID, Kind: f.Kind, Visibility: evidence.BrandVisible, Stored: f.Stored})
			lineOf = append(lineOf, "")
		}
		for _, item := range Items {
			for _, f := range checkPhotos[item] {
				files = append(files, evidence.New{CaseID: c.ID, Kind: evidence.ItemPhoto, Visibility: evidence.BrandVisible, Stored: f.Stored})
				lineOf = append(lineOf, item)
			}
		}
		recorded, err := evidence.RecordTx(ctx, tx, actor, c.Reference, files)
		if err != nil {
			return err
		}
		v = Verdict{CaseID: c.ID, ItemID: itemID, BrandID: c.BrandID, Result: result, Authenticator: strings.TrimSpace(in.Authenticator),
			Notes: strings.TrimSpace(in.Summary), SignedName: strings.TrimSpace(in.SignedName), SignedBy: actor.UserID, SignedAt: now}
		if len(report) > 0 {
			v.ReportEvidenceID = &recorded[0].ID
		}
		if hasPrev {
			v.SupersedesID, v.SupersedeReason = &prev.ID, reason
		}
		if err := tx.Create(&v).Error; err != nil {
			return err
		}
		for i := range checks {
			checks[i].VerdictID = v.ID
		}
		if err := tx.Create(&checks).Error; err != nil {
			return err
		}
		for i, item := range lineOf {
			if item == "" {
				continue
			}
			if err := tx.Exec("INSERT INTO verdict_check_photos (verdict_id, item, evidence_id) VALUES (?, ?, ?)", v.ID, item, recorded[i].ID).Error; err != nil {
				return err
			}
			for j := range checks {
				if checks[j].Item == item {
					checks[j].PhotoIDs = append(checks[j].PhotoIDs, recorded[i].ID)
				}
			}
		}
		v.Checks = checks
		if _, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: c.ID, Version: in.CaseVersion, Event: result.event(),
			Note: v.Notes, Shared: true}); err != nil {
			return err
		}
		if err := deadline.MeetTx(tx, deadline.Verdict, c.ID); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "verdict.submit", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"verdict_id": v.ID, "item_id": itemID, "result": result, "failed": v.Failed(),
				"signed_name": v.SignedName, "supersedes": v.SupersedesID, "reason": reason}}); err != nil {
			return err
		}
		staff, err := notify.CaseStaffTx(tx, c.ID)
		if err != nil {
			return err
		}
		ev := notify.VerdictSigned
		if hasPrev {
			ev = notify.VerdictSuperseded
		}
		return s.queue.InsertTx(ctx, tx, notify.Args{Event: ev, Subject: c.Reference, Link: "/cases/" + c.Reference + "#verdicts", UserIDs: staff})
	})
	return v, err
}

// ForCase lists a case's verdicts with their checklists and line photos,
// oldest first, in three queries.
func (s *Service) ForCase(ctx context.Context, caseID int64) ([]Verdict, error) {
	return List(s.db.Gorm.WithContext(ctx), caseID)
}

// List is ForCase on db, which may be a transaction (the evidence bundle
// reads the case in one snapshot).
func List(db *gorm.DB, caseID int64) ([]Verdict, error) {
	var vs []Verdict
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&vs).Error; err != nil || len(vs) == 0 {
		return vs, err
	}
	ids := make([]int64, len(vs))
	at := make(map[int64]int, len(vs))
	for i, v := range vs {
		ids[i], at[v.ID] = v.ID, i
	}
	var checks []Check
	if err := db.Where("verdict_id IN ?", ids).Find(&checks).Error; err != nil {
		return nil, err
	}
	var photos []struct {
		VerdictID  int64
		Item       string
		EvidenceID int64
	}
	if err := db.Table("verdict_check_photos").Where("verdict_id IN ?", ids).Order("evidence_id").Find(&photos).Error; err != nil {
		return nil, err
	}
	for _, c := range checks {
		for _, ph := range photos {
			if ph.VerdictID == c.VerdictID && ph.Item == c.Item {
				c.PhotoIDs = append(c.PhotoIDs, ph.EvidenceID)
			}
		}
		v := &vs[at[c.VerdictID]]
		v.Checks = append(v.Checks, c)
	}
	for i := range vs {
		slices.SortFunc(vs[i].Checks, func(a, b Check) int { return slices.Index(Items, a.Item) - slices.Index(Items, b.Item) })
	}
	return vs, nil
}

// Current is the verdict in force: the last one not superseded.
func Current(vs []Verdict) *Verdict {
	superseded := map[int64]bool{}
	for _, v := range vs {
		if v.SupersedesID != nil {
			superseded[*v.SupersedesID] = true
		}
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if !superseded[vs[i].ID] {
			return &vs[i]
		}
	}
	return nil
}

// Overview counts the actor's brands' cases by state — only cases whose
// item has been sent to the brand, the ones the brand may know of.
func (s *Service) Overview(ctx context.Context, actor authz.Actor) (map[casework.State]int64, error) {
	out := map[casework.State]int64{}
	if len(actor.BrandIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		State casework.State
		N     int64
	}
	err := s.db.Gorm.WithContext(ctx).Raw(`SELECT c.state, COUNT(*) AS n FROM cases c
		WHERE c.brand_id IN ? AND `+purchase.CaseReachedBrandSQL+` GROUP BY c.state`, actor.BrandIDs).Scan(&rows).Error
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, err
}

// ErrNoCounterfeitVerdict: linked shops are offered as new cases only once
// the case has a counterfeit verdict in force.
var ErrNoCounterfeitVerdict = errors.New("the case has no counterfeit verdict in force")

// OpenLinkedCase opens a case for the same brand on a shop linked to the
// case's shop (the same seller's network), once a counterfeit verdict is
// in force; an open case there already is a conflict.
func (s *Service) OpenLinkedCase(ctx context.Context, actor authz.Actor, caseID, shopID int64) (casework.Case, error) {
	var out casework.Case
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		var c casework.Case
		if err := tx.Take(&c, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.TriageFlags, c.Subject()) {
			return database.ErrNotFound
		}
		var vs []Verdict
		if err := tx.Where("case_id = ?", caseID).Order("id").Find(&vs).Error; err != nil {
			return err
		}
		if v := Current(vs); v == nil || v.Result != Counterfeit {
			return ErrNoCounterfeitVerdict
		}
		group, err := shop.Group(tx, c.ShopID)
		if err != nil {
			return err
		}
		if shopID == c.ShopID || !slices.Contains(group, shopID) {
			return database.ErrNotFound
		}
		var name string
		if err := tx.Raw("SELECT name FROM shops WHERE id = ?", shopID).Row().Scan(&name); err != nil {
			return database.ErrNotFound
		}
		opened, err := casework.OpenTx(tx, actor, []casework.NewCase{{ShopID: shopID, BrandID: c.BrandID, SearchText: name,
			Note: "linked to " + c.Reference}})
		if errors.Is(err, casework.ErrOpenCaseExists) {
			return valid.Errors{"linked": "error.open_case_exists"}
		}
		if err != nil {
			return err
		}
		out = opened[0]
		_, err = audit.Append(ctx, tx, audit.Record{Action: "case.open_linked", ObjectType: "case", ObjectID: out.Reference,
			Detail: map[string]any{"from": c.Reference, "shop_id": shopID}})
		return err
	})
	return out, err
}
