-- +goose Up
-- The dashboard's figures, kept current by the transactions that change
-- them, so that no request counts the cases or their events.

-- Cases per brand and state (the pipeline; the case list's tabs sum the
-- brands), replacing the per-state counts.
CREATE TABLE case_counts (
    brand_id bigint NOT NULL,
    state    text   NOT NULL,
    n        bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (brand_id, state)
);
INSERT INTO case_counts (brand_id, state, n) SELECT brand_id, state, count(*) FROM cases GROUP BY brand_id, state;
DROP TABLE case_state_counts;

-- What happened each calendar day (in the platform's zone), per brand and
-- for all brands (brand_id 0): flags received, cases opened, purchases,
-- verdicts, referrals, raids, closings by reason, and money in minor units.
-- A transaction appends a row and never updates one, so that concurrent
-- writers do not queue on a hot row; a periodic job rolls the new rows of
-- a day into one (rolled), so a read sums about one row per day.
CREATE TABLE daily_counts (
    id INTEGER PRIMARY KEY,
    metric   text   NOT NULL,
    brand_id bigint NOT NULL,
    day      date   NOT NULL,
    n        bigint NOT NULL,
    rolled   integer NOT NULL DEFAULT 0
);
CREATE INDEX daily_counts_read_idx ON daily_counts (brand_id, day, metric);
CREATE INDEX daily_counts_new_idx ON daily_counts (metric, brand_id, day) WHERE NOT rolled;

-- +goose Down
DROP TABLE daily_counts;
CREATE TABLE case_state_counts (
    state text   PRIMARY KEY,
    n     bigint NOT NULL DEFAULT 0
);
INSERT INTO case_state_counts (state, n) VALUES
    ('flagged', 0), ('purchasing', 0), ('authenticating', 0), ('confirmed', 0),
    ('referred', 0), ('litigating', 0), ('closed', 0);
UPDATE case_state_counts SET n = (SELECT COALESCE(sum(n), 0) FROM case_counts c WHERE c.state = case_state_counts.state);
DROP TABLE case_counts;
