// Package enforcement is what follows a counterfeit verdict: the police
// referral (with the evidence bundle it needs), the police's progress, the
// raids and what they seized, and the criminal-prosecution thresholds the
// figures are measured against.
package enforcement

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/audit"
	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/clock"
	"spotcheck/internal/database"
	"spotcheck/internal/deadline"
	"spotcheck/internal/evidence"
	"spotcheck/internal/notify"
	"spotcheck/internal/stats"
	"spotcheck/internal/valid"
)

// Status is where the police stand on a referral.
type Status string

const (
	Referred   Status = "referred"
	Accepted   Status = "accepted"
	Declined   Status = "declined"
	Raided     Status = "raided"
	Prosecuted Status = "prosecuted"
)

// next is the referral's own small road: referred → accepted | declined;
// accepted → raided (by recording a raid) → prosecuted.
var next = map[Status][]Status{Referred: {Accepted, Declined}, Raided: {Prosecuted}}

// Next lists the statuses a referral may move to by hand from s.
func (s Status) Next() []Status { return next[s] }

// Referral is a case handed to the police.
type Referral struct {
	ID               int64
	CaseID           int64
	Bureau           string
	District         string
	Contact          string
	ReferredOn       time.Time
	LetterNumber     string
	PoliceCaseNumber string
	Status           Status
	Version          int
	CreatedBy        int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Raid is a police raid on the seller, with what it seized.
type Raid struct {
	ID                  int64
	ReferralID          int64
	CaseID              int64
	RaidedOn            time.Time
	Place               string
	Arrests             int
	EstimatedSalesMinor int64
	Notes               string
	CreatedBy           int64
	CreatedAt           time.Time
	Seizures            []Seizure `gorm:"-"`
}

// Seizure is one line of what a raid seized.
type Seizure struct {
	RaidID         int64
	Line           int
	Description    string
	Quantity       int
	UnitValueMinor int64
}

// Value is the line's estimated value.
func (s Seizure) Value() int64 { return int64(s.Quantity) * s.UnitValueMinor }

// Thresholds are the criminal-prosecution thresholds, in fen. The
// defaults follow the PRC prosecution standard for selling goods under a
// counterfeit trademark: RMB 50,000 sold, or 150,000 unsold, or 150,000
// combined. They are guidance, not a legal opinion.
type Thresholds struct {
	Sold, Unsold, Combined int64
}

// DefaultThresholds are the standard's figures.
var DefaultThresholds = Thresholds{Sold: 50_000_00, Unsold: 150_000_00, Combined: 150_000_00}

// Measure is a case's figures against the thresholds.
type Measure struct {
	Sold, Unsold               int64 // estimated sales, seized stock value (fen)
	OverSold, OverUnsold, Over bool  // each threshold reached; Over: any
	Thresholds                 Thresholds
}

// measure sums a case's raids against t.
func measure(raids []Raid, t Thresholds) Measure {
	m := Measure{Thresholds: t}
	for _, r := range raids {
		m.Sold += r.EstimatedSalesMinor
		for _, s := range r.Seizures {
			m.Unsold += s.Value()
		}
	}
	m.OverSold, m.OverUnsold = m.Sold >= t.Sold, m.Unsold >= t.Unsold
	m.Over = m.OverSold || m.OverUnsold || m.Sold+m.Unsold >= t.Combined
	return m
}

var (
	// ErrNoBundle: refer_to_police needs an evidence bundle built after
	// the verdict in force.
	ErrNoBundle = errors.New("no evidence bundle built since the verdict")
	// ErrConflict: the referral changed since it was loaded.
	ErrConflict = errors.New("the referral was changed by someone else")
)

// Service holds the enforcement use cases.
type Service struct {
	db         *database.DB
	queue      notify.Inserter // tells the brand of each step
	thresholds Thresholds
	loc        *time.Location // the platform's zone, in which typed dates are days
}

// NewService: queue takes the notifications of the steps; loc is the
// platform's zone (SPOTCHECK_TIMEZONE); the clock is db's.
func NewService(db *database.DB, queue notify.Inserter, t Thresholds, loc *time.Location) *Service {
	return &Service{db: db, queue: queue, thresholds: t, loc: loc}
}

// today is the calendar day it is now in the platform's zone.
func (s *Service) today() clock.Date { return clock.Today(s.db.Clock(), s.loc) }

// ReferralInput is the referral form.
type ReferralInput struct {
	CaseVersion  int
	Bureau       string
	District     string
	Contact      string
	ReferredOn   string // YYYY-MM-DD
	LetterNumber string
}

// Refer fires refer_to_police with the referral's details, if an evidence
// bundle was built after the verdict in force.
func (s *Service) Refer(ctx context.Context, actor authz.Actor, caseID int64, in ReferralInput) (Referral, error) {
	errs := valid.Errors{}
	in.Bureau = strings.TrimSpace(in.Bureau)
	if in.Bureau == "" || len(in.Bureau) > 200 {
		errs.Add("bureau", "error.required")
	}
	on := valid.DateNotFuture(errs, "referred_on", in.ReferredOn, s.today())
	for f, v := range map[string]string{"district": in.District, "contact": in.Contact, "letter_number": in.LetterNumber} {
		if len(v) > 500 {
			errs.Add(f, "error.too_long")
		}
	}
	if err := errs.Err(); err != nil {
		return Referral{}, err
	}
	var r Referral
	err := s.db.InTx(ctx, func(tx *gorm.DB) error {
		if err := bundleGuard(tx, caseID); err != nil {
			return err
		}
		c, err := casework.FireTx(ctx, tx, actor, casework.Firing{CaseID: caseID, Version: in.CaseVersion, Event: casework.ReferToPolice,
			Note: in.Bureau + " " + in.LetterNumber})
		if err != nil {
			return err
		}
		now := s.db.Now()
		r = Referral{CaseID: caseID, Bureau: in.Bureau, District: strings.TrimSpace(in.District), Contact: strings.TrimSpace(in.Contact),
			ReferredOn: on, LetterNumber: strings.TrimSpace(in.LetterNumber), Status: Referred, Version: 1, CreatedBy: actor.UserID,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		if err := deadline.StartTx(tx, staffStep(deadline.PoliceAnswer, caseID, actor)); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "referral.create", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"bureau": r.Bureau, "district": r.District, "letter_number": r.LetterNumber, "referred_on": in.ReferredOn}}); err != nil {
			return err
		}
		return notify.TellBrandTx(ctx, tx, s.queue, notify.CaseReferred, c.Reference, c.BrandID)
	})
	return r, err
}

