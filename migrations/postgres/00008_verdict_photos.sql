-- +goose Up
-- Photos of a verdict's checklist lines (each an evidence file).
CREATE TABLE verdict_check_photos (
    verdict_id  bigint NOT NULL REFERENCES verdicts (id),
    item        text   NOT NULL,
    evidence_id bigint NOT NULL REFERENCES evidence (id),
    PRIMARY KEY (verdict_id, item, evidence_id)
);
CREATE TRIGGER verdict_check_photos_no_update_delete BEFORE UPDATE OR DELETE ON verdict_check_photos
    FOR EACH ROW EXECUTE FUNCTION verdicts_immutable();

-- +goose Down
DROP TABLE verdict_check_photos;
