-- +goose Up
-- Derivatives of evidence photos, never changed or deleted (see the
-- PostgreSQL migration of the same number).
CREATE TABLE evidence_derivatives (
    id           integer PRIMARY KEY,
    evidence_id  integer  NOT NULL REFERENCES evidence (id),
    transform    text     NOT NULL,
    blob_key     text     NOT NULL UNIQUE,
    sha256       text     NOT NULL,
    size         integer  NOT NULL,
    content_type text     NOT NULL,
    width        integer  NOT NULL,
    height       integer  NOT NULL,
    created_at   datetime NOT NULL,
    UNIQUE (evidence_id, transform)
);
-- +goose StatementBegin
CREATE TRIGGER evidence_derivatives_no_update BEFORE UPDATE ON evidence_derivatives
BEGIN
    SELECT RAISE(ABORT, 'evidence_derivatives is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER evidence_derivatives_no_delete BEFORE DELETE ON evidence_derivatives
BEGIN
    SELECT RAISE(ABORT, 'evidence_derivatives is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE evidence_derivatives;
