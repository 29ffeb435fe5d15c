-- +goose Up
-- The civil claim against the seller: the court, the amount claimed, the
-- hearings, the outcome (a judgment or a settlement) and the payments
-- received, which make the recoveries ledger.
CREATE TABLE claims (
    id                integer PRIMARY KEY,
    case_id           integer     NOT NULL UNIQUE REFERENCES cases (id),
    court             text        NOT NULL,
    court_case_number text        NOT NULL DEFAULT '',
    filed_on          date        NOT NULL,
    basis             text        NOT NULL CHECK (basis IN ('agreement', 'goodwill', 'other')),
    basis_note        text        NOT NULL DEFAULT '',
    claim_minor       integer     NOT NULL CHECK (claim_minor > 0),
    outcome           text        NOT NULL DEFAULT '' CHECK (outcome IN ('', 'judgment', 'settlement')),
    outcome_minor     integer     NOT NULL DEFAULT 0 CHECK (outcome_minor >= 0),
    outcome_on        date,
    created_by        integer     NOT NULL REFERENCES users (id),
    created_at        datetime NOT NULL
);

CREATE TABLE hearings (
    id         integer PRIMARY KEY,
    claim_id   integer     NOT NULL REFERENCES claims (id),
    held_on    date        NOT NULL,
    note       text        NOT NULL DEFAULT '',
    created_by integer     NOT NULL REFERENCES users (id),
    created_at datetime NOT NULL
);
CREATE INDEX hearings_claim_idx ON hearings (claim_id, held_on);

CREATE TABLE payments (
    id           integer PRIMARY KEY,
    claim_id     integer     NOT NULL REFERENCES claims (id),
    case_id      integer     NOT NULL REFERENCES cases (id),
    amount_minor integer     NOT NULL CHECK (amount_minor > 0),
    received_on  date        NOT NULL,
    note         text        NOT NULL DEFAULT '',
    created_by   integer     NOT NULL REFERENCES users (id),
    created_at   datetime NOT NULL
);
CREATE INDEX payments_case_idx ON payments (case_id, received_on);
CREATE INDEX payments_received_idx ON payments (received_on);

-- +goose Down
DROP TABLE payments;
DROP TABLE hearings;
DROP TABLE claims;
