-- +goose Up
-- Test purchases: the volunteer pool and its buyer personas, purchases
-- ordered by staff, the purchased items and their custody chain, evidence
-- files (kept in blob storage; these rows describe them), reimbursements
-- and in-app notifications.
CREATE TABLE volunteers (
    user_id    integer      PRIMARY KEY REFERENCES users (id),
    pseudonym  text        NOT NULL UNIQUE,
    region     text        NOT NULL DEFAULT '',
    paused_at  datetime,
    created_at datetime NOT NULL
);

CREATE TABLE personas (
    id                 integer PRIMARY KEY,
    volunteer_id       integer      NOT NULL REFERENCES volunteers (user_id),
    platform_account   text        NOT NULL,
    address_alias      text        NOT NULL,
    phone              text        NOT NULL,
    payment_instrument text        NOT NULL,
    burned_at          datetime,
    burned_reason      text        NOT NULL DEFAULT '',
    created_at         datetime NOT NULL
);
CREATE INDEX personas_volunteer_idx ON personas (volunteer_id);

CREATE TABLE purchases (
    id                integer PRIMARY KEY,
    case_id           integer      NOT NULL REFERENCES cases (id),
    shop_id           integer      NOT NULL REFERENCES shops (id),
    volunteer_id      integer      NOT NULL REFERENCES volunteers (user_id),
    persona_id        integer      NOT NULL REFERENCES personas (id),
    ordered_by        integer      NOT NULL REFERENCES users (id),
    status            text        NOT NULL CHECK (status IN ('assigned', 'ordered', 'received', 'dispatched', 'cancelled')),
    budget_minor      integer      NOT NULL CHECK (budget_minor > 0),
    currency          text        NOT NULL,
    instructions      text        NOT NULL DEFAULT '',
    ship_to           text        NOT NULL DEFAULT '',
    due_on            date        NOT NULL,
    order_number      text        NOT NULL DEFAULT '',
    amount_paid_minor integer,
    fee_minor         integer,
    order_date        date,
    delivered_on      date,
    seal_number       text        NOT NULL DEFAULT '',
    cancel_reason     text        NOT NULL DEFAULT '',
    version           integer     NOT NULL DEFAULT 1,
    created_at        datetime NOT NULL,
    updated_at        datetime NOT NULL
);
CREATE INDEX purchases_case_idx ON purchases (case_id);
-- One purchase under way per case; a new one may follow a finished or
-- cancelled one.
CREATE UNIQUE INDEX purchases_one_live_idx ON purchases (case_id) WHERE status IN ('assigned', 'ordered', 'received');
-- The rotation rules look back over a volunteer's and a persona's purchases.
CREATE INDEX purchases_volunteer_idx ON purchases (volunteer_id, created_at);
CREATE INDEX purchases_persona_idx ON purchases (persona_id, created_at);
CREATE INDEX purchases_shop_idx ON purchases (shop_id, created_at);

-- A purchased item. holder_* is who has it now; pending_* is set between a
-- release and the receiver's acceptance (the item is in transit).
CREATE TABLE items (
    id           integer PRIMARY KEY,
    purchase_id  integer      NOT NULL UNIQUE REFERENCES purchases (id),
    case_id      integer      NOT NULL REFERENCES cases (id),
    number       text        NOT NULL UNIQUE,
    holder_kind  text        NOT NULL CHECK (holder_kind IN ('volunteer', 'staff', 'brand', 'police')),
    holder_id    integer      NOT NULL,
    pending_kind text        CHECK (pending_kind IN ('volunteer', 'staff', 'brand', 'police')),
    pending_id   integer,
    custody_seq  integer     NOT NULL,
    created_at   datetime NOT NULL
);
CREATE INDEX items_case_idx ON items (case_id);
CREATE INDEX items_pending_idx ON items (pending_kind, pending_id) WHERE pending_kind IS NOT NULL;
CREATE INDEX items_holder_idx ON items (holder_kind, holder_id);

CREATE TABLE custody_events (
    id              integer PRIMARY KEY,
    item_id         integer      NOT NULL REFERENCES items (id),
    seq             integer     NOT NULL,
    step            text        NOT NULL CHECK (step IN ('receive', 'release', 'accept')),
    from_kind       text        NOT NULL DEFAULT '',
    from_id         integer,
    to_kind         text        NOT NULL,
    to_id           integer      NOT NULL,
    at              datetime NOT NULL,
    place           text        NOT NULL DEFAULT '',
    method          text        NOT NULL CHECK (method IN ('hand', 'courier')),
    carrier         text        NOT NULL DEFAULT '',
    tracking_number text        NOT NULL DEFAULT '',
    seal_number     text        NOT NULL DEFAULT '',
    seal_intact     boolean,
    condition       text        NOT NULL DEFAULT '',
    actor_id        integer      NOT NULL REFERENCES users (id),
    UNIQUE (item_id, seq)
);

