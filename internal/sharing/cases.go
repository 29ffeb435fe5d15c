package sharing

import (
	"context"
	"strings"

	"spotcheck/internal/authz"
	"spotcheck/internal/casework"
	"spotcheck/internal/purchase"
)

// CaseRow is one case in a brand's case history.
type CaseRow struct {
	ID          int64
	Reference   string
	BrandName   string
	ShopName    string
	Platform    string
	State       casework.State
	CloseReason casework.CloseReason
	Verdict     string // the verdict in force, if any
	Referral    string // the police referral's status, if any
	Seized      int64  // value of what raids seized, fen
	Collected   int64  // received on the civil claim, fen
}

// CaseFilter narrows the brand's case history.
type CaseFilter struct {
	State  casework.State // "" for every state
	Query  string         // part of the reference or the shop's name
	Before int64          // keyset: cases older than this id (0: the newest)
}

// PageSize is how many cases one page of the history holds.
const PageSize = 50

// BrandCases lists the cases of the actor's brands that reached the brand,
// newest first, a page at a time; more says whether an older page exists.
func (s *Service) BrandCases(ctx context.Context, actor authz.Actor, f CaseFilter) (rows []CaseRow, more bool, err error) {
	if !authz.Can(actor, authz.ViewAuthQueue, authz.Subject{}) || len(actor.BrandIDs) == 0 {
		return nil, false, nil
	}
	q := `SELECT c.id, c.reference, b.name AS brand_name, sh.name AS shop_name, sh.platform, c.state, c.close_reason,
		COALESCE((SELECT v.result FROM verdicts v WHERE v.case_id = c.id
			AND NOT EXISTS (SELECT 1 FROM verdicts w WHERE w.supersedes_id = v.id) ORDER BY v.id DESC LIMIT 1), '') AS verdict,
		COALESCE((SELECT r.status FROM referrals r WHERE r.case_id = c.id), '') AS referral,
		COALESCE((SELECT SUM(z.quantity * z.unit_value_minor) FROM seizures z JOIN raids r ON r.id = z.raid_id WHERE r.case_id = c.id), 0) AS seized,
		COALESCE((SELECT SUM(pm.amount_minor) FROM payments pm WHERE pm.case_id = c.id), 0) AS collected
		FROM cases c JOIN brands b ON b.id = c.brand_id JOIN shops sh ON sh.id = c.shop_id
		WHERE c.brand_id IN ? AND ` + purchase.CaseReachedBrandSQL
	args := []any{actor.BrandIDs}
	if f.State != "" {
		q, args = q+" AND c.state = ?", append(args, f.State)
	}
	if t := strings.TrimSpace(f.Query); t != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(t)) + "%"
		q, args = q+` AND (LOWER(c.reference) LIKE ? ESCAPE '\' OR LOWER(sh.name) LIKE ? ESCAPE '\')`, append(args, like, like)
	}
	if f.Before > 0 {
		q, args = q+" AND c.id < ?", append(args, f.Before)
	}
	if err := s.db.Gorm.WithContext(ctx).Raw(q+" ORDER BY c.id DESC LIMIT ?", append(args, PageSize+1)...).Scan(&rows).Error; err != nil {
		return nil, false, err
	}
	if len(rows) > PageSize {
		rows, more = rows[:PageSize], true
	}
	return rows, more, nil
}