// bundleGuard: a redacted bundle (the one that goes to the police) built
// (done) after the latest verdict was signed. An unredacted export, made
// for a court, does not count.
func bundleGuard(tx *gorm.DB, caseID int64) error {
	var signed []time.Time
	if err := tx.Table("verdicts").Where("case_id = ?", caseID).Order("id DESC").Limit(1).Pluck("signed_at", &signed).Error; err != nil {
		return err
	}
	q := tx.Table("bundles").Where("case_id = ? AND status = 'done' AND kind = 'redacted'", caseID)
	if len(signed) == 1 {
		q = q.Where("created_at > ?", signed[0])
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return ErrNoBundle
	}
	return nil
}

// Progress records the police's answer: a case number and a new status.
func (s *Service) Progress(ctx context.Context, actor authz.Actor, caseID int64, version int, to Status, policeCase string) error {
	policeCase = strings.TrimSpace(policeCase)
	return s.inCase(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case, r Referral) error {
		if r.Version != version {
			return ErrConflict
		}
		if to != r.Status && !slices.Contains(r.Status.Next(), to) {
			return valid.Errors{"status": "error.referral_status"}
		}
		if to == Accepted && policeCase == "" && r.PoliceCaseNumber == "" {
			return valid.Errors{"police_case_number": "error.required"}
		}
		updates := map[string]any{"status": to, "version": gorm.Expr("version + 1"), "updated_at": s.db.Now()}
		if policeCase != "" {
			updates["police_case_number"] = policeCase
		}
		res := tx.Model(&Referral{}).Where("id = ? AND version = ?", r.ID, version).Updates(updates)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrConflict
		}
		if err := referralSteps(tx, caseID, actor, to); err != nil {
			return err
		}
		_, err := audit.Append(ctx, tx, audit.Record{Action: "referral.progress", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"from": r.Status, "to": to, "police_case_number": policeCase}})
		return err
	})
}

