-- +goose Up
-- How long cases have waited in their state, for the dashboard's ageing
-- figures, without reading every case per request.

-- When the case entered its state: its last transition, or its opening.
ALTER TABLE cases ADD COLUMN state_since datetime NOT NULL DEFAULT '1970-01-01 00:00:00+00:00';
UPDATE cases SET state_since = COALESCE(
    (SELECT max(e.at) FROM case_events e WHERE e.case_id = cases.id AND e.kind = 'transition'), opened_at);

-- The oldest open cases of a state, of all brands or of one.
CREATE INDEX cases_state_since_idx ON cases (state, state_since, id) WHERE state <> 'closed';
CREATE INDEX cases_brand_state_since_idx ON cases (brand_id, state, state_since, id) WHERE state <> 'closed';

-- The open cases per state by the UTC day they entered it (metric
-- in_<state>) and by that day's month (inm_<state>, on its first day),
-- kept by casework.FireTx through stats.AgeTx: the histogram the median
-- and 90th percentile are read from. Days are written as the driver
-- writes a time.Time at midnight UTC.
INSERT INTO daily_counts (metric, brand_id, day, n, rolled)
SELECT 'in_' || state, b, date(state_since) || ' 00:00:00+00:00', count(*), 1
FROM (SELECT state, state_since, brand_id AS b FROM cases WHERE state <> 'closed'
      UNION ALL SELECT state, state_since, 0 FROM cases WHERE state <> 'closed')
GROUP BY 1, 2, 3;
INSERT INTO daily_counts (metric, brand_id, day, n, rolled)
SELECT 'inm_' || state, b, strftime('%Y-%m-01', state_since) || ' 00:00:00+00:00', count(*), 1
FROM (SELECT state, state_since, brand_id AS b FROM cases WHERE state <> 'closed'
      UNION ALL SELECT state, state_since, 0 FROM cases WHERE state <> 'closed')
GROUP BY 1, 2, 3;

-- A figure's days are read by brand and metric.
DROP INDEX daily_counts_read_idx;
CREATE INDEX daily_counts_read_idx ON daily_counts (brand_id, metric, day, n);

-- The overdue steps of a brand, counted from an index of its open steps
-- alone (a case never changes brand), and of all brands without reading
-- the rows: kind and party ride in the indexes.
ALTER TABLE deadlines ADD COLUMN brand_id bigint NOT NULL DEFAULT 0;
UPDATE deadlines SET brand_id = (SELECT brand_id FROM cases WHERE cases.id = deadlines.case_id);
DROP INDEX deadlines_open_due_idx;
CREATE INDEX deadlines_open_due_idx ON deadlines (due_at, kind, party) WHERE done_at IS NULL;
CREATE INDEX deadlines_open_brand_due_idx ON deadlines (brand_id, due_at, kind, party) WHERE done_at IS NULL;

-- A brand's verdict steps done lately, for its turnaround.
CREATE INDEX deadlines_done_brand_idx ON deadlines (brand_id, kind, done_at) WHERE done_at IS NOT NULL;

-- "My cases": the open cases of an investigator, counted (to the queue's
-- cap) without walking their closed ones through cases_investigator_idx.
CREATE INDEX cases_open_investigator_idx ON cases (investigator_id) WHERE state <> 'closed';

-- +goose Down
DROP INDEX cases_open_investigator_idx;
DROP INDEX deadlines_done_brand_idx;
DROP INDEX deadlines_open_brand_due_idx;
DROP INDEX deadlines_open_due_idx;
CREATE INDEX deadlines_open_due_idx ON deadlines (due_at) WHERE done_at IS NULL;
ALTER TABLE deadlines DROP COLUMN brand_id;
DROP INDEX daily_counts_read_idx;
CREATE INDEX daily_counts_read_idx ON daily_counts (brand_id, day, metric);
DELETE FROM daily_counts WHERE metric LIKE 'in\_%' ESCAPE '\' OR metric LIKE 'inm\_%' ESCAPE '\';
DROP INDEX cases_brand_state_since_idx;
DROP INDEX cases_state_since_idx;
ALTER TABLE cases DROP COLUMN state_since;
