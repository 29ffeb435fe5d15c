package enforcement

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Ledger is what a case, or a brand over a period, cost and recovered,
// in fen: test-purchase spend and fees, the value of what raids seized,
// and the amounts claimed, awarded (judgment or settlement) and collected.
type Ledger struct {
	BrandID   int64
	BrandName string
	Spend     int64
	Fees      int64
	Seized    int64
	Claimed   int64
	Awarded   int64
	Collected int64
}

// ledgerQueries sum each figure by brand; each is dated by its own event
// (order date, raid date, filing date, outcome date, payment date), so a
// period counts what happened in it.
var ledgerQueries = []struct {
	field func(*Ledger) *int64
	sql   string
}{
	// A refund to the buyer (a purchase cancelled before delivery) comes
	// off the amount paid first, then off the fee.
	{func(l *Ledger) *int64 { return &l.Spend }, `SELECT c.brand_id,
			SUM(p.amount_paid_minor - CASE WHEN r.refunded_minor > p.amount_paid_minor THEN p.amount_paid_minor ELSE COALESCE(r.refunded_minor, 0) END) AS n
		FROM purchases p JOIN cases c ON c.id = p.case_id LEFT JOIN reimbursements r ON r.purchase_id = p.id
		WHERE p.amount_paid_minor IS NOT NULL AND p.order_date >= ? AND p.order_date < ? %s GROUP BY c.brand_id`},
	{func(l *Ledger) *int64 { return &l.Fees }, `SELECT c.brand_id,
			SUM(p.fee_minor - CASE WHEN r.refunded_minor > p.amount_paid_minor THEN r.refunded_minor - p.amount_paid_minor ELSE 0 END) AS n
		FROM purchases p JOIN cases c ON c.id = p.case_id LEFT JOIN reimbursements r ON r.purchase_id = p.id
		WHERE p.fee_minor IS NOT NULL AND p.order_date >= ? AND p.order_date < ? %s GROUP BY c.brand_id`},
	{func(l *Ledger) *int64 { return &l.Seized }, `SELECT c.brand_id, SUM(s.quantity * s.unit_value_minor) AS n FROM seizures s
		JOIN raids r ON r.id = s.raid_id JOIN cases c ON c.id = r.case_id WHERE r.raided_on >= ? AND r.raided_on < ? %s GROUP BY c.brand_id`},
	{func(l *Ledger) *int64 { return &l.Claimed }, `SELECT c.brand_id, SUM(cl.claim_minor) AS n FROM claims cl JOIN cases c ON c.id = cl.case_id
		WHERE cl.filed_on >= ? AND cl.filed_on < ? %s GROUP BY c.brand_id`},
	{func(l *Ledger) *int64 { return &l.Awarded }, `SELECT c.brand_id, SUM(cl.outcome_minor) AS n FROM claims cl JOIN cases c ON c.id = cl.case_id
		WHERE cl.outcome <> '' AND cl.outcome_on >= ? AND cl.outcome_on < ? %s GROUP BY c.brand_id`},
	{func(l *Ledger) *int64 { return &l.Collected }, `SELECT c.brand_id, SUM(pm.amount_minor) AS n FROM payments pm JOIN cases c ON c.id = pm.case_id
		WHERE pm.received_on >= ? AND pm.received_on < ? %s GROUP BY c.brand_id`},
}

// Ledgers sums the ledger per brand over [from, to) — every brand, or
// only brandIDs when given — in brand name order.
func (s *Service) Ledgers(ctx context.Context, from, to time.Time, brandIDs []int64) ([]Ledger, error) {
	db := s.db.Gorm.WithContext(ctx)
	var brands []struct {
		ID   int64
		Name string
	}
	q := db.Table("brands").Select("id, name").Order("name")
	if brandIDs != nil {
		q = q.Where("id IN ?", brandIDs)
	}
	if err := q.Find(&brands).Error; err != nil {
		return nil, err
	}
	out := make([]Ledger, len(brands))
	at := map[int64]*Ledger{}
	for i, b := range brands {
		out[i] = Ledger{BrandID: b.ID, BrandName: b.Name}
		at[b.ID] = &out[i]
	}
	for _, lq := range ledgerQueries {
		if err := sumByBrand(db, lq.sql, from, to, brandIDs, func(brand, n int64) {
			if l := at[brand]; l != nil {
				*lq.field(l) += n
			}
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CaseLedger is one case's ledger, all time.
func (s *Service) CaseLedger(ctx context.Context, caseID int64) (Ledger, error) {
	var l Ledger
	db := s.db.Gorm.WithContext(ctx)
	for _, lq := range ledgerQueries {
		if err := sumByBrand(db, lq.sql, time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), nil, func(_, n int64) {
			*lq.field(&l) += n
		}, caseID); err != nil {
			return l, err
		}
	}
	return l, nil
}

func sumByBrand(db *gorm.DB, sql string, from, to time.Time, brandIDs []int64, add func(brand, n int64), caseID ...int64) error {
	extra, args := "", []any{from, to}
	if brandIDs != nil {
		extra, args = "AND c.brand_id IN ?", append(args, brandIDs)
	}
	if len(caseID) == 1 {
		extra, args = extra+" AND c.id = ?", append(args, caseID[0])
	}
	var rows []struct {
		BrandID int64
		N       *int64
	}
	if err := db.Raw(fmt.Sprintf(sql, extra), args...).Scan(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if r.N != nil {
			add(r.BrandID, *r.N)
		}
	}
	return nil
}

// Totals are what raids found across some cases: the sales the police
// estimated and the value of what they seized, in fen.
type Totals struct{ Sales, Seized int64 }

// TotalsOf sums the raids of the cases (a seller network's).
func (s *Service) TotalsOf(ctx context.Context, caseIDs []int64) (Totals, error) {
	var t Totals
	db := s.db.Gorm.WithContext(ctx)
	for start := 0; start < len(caseIDs); start += 500 {
		part := caseIDs[start:min(start+500, len(caseIDs))]
		var p Totals
		if err := db.Raw(`SELECT
				COALESCE((SELECT SUM(estimated_sales_minor) FROM raids WHERE case_id IN ?), 0) AS sales,
				COALESCE((SELECT SUM(s.quantity * s.unit_value_minor) FROM seizures s JOIN raids r ON r.id = s.raid_id WHERE r.case_id IN ?), 0) AS seized`,
			part, part).Scan(&p).Error; err != nil {
			return Totals{}, err
		}
		t.Sales += p.Sales
		t.Seized += p.Seized
	}
	return t, nil
}