// staffStep is a step of the case's enforcement, which staff chase: the
// police's answer, the referral's next step, a hearing (deadline subjects
// are the case, which has one referral and one claim).
func staffStep(k deadline.Kind, caseID int64, actor authz.Actor) deadline.Step {
	return deadline.Step{Kind: k, CaseID: caseID, SubjectID: caseID, Party: deadline.Staff, PartyID: actor.UserID}
}

// referralSteps: the police's answer closes its wait; a referral the
// police took on (accepted, raided, prosecuted) waits on its next step,
// which each step starts again; a declined one waits on nothing more.
func referralSteps(tx *gorm.DB, caseID int64, actor authz.Actor, to Status) error {
	if err := deadline.MeetTx(tx, deadline.PoliceAnswer, caseID); err != nil {
		return err
	}
	if to == Declined {
		return deadline.MeetTx(tx, deadline.ReferralQuiet, caseID)
	}
	return deadline.StartTx(tx, staffStep(deadline.ReferralQuiet, caseID, actor))
}

// RaidInput is the raid form; Lines are the seizure lines.
type RaidInput struct {
	RaidedOn       string
	Place          string
	Arrests        string
	EstimatedSales string // decimal yuan
	Notes          string
	Lines          []LineInput
}

// LineInput is one seizure line as typed.
type LineInput struct {
	Description, Quantity, UnitValue string
}

// RecordRaid records a raid on an accepted (or already raided) referral,
// with its seizure lines and documents; the referral becomes raided.
func (s *Service) RecordRaid(ctx context.Context, actor authz.Actor, caseID int64, in RaidInput, docs []evidence.Upload) (Raid, error) {
	raid, lines, err := in.check(s.today())
	if err != nil {
		return Raid{}, err
	}
	err = s.inCase(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case, r Referral) error {
		if r.Status != Accepted && r.Status != Raided {
			return valid.Errors{"status": "error.raid_needs_acceptance"}
		}
		raid.ReferralID, raid.CaseID, raid.CreatedBy, raid.CreatedAt = r.ID, caseID, actor.UserID, s.db.Now()
		if err := tx.Create(&raid).Error; err != nil {
			return err
		}
		for i := range lines {
			lines[i].RaidID = raid.ID
		}
		if len(lines) > 0 {
			if err := tx.Create(&lines).Error; err != nil {
				return err
			}
		}
		raid.Seizures = lines
		var seized int64
		for _, l := range lines {
			seized += l.Value()
		}
		if err := stats.AddOnTx(tx, clock.DateOf(raid.RaidedOn, time.UTC), stats.Delta{Metric: stats.Raids, BrandID: c.BrandID, N: 1},
			stats.Delta{Metric: stats.Seized, BrandID: c.BrandID, N: seized}); err != nil {
			return err
		}
		if err := referralSteps(tx, caseID, actor, Raided); err != nil {
			return err
		}
		if err := tx.Model(&Referral{}).Where("id = ?", r.ID).
			Updates(map[string]any{"status": Raided, "version": gorm.Expr("version + 1"), "updated_at": raid.CreatedAt}).Error; err != nil {
			return err
		}
		files := make([]evidence.New, len(docs))
		for i, d := range docs {
			files[i] = evidence.New{CaseID: caseID, Kind: evidence.PoliceDocument, Visibility: evidence.StaffOnly, Stored: d.Stored}
		}
		if _, err := evidence.RecordTx(ctx, tx, actor, c.Reference, files); err != nil {
			return err
		}
		if _, err := audit.Append(ctx, tx, audit.Record{Action: "raid.record", ObjectType: "case", ObjectID: c.Reference,
			Detail: map[string]any{"raid_id": raid.ID, "raided_on": in.RaidedOn, "place": raid.Place, "arrests": raid.Arrests,
				"estimated_sales_minor": raid.EstimatedSalesMinor, "seizure_lines": len(lines)}}); err != nil {
			return err
		}
		return notify.TellBrandTx(ctx, tx, s.queue, notify.CaseRaided, c.Reference, c.BrandID)
	})
	return raid, err
}

