-- +goose Up
CREATE TABLE users (
    id              integer  PRIMARY KEY,
    email           text     NOT NULL,
    name            text     NOT NULL,
    role            text     NOT NULL CHECK (role IN ('admin', 'staff', 'volunteer', 'brand')),
    password_hash   text     NOT NULL,
    locale          text     NOT NULL DEFAULT '',
    session_version integer  NOT NULL DEFAULT 1,
    disabled_at     datetime,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE brands (
    id            integer  PRIMARY KEY,
    name          text     NOT NULL,
    rights_holder text     NOT NULL DEFAULT '',
    contact       text     NOT NULL DEFAULT '',
    created_at    datetime NOT NULL
);
CREATE UNIQUE INDEX brands_name_key ON brands (lower(name));

CREATE TABLE brand_members (
    user_id  integer NOT NULL REFERENCES users (id),
    brand_id integer NOT NULL REFERENCES brands (id),
    PRIMARY KEY (user_id, brand_id)
);
CREATE INDEX brand_members_brand_idx ON brand_members (brand_id);

-- Sessions in the layout github.com/alexedwards/scs/sqlite3store expects.
CREATE TABLE sessions (
    token  text PRIMARY KEY,
    data   blob NOT NULL,
    expiry real NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

CREATE TABLE login_failures (
    id        integer  PRIMARY KEY,
    key       text     NOT NULL,
    failed_at datetime NOT NULL
);
CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at);

CREATE TABLE audit_events (
    seq         integer  PRIMARY KEY,
    at          datetime NOT NULL,
    actor_id    integer,
    actor_role  text     NOT NULL,
    action      text     NOT NULL,
    object_type text     NOT NULL,
    object_id   text     NOT NULL,
    outcome     text     NOT NULL,
    client_ip   text     NOT NULL,
    request_id  text     NOT NULL,
    detail      text     NOT NULL,
    prev_hash   text     NOT NULL,
    hash        text     NOT NULL
);
CREATE INDEX audit_events_object_idx ON audit_events (object_type, object_id, seq);

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_events;
DROP TABLE login_failures;
DROP TABLE sessions;
DROP TABLE brand_members;
DROP TABLE brands;
DROP TABLE users;
