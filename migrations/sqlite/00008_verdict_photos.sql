-- +goose Up
-- Photos of a verdict's checklist lines (each an evidence file).
CREATE TABLE verdict_check_photos (
    verdict_id  integer NOT NULL REFERENCES verdicts (id),
    item        text    NOT NULL,
    evidence_id integer NOT NULL REFERENCES evidence (id),
    PRIMARY KEY (verdict_id, item, evidence_id)
);
-- +goose StatementBegin
CREATE TRIGGER verdict_check_photos_no_update BEFORE UPDATE ON verdict_check_photos
BEGIN
    SELECT RAISE(ABORT, 'verdict_check_photos is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER verdict_check_photos_no_delete BEFORE DELETE ON verdict_check_photos
BEGIN
    SELECT RAISE(ABORT, 'verdict_check_photos is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE verdict_check_photos;
