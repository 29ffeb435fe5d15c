package casework

import (
	"fmt"
	"time"

	"gorm.io/gorm"

	"spotcheck/internal/authz"
	"spotcheck/internal/database"
)

// On PostgreSQL the cases of a flag batch travel as one array per column,
// unpacked with unnest: one short statement per step, whatever the batch
// size (as in the flag package). SQLite keeps the multi-row statements.

func pgOpenFor(tx *gorm.DB, pairs [][2]int64) (map[[2]int64]Case, error) {
	out := map[[2]int64]Case{}
	if len(pairs) == 0 {
		return out, nil
	}
	stx, err := database.SQLTx(tx)
	if err != nil {
		return nil, err
	}
	shops, brands := make([]int64, len(pairs)), make([]int64, len(pairs))
	for i, p := range pairs {
		shops[i], brands[i] = p[0], p[1]
	}
	// 'closed' is written out, not a parameter: a cached generic plan could
	// then not use the partial index of open cases.
	rows, err := stx.QueryContext(tx.Statement.Context, `SELECT c.* FROM cases c
		JOIN unnest($1::bigint[], $2::bigint[]) AS u(shop_id, brand_id) ON c.shop_id = u.shop_id AND c.brand_id = u.brand_id
		WHERE c.state <> 'closed'`, shops, brands)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c Case
		if err := tx.ScanRows(rows, &c); err != nil {
			return nil, err
		}
		out[[2]int64{c.ShopID, c.BrandID}] = c
	}
	return out, rows.Err()
}

// pgInsertCases inserts cases and sets their ids.
func pgInsertCases(tx *gorm.DB, cases []Case) error {
	stx, err := database.SQLTx(tx)
	if err != nil {
		return err
	}
	n := len(cases)
	ref, text := make([]string, n), make([]string, n)
	shop, brand, score := make([]int64, n), make([]int64, n), make([]float64, n)
	for i, c := range cases {
		ref[i], shop[i], brand[i], score[i], text[i] = c.Reference, c.ShopID, c.BrandID, c.RiskScore, c.SearchText
	}
	c0 := cases[0] // state, version and times are the same for all
	rows, err := stx.QueryContext(tx.Statement.Context, `INSERT INTO cases (reference, shop_id, brand_id, state, risk_score, search_text, version, opened_at, updated_at, state_since)
		SELECT reference, shop_id, brand_id, $6, risk_score, search_text, $7, $8, $9, $8
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::float8[], $5::text[]) AS u(reference, shop_id, brand_id, risk_score, search_text)
		RETURNING id, reference`, ref, shop, brand, score, text, string(c0.State), c0.Version, c0.OpenedAt, c0.UpdatedAt)
	if err != nil {
		return err
	}
	defer rows.Close()
	ids := make(map[string]int64, n)
	for rows.Next() {
		var id int64
		var r string
		if err := rows.Scan(&id, &r); err != nil {
			return err
		}
		ids[r] = id
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range cases {
		cases[i].ID = ids[cases[i].Reference]
	}
	return nil
}

func pgGrowTx(tx *gorm.DB, actor authz.Actor, gs []Growth, now time.Time) error {
	if len(gs) == 0 {
		return nil
	}
	stx, err := database.SQLTx(tx)
	if err != nil {
		return err
	}
	n := len(gs)
	ids, scores, texts := make([]int64, n), make([]float64, n), make([]string, n)
	entries := make([]Entry, n)
	for i, g := range gs {
		ids[i], scores[i], texts[i] = g.CaseID, g.RiskScore, g.SearchText
		entries[i] = Entry{CaseID: g.CaseID, At: now, ActorID: actorID(actor), Kind: "flag", Note: fmt.Sprintf("%d", g.Flags)}
	}
	_, err = stx.ExecContext(tx.Statement.Context, `UPDATE cases SET risk_score = u.risk_score, search_text = u.search_text, updated_at = $4
		FROM unnest($1::bigint[], $2::float8[], $3::text[]) AS u(id, risk_score, search_text) WHERE cases.id = u.id`, ids, scores, texts, now)
	if err != nil {
		return fmt.Errorf("grow cases: %w", err)
	}
	return addEntries(tx, entries)
}

// addEntries adds timeline entries.
func addEntries(tx *gorm.DB, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	if !database.IsPostgres(tx) {
		return tx.CreateInBatches(&es, 500).Error
	}
	stx, err := database.SQLTx(tx)
	if err != nil {
		return err
	}
	n := len(es)
	caseID, actor := make([]int64, n), make([]*int64, n)
	at := make([]time.Time, n)
	kind, event, from, to, note := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range es {
		caseID[i], at[i], actor[i], kind[i], event[i], from[i], to[i], note[i] = e.CaseID, e.At, e.ActorID, e.Kind, e.Event, e.FromState, e.ToState, e.Note
	}
	_, err = stx.ExecContext(tx.Statement.Context, `INSERT INTO case_events (case_id, at, actor_id, kind, event, from_state, to_state, note)
		SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
		caseID, at, actor, kind, event, from, to, note)
	if err != nil {
		return fmt.Errorf("add timeline entries: %w", err)
	}
	return nil
}
