-- +goose Up
-- Enforcement: the police referral of a confirmed case, its raids with
-- what they seized, and the evidence bundles built for the police or a
-- court.
CREATE TABLE referrals (
    id                 integer PRIMARY KEY,
    case_id            integer     NOT NULL UNIQUE REFERENCES cases (id),
    bureau             text        NOT NULL,
    district           text        NOT NULL DEFAULT '',
    contact            text        NOT NULL DEFAULT '',
    referred_on        date        NOT NULL,
    letter_number      text        NOT NULL DEFAULT '',
    police_case_number text        NOT NULL DEFAULT '',
    status             text        NOT NULL CHECK (status IN ('referred', 'accepted', 'declined', 'raided', 'prosecuted')),
    version            integer     NOT NULL DEFAULT 1,
    created_by         integer     NOT NULL REFERENCES users (id),
    created_at         datetime NOT NULL,
    updated_at         datetime NOT NULL
);

CREATE TABLE raids (
    id                    integer PRIMARY KEY,
    referral_id           integer     NOT NULL REFERENCES referrals (id),
    case_id               integer     NOT NULL REFERENCES cases (id),
    raided_on             date        NOT NULL,
    place                 text        NOT NULL,
    arrests               integer     NOT NULL DEFAULT 0 CHECK (arrests >= 0),
    estimated_sales_minor integer     NOT NULL DEFAULT 0 CHECK (estimated_sales_minor >= 0),
    notes                 text        NOT NULL DEFAULT '',
    created_by            integer     NOT NULL REFERENCES users (id),
    created_at            datetime NOT NULL
);
CREATE INDEX raids_case_idx ON raids (case_id);

CREATE TABLE seizures (
    raid_id          integer NOT NULL REFERENCES raids (id),
    line             integer NOT NULL,
    description      text    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_value_minor integer NOT NULL CHECK (unit_value_minor >= 0),
    PRIMARY KEY (raid_id, line)
);

CREATE TABLE bundles (
    id           integer PRIMARY KEY,
    case_id      integer     NOT NULL REFERENCES cases (id),
    requested_by integer     NOT NULL REFERENCES users (id),
    lang         text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('queued', 'building', 'done', 'failed')),
    done         integer     NOT NULL DEFAULT 0,
    total        integer     NOT NULL DEFAULT 0,
    blob_key     text        NOT NULL DEFAULT '',
    sha256       text        NOT NULL DEFAULT '',
    size         integer     NOT NULL DEFAULT 0,
    error        text        NOT NULL DEFAULT '',
    created_at   datetime NOT NULL,
    finished_at  datetime
);
CREATE INDEX bundles_case_idx ON bundles (case_id, id);

-- +goose Down
DROP TABLE bundles;
DROP TABLE seizures;
DROP TABLE raids;
DROP TABLE referrals;