func (in RaidInput) check(today clock.Date) (Raid, []Seizure, error) {
	errs := valid.Errors{}
	var r Raid
	on := valid.DateNotFuture(errs, "raided_on", in.RaidedOn, today)
	r.RaidedOn, r.Place, r.Notes = on, strings.TrimSpace(in.Place), strings.TrimSpace(in.Notes)
	if r.Place == "" {
		errs.Add("place", "error.required")
	}
	if a := strings.TrimSpace(in.Arrests); a != "" {
		if _, err := fmt.Sscan(a, &r.Arrests); err != nil || r.Arrests < 0 {
			errs.Add("arrests", "error.number")
		}
	}
	if v := strings.TrimSpace(in.EstimatedSales); v != "" {
		m, ok := valid.Amount(v)
		if !ok {
			errs.Add("estimated_sales", "error.amount")
		}
		r.EstimatedSalesMinor = m
	}
	var lines []Seizure
	for i, l := range in.Lines {
		if strings.TrimSpace(l.Description+l.Quantity+l.UnitValue) == "" {
			continue // an empty line of the form
		}
		s := Seizure{Line: len(lines) + 1, Description: strings.TrimSpace(l.Description)}
		field := fmt.Sprintf("line_%d", i)
		if s.Description == "" {
			errs.Add(field, "error.seizure_line")
		}
		if _, err := fmt.Sscan(strings.TrimSpace(l.Quantity), &s.Quantity); err != nil || s.Quantity <= 0 {
			errs.Add(field, "error.seizure_line")
		}
		v, ok := valid.Amount(l.UnitValue)
		if !ok {
			errs.Add(field, "error.seizure_line")
		}
		s.UnitValueMinor = v
		lines = append(lines, s)
	}
	return r, lines, errs.Err()
}

// inCase runs fn on the case's referral in a transaction, as staff.
func (s *Service) inCase(ctx context.Context, actor authz.Actor, caseID int64, fn func(*gorm.DB, casework.Case, Referral) error) error {
	return s.caseTx(ctx, actor, caseID, func(tx *gorm.DB, c casework.Case) error {
		var r Referral
		if err := tx.Where("case_id = ?", caseID).Take(&r).Error; err != nil {
			return database.NotFound(err)
		}
		return fn(tx, c, r)
	})
}

// caseTx runs fn on a case the actor may enforce, in a transaction.
func (s *Service) caseTx(ctx context.Context, actor authz.Actor, caseID int64, fn func(*gorm.DB, casework.Case) error) error {
	return s.db.InTx(ctx, func(tx *gorm.DB) error {
		var c casework.Case
		if err := tx.Take(&c, caseID).Error; err != nil {
			return database.NotFound(err)
		}
		if !authz.Can(actor, authz.Enforce, c.Subject()) {
			return database.ErrNotFound
		}
		return fn(tx, c)
	})
}

// Record is a case's enforcement as the case page shows it.
type Record struct {
	Referral *Referral
	Raids    []Raid
	Measure  Measure
}

// ForCase loads a case's referral, raids and the thresholds measure.
func (s *Service) ForCase(ctx context.Context, caseID int64) (Record, error) {
	r, raids, err := Load(s.db.Gorm.WithContext(ctx), caseID)
	return Record{Referral: r, Raids: raids, Measure: measure(raids, s.thresholds)}, err
}

// Load reads a case's referral (nil: none) and its raids with their
// seizures, in three queries, on db, which may be a transaction (the
// evidence bundle reads the case in one snapshot).
func Load(db *gorm.DB, caseID int64) (*Referral, []Raid, error) {
	var refs []Referral
	if err := db.Where("case_id = ?", caseID).Limit(1).Find(&refs).Error; err != nil || len(refs) == 0 {
		return nil, nil, err
	}
	var raids []Raid
	if err := db.Where("case_id = ?", caseID).Order("id").Find(&raids).Error; err != nil || len(raids) == 0 {
		return &refs[0], nil, err
	}
	ids := make([]int64, len(raids))
	at := make(map[int64]int, len(raids))
	for i, r := range raids {
		ids[i], at[r.ID] = r.ID, i
	}
	var seized []Seizure
	if err := db.Where("raid_id IN ?", ids).Order("raid_id, line").Find(&seized).Error; err != nil {
		return nil, nil, err
	}
	for _, sz := range seized {
		r := &raids[at[sz.RaidID]]
		r.Seizures = append(r.Seizures, sz)
	}
	return &refs[0], raids, nil
}