CREATE TABLE evidence (
    id               integer PRIMARY KEY,
    case_id          integer      NOT NULL REFERENCES cases (id),
    purchase_id      integer      REFERENCES purchases (id),
    custody_event_id integer      REFERENCES custody_events (id),
    kind             text        NOT NULL CHECK (kind IN ('receipt', 'screenshot', 'parcel_photo', 'item_photo', 'report', 'police_document')),
    blob_key         text        NOT NULL UNIQUE,
    sha256           text        NOT NULL,
    size             integer      NOT NULL,
    content_type     text        NOT NULL,
    original_name    text        NOT NULL DEFAULT '',
    visibility       text        NOT NULL CHECK (visibility IN ('staff', 'brand')),
    uploaded_by      integer      NOT NULL REFERENCES users (id),
    uploaded_at      datetime NOT NULL,
    withdrawn_at     datetime,
    withdrawn_by     integer      REFERENCES users (id),
    withdrawn_reason text        NOT NULL DEFAULT '',
    checked_at       datetime,
    fault_at         datetime
);
CREATE INDEX evidence_case_idx ON evidence (case_id, id);
CREATE INDEX evidence_purchase_idx ON evidence (purchase_id);

-- Custody events are never changed; evidence is never deleted and only
-- its withdrawal and integrity-check columns change.
-- +goose StatementBegin
CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only: DELETE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is never deleted: withdraw it');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER evidence_no_change BEFORE UPDATE ON evidence
WHEN NEW.case_id IS NOT OLD.case_id OR NEW.purchase_id IS NOT OLD.purchase_id
    OR NEW.custody_event_id IS NOT OLD.custody_event_id OR NEW.kind IS NOT OLD.kind
    OR NEW.blob_key IS NOT OLD.blob_key OR NEW.sha256 IS NOT OLD.sha256 OR NEW.size IS NOT OLD.size
    OR NEW.content_type IS NOT OLD.content_type OR NEW.original_name IS NOT OLD.original_name
    OR NEW.visibility IS NOT OLD.visibility OR NEW.uploaded_by IS NOT OLD.uploaded_by
    OR NEW.uploaded_at IS NOT OLD.uploaded_at
    OR (OLD.withdrawn_at IS NOT NULL AND (NEW.withdrawn_at IS NOT OLD.withdrawn_at
        OR NEW.withdrawn_by IS NOT OLD.withdrawn_by OR NEW.withdrawn_reason IS NOT OLD.withdrawn_reason))
BEGIN
    SELECT RAISE(ABORT, 'evidence is immutable: only a withdrawal may be recorded');
END;
-- +goose StatementEnd

CREATE TABLE reimbursements (
    id           integer PRIMARY KEY,
    purchase_id  integer      NOT NULL UNIQUE REFERENCES purchases (id),
    volunteer_id integer      NOT NULL REFERENCES volunteers (user_id),
    amount_minor integer      NOT NULL,
    fee_minor    integer      NOT NULL DEFAULT 0,
    currency     text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('new', 'approved', 'paid')),
    created_at   datetime NOT NULL,
    approved_by  integer      REFERENCES users (id),
    approved_at  datetime,
    paid_by      integer      REFERENCES users (id),
    paid_at      datetime
);
CREATE INDEX reimbursements_volunteer_idx ON reimbursements (volunteer_id, id);

CREATE TABLE notifications (
    id         integer PRIMARY KEY,
    user_id    integer      NOT NULL REFERENCES users (id),
    kind       text        NOT NULL,
    subject    text        NOT NULL DEFAULT '',
    link       text        NOT NULL DEFAULT '',
    created_at datetime NOT NULL,
    read_at    datetime
);
CREATE INDEX notifications_user_idx ON notifications (user_id, id);
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
DROP TABLE reimbursements;
DROP TABLE evidence;
DROP TABLE custody_events;
DROP TABLE items;
DROP TABLE purchases;
DROP TABLE personas;
DROP TABLE volunteers;
