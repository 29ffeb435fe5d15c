-- +goose Up
-- The staff's "unassigned" work queue: the open cases nobody works, newest
-- change first, read from an index of those cases only.
CREATE INDEX cases_unassigned_idx ON cases (updated_at DESC, id DESC) WHERE investigator_id IS NULL AND state <> 'closed';

-- +goose Down
DROP INDEX cases_unassigned_idx;
