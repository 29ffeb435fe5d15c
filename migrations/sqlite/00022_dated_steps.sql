-- +goose Up
-- The case list filters on the day of a step of the road (a verdict, a
-- referral, a closing, an order, a raid, a claim, its outcome, a payment)
-- so that each dashboard figure opens the cases it counts; these indexes
-- find a period's steps without reading every row.
-- Not the openings (every case has one, and ingestion writes them).
CREATE INDEX case_events_transition_at_idx ON case_events (event, at, case_id) WHERE kind = 'transition' AND event <> 'open';
CREATE INDEX purchases_order_date_idx ON purchases (order_date, case_id) WHERE order_date IS NOT NULL;
CREATE INDEX raids_raided_on_idx ON raids (raided_on, case_id);
CREATE INDEX claims_filed_on_idx ON claims (filed_on, case_id);
CREATE INDEX claims_outcome_on_idx ON claims (outcome_on, case_id) WHERE outcome <> '';

-- +goose Down
DROP INDEX claims_outcome_on_idx;
DROP INDEX claims_filed_on_idx;
DROP INDEX raids_raided_on_idx;
DROP INDEX purchases_order_date_idx;
DROP INDEX case_events_transition_at_idx;
