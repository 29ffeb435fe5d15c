-- +goose Up
-- A case's deadlines, open and done, for its page: the done ones too are
-- read by case, and the partial index of the open ones does not hold them.
CREATE INDEX deadlines_case_idx ON deadlines (case_id, done_at);

-- +goose Down
DROP INDEX deadlines_case_idx;
