-- +goose Up
CREATE TABLE shops (
    id               integer PRIMARY KEY,
    platform         text        NOT NULL,
    platform_shop_id text        NOT NULL,
    name             text        NOT NULL DEFAULT '',
    registered_owner text        NOT NULL DEFAULT '',
    created_at       datetime NOT NULL,
    updated_at       datetime NOT NULL
);
CREATE UNIQUE INDEX shops_platform_key ON shops (platform, platform_shop_id);

-- A link is stored once, with the smaller shop id first.
CREATE TABLE shop_links (
    id         integer PRIMARY KEY,
    shop_a_id  integer     NOT NULL REFERENCES shops (id),
    shop_b_id  integer     NOT NULL REFERENCES shops (id),
    kind       text        NOT NULL CHECK (kind IN ('same_controller', 'same_phone', 'same_address', 'same_payout_account', 'other')),
    note       text        NOT NULL DEFAULT '',
    created_by integer REFERENCES users (id),
    created_at datetime NOT NULL,
    CHECK (shop_a_id < shop_b_id)
);
CREATE UNIQUE INDEX shop_links_pair_key ON shop_links (shop_a_id, shop_b_id, kind);
CREATE INDEX shop_links_b_idx ON shop_links (shop_b_id);

CREATE TABLE listings (
    id                  integer PRIMARY KEY,
    shop_id             integer     NOT NULL REFERENCES shops (id),
    platform_listing_id text        NOT NULL,
    url                 text        NOT NULL DEFAULT '',
    title               text        NOT NULL DEFAULT '',
    price_minor         bigint,
    currency            text        NOT NULL DEFAULT '',
    brand_id            integer     REFERENCES brands (id),
    created_at          datetime NOT NULL,
    updated_at          datetime NOT NULL
);
CREATE UNIQUE INDEX listings_shop_key ON listings (shop_id, platform_listing_id);

CREATE TABLE cases (
    id                    integer PRIMARY KEY,
    reference             text        NOT NULL,
    shop_id               integer     NOT NULL REFERENCES shops (id),
    brand_id              integer     NOT NULL REFERENCES brands (id),
    state                 text        NOT NULL CHECK (state IN ('flagged', 'purchasing', 'authenticating', 'confirmed', 'referred', 'litigating', 'closed')),
    close_reason          text        NOT NULL DEFAULT '',
    priority              integer     NOT NULL DEFAULT 0,
    risk_score            real NOT NULL DEFAULT 0,
    investigator_id       integer     REFERENCES users (id),
    estimated_value_minor bigint      NOT NULL DEFAULT 0,
    search_text           text        NOT NULL DEFAULT '',
    version               integer     NOT NULL DEFAULT 1,
    opened_at             datetime NOT NULL,
    updated_at            datetime NOT NULL,
    closed_at             datetime
);
CREATE UNIQUE INDEX cases_reference_key ON cases (reference);
-- At most one open case per shop and brand: the grouping rule, enforced.
CREATE UNIQUE INDEX cases_open_shop_brand_key ON cases (shop_id, brand_id) WHERE state <> 'closed';
CREATE INDEX cases_state_updated_idx ON cases (state, updated_at DESC, id DESC);
CREATE INDEX cases_state_brand_updated_idx ON cases (state, brand_id, updated_at DESC, id DESC);
CREATE INDEX cases_brand_updated_idx ON cases (brand_id, updated_at DESC, id DESC);
CREATE INDEX cases_updated_idx ON cases (updated_at DESC, id DESC);
CREATE INDEX cases_investigator_idx ON cases (investigator_id, updated_at DESC, id DESC);
CREATE INDEX cases_shop_idx ON cases (shop_id);
-- Full-text search: an FTS5 trigram index over cases.search_text, kept in
-- step by triggers (PostgreSQL uses a pg_trgm index on the same column).
CREATE VIRTUAL TABLE case_search USING fts5(search_text, content='cases', content_rowid='id', tokenize='trigram');
-- +goose StatementBegin
CREATE TRIGGER cases_search_ai AFTER INSERT ON cases BEGIN
    INSERT INTO case_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER cases_search_au AFTER UPDATE OF search_text ON cases BEGIN
    INSERT INTO case_search (case_search, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO case_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

CREATE TABLE flags (
    id          integer PRIMARY KEY,
    source      text        NOT NULL,
    external_id text        NOT NULL,
    rule        text        NOT NULL DEFAULT '',
    score       real NOT NULL,
    shop_id     integer     NOT NULL REFERENCES shops (id),
    listing_id  integer     REFERENCES listings (id),
    brand_id    integer     NOT NULL REFERENCES brands (id),
    detected_at datetime NOT NULL,
    payload     text       NOT NULL,
    case_id     integer     REFERENCES cases (id),
    status      text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'attached', 'dismissed')),
    dismiss_reason text     NOT NULL DEFAULT '',
    received_at datetime NOT NULL
);
CREATE UNIQUE INDEX flags_source_external_key ON flags (source, external_id);
CREATE INDEX flags_inbox_idx ON flags (score DESC, id DESC) WHERE status = 'open';
CREATE INDEX flags_case_idx ON flags (case_id);
CREATE INDEX flags_shop_idx ON flags (shop_id);

-- The timeline of a case: transitions, comments, assignments.
CREATE TABLE case_events (
    id         integer PRIMARY KEY,
    case_id    integer     NOT NULL REFERENCES cases (id),
    at         datetime NOT NULL,
    actor_id   integer     REFERENCES users (id),
    kind       text        NOT NULL CHECK (kind IN ('transition', 'comment', 'assignment', 'flag')),
    event      text        NOT NULL DEFAULT '',
    from_state text        NOT NULL DEFAULT '',
    to_state   text        NOT NULL DEFAULT '',
    note       text        NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case_idx ON case_events (case_id, id);

-- Cases per state, kept current by every write that moves a case, so the
-- list's counters never scan the cases.
CREATE TABLE case_state_counts (
    state text   PRIMARY KEY,
    n     bigint NOT NULL DEFAULT 0
);
INSERT INTO case_state_counts (state, n) VALUES
    ('flagged', 0), ('purchasing', 0), ('authenticating', 0), ('confirmed', 0),
    ('referred', 0), ('litigating', 0), ('closed', 0);

-- Named counters (case reference numbers per year).
CREATE TABLE counters (
    name  text   PRIMARY KEY,
    value bigint NOT NULL
);

CREATE TABLE api_tokens (
    id           integer PRIMARY KEY,
    name         text        NOT NULL,
    token_hash   text        NOT NULL,
    prefix       text        NOT NULL,
    created_by   integer     REFERENCES users (id),
    created_at   datetime NOT NULL,
    last_used_at datetime,
    revoked_at   datetime
);
CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);

CREATE TABLE idempotency_keys (
    token_id     integer     NOT NULL REFERENCES api_tokens (id),
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    status       integer     NOT NULL,
    response     text        NOT NULL,
    created_at   datetime NOT NULL,
    PRIMARY KEY (token_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE api_tokens;
DROP TABLE counters;
DROP TABLE case_state_counts;
DROP TABLE case_events;
DROP TABLE flags;
DROP TABLE case_search;
DROP TABLE cases;
DROP TABLE listings;
DROP TABLE shop_links;
DROP TABLE shops;
