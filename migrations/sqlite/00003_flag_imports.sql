-- +goose Up
-- A CSV of flags uploaded by staff: previewed, then imported by a
-- background job that reports its progress here. The file itself is kept
-- in the database so that any replica's worker can read it.
CREATE TABLE flag_imports (
    id            integer PRIMARY KEY,
    created_by    integer     NOT NULL REFERENCES users (id),
    filename      text        NOT NULL,
    content       blob        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('previewed', 'queued', 'running', 'done', 'failed')),
    rows_total    integer     NOT NULL DEFAULT 0,
    rows_done     integer     NOT NULL DEFAULT 0,
    created       integer     NOT NULL DEFAULT 0,
    duplicates    integer     NOT NULL DEFAULT 0,
    rejected      integer     NOT NULL DEFAULT 0,
    cases_opened  integer     NOT NULL DEFAULT 0,
    cases_updated integer     NOT NULL DEFAULT 0,
    rejections    text        NOT NULL DEFAULT '[]',
    error         text        NOT NULL DEFAULT '',
    created_at    datetime NOT NULL,
    started_at    datetime,
    finished_at   datetime
);
CREATE INDEX flag_imports_created_idx ON flag_imports (created_at DESC);

-- +goose Down
DROP TABLE flag_imports;
