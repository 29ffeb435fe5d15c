-- +goose Up
-- River runs a job at least once: a job whose writes committed may run
-- again. Each effect of a job carries a key so that the rerun finds it.
-- A notification is keyed by the job that wrote it and its recipient
-- (rows from before this have no key); its e-mail is marked sent once the
-- SMTP server has taken it.
ALTER TABLE notifications ADD COLUMN job_id bigint;
ALTER TABLE notifications ADD COLUMN mailed_at timestamptz;
CREATE UNIQUE INDEX notifications_job_idx ON notifications (job_id, user_id);

-- +goose Down
DROP INDEX notifications_job_idx;
ALTER TABLE notifications DROP COLUMN mailed_at;
ALTER TABLE notifications DROP COLUMN job_id;
