-- +goose Up
-- A buyer's pseudonym on one case. Brands and the papers that leave the
-- platform name a buyer by it: stable within a case, different across
-- cases, so that two cases' papers cannot tell the same person bought
-- both times. Staff still see who it was (volunteer_id).
CREATE TABLE case_buyers (
    case_id      integer  NOT NULL REFERENCES cases (id),
    volunteer_id integer  NOT NULL REFERENCES users (id),
    pseudonym    text     NOT NULL,
    created_at   datetime NOT NULL,
    PRIMARY KEY (case_id, volunteer_id),
    UNIQUE (case_id, pseudonym)
);
-- The buyers of purchases ordered before this table existed.
INSERT INTO case_buyers (case_id, volunteer_id, pseudonym, created_at)
SELECT case_id, volunteer_id, 'Buyer B-' || upper(hex(randomblob(3))), CURRENT_TIMESTAMP
FROM (SELECT DISTINCT case_id, volunteer_id FROM purchases);

-- +goose Down
DROP TABLE case_buyers;
