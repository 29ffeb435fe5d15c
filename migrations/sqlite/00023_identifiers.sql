-- +goose Up
-- What the risk systems know of each shop — phones, ID documents, payout
-- accounts, addresses, e-mails, devices, listing images — kept only as a
-- keyed hash of the normalised value (HMAC-SHA256, hex; the key is not in
-- the database) and a masked form for staff. An image hash is the
-- perceptual hash's 16 hex digits: not personal, and compared by Hamming
-- distance through its four 16-bit bands.
CREATE TABLE shop_identifiers (
    id         integer PRIMARY KEY,
    shop_id    integer     NOT NULL REFERENCES shops (id),
    kind       text        NOT NULL CHECK (kind IN ('phone', 'id_document', 'payout_account', 'return_address',
                               'warehouse_address', 'email', 'device', 'image_hash', 'other')),
    digest     text        NOT NULL,
    masked     text        NOT NULL,
    first_seen datetime    NOT NULL
);
CREATE UNIQUE INDEX shop_identifiers_key ON shop_identifiers (shop_id, kind, digest);
CREATE INDEX shop_identifiers_digest_idx ON shop_identifiers (digest, shop_id) WHERE kind <> 'image_hash';

CREATE TABLE shop_image_bands (
    band          integer  NOT NULL CHECK (band BETWEEN 0 AND 3),
    bits          integer  NOT NULL CHECK (bits BETWEEN 0 AND 65535),
    identifier_id integer  NOT NULL REFERENCES shop_identifiers (id),
    PRIMARY KEY (band, bits, identifier_id)
);

-- Two shops that share identifiers: a link suggested to staff, who confirm
-- it (it becomes a shop link) or reject it. The evidence is the pairs of
-- identifiers that matched; a rejected suggestion comes back only with
-- evidence it did not have.
CREATE TABLE link_suggestions (
    id         integer PRIMARY KEY,
    shop_a_id  integer     NOT NULL REFERENCES shops (id),
    shop_b_id  integer     NOT NULL REFERENCES shops (id),
    status     text        NOT NULL DEFAULT 'suggested' CHECK (status IN ('suggested', 'confirmed', 'rejected')),
    note       text        NOT NULL DEFAULT '',
    decided_by integer     REFERENCES users (id),
    decided_at datetime,
    created_at datetime    NOT NULL,
    updated_at datetime    NOT NULL,
    CHECK (shop_a_id < shop_b_id)
);
CREATE UNIQUE INDEX link_suggestions_pair_key ON link_suggestions (shop_a_id, shop_b_id);
CREATE INDEX link_suggestions_b_idx ON link_suggestions (shop_b_id);

CREATE TABLE link_evidence (
    suggestion_id   integer     NOT NULL REFERENCES link_suggestions (id),
    identifier_a_id integer     NOT NULL REFERENCES shop_identifiers (id),
    identifier_b_id integer     NOT NULL REFERENCES shop_identifiers (id),
    created_at      datetime    NOT NULL,
    PRIMARY KEY (suggestion_id, identifier_a_id, identifier_b_id)
);

-- +goose Down
DROP TABLE link_evidence;
DROP TABLE link_suggestions;
DROP TABLE shop_image_bands;
DROP TABLE shop_identifiers;
