-- +goose Up
-- Brand authentication: how long a brand has to authenticate an item, and
-- the verdicts (immutable; a later one may supersede an earlier one, and
-- both stay on record) with their defect checklists.
ALTER TABLE brands ADD COLUMN authentication_days integer NOT NULL DEFAULT 7 CHECK (authentication_days > 0);

CREATE TABLE verdicts (
    id                 integer PRIMARY KEY,
    case_id            integer     NOT NULL REFERENCES cases (id),
    item_id            integer     NOT NULL REFERENCES items (id),
    brand_id           integer     NOT NULL REFERENCES brands (id),
    result             text        NOT NULL CHECK (result IN ('counterfeit', 'genuine', 'inconclusive')),
    authenticator      text        NOT NULL,
    notes              text        NOT NULL DEFAULT '',
    report_evidence_id integer     REFERENCES evidence (id),
    signed_name        text        NOT NULL,
    signed_by          integer     NOT NULL REFERENCES users (id),
    signed_at          datetime    NOT NULL,
    supersedes_id      integer     UNIQUE REFERENCES verdicts (id),
    supersede_reason   text        NOT NULL DEFAULT ''
);
CREATE INDEX verdicts_case_idx ON verdicts (case_id, id);

CREATE TABLE verdict_checks (
    verdict_id integer NOT NULL REFERENCES verdicts (id),
    item       text    NOT NULL,
    outcome    text    NOT NULL CHECK (outcome IN ('pass', 'fail', 'na')),
    note       text    NOT NULL DEFAULT '',
    PRIMARY KEY (verdict_id, item)
);

-- +goose StatementBegin
CREATE TRIGGER verdicts_no_update BEFORE UPDATE ON verdicts
BEGIN
    SELECT RAISE(ABORT, 'verdicts is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER verdicts_no_delete BEFORE DELETE ON verdicts
BEGIN
    SELECT RAISE(ABORT, 'verdicts is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER verdict_checks_no_update BEFORE UPDATE ON verdict_checks
BEGIN
    SELECT RAISE(ABORT, 'verdict_checks is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER verdict_checks_no_delete BEFORE DELETE ON verdict_checks
BEGIN
    SELECT RAISE(ABORT, 'verdict_checks is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE verdict_checks;
DROP TABLE verdicts;
ALTER TABLE brands DROP COLUMN authentication_days;
