-- +goose Up
-- Flags and listings arrive ten thousand at a time. A foreign key checks
-- each new row on its own (a query and a row lock per reference: four per
-- flag), which more than doubled the cost of storing a batch of flags
-- (COPY of 10,000 flags: 344 ms with the keys, 137 ms without; listings
-- 137 ms against 36 ms). Their references are now checked once per
-- statement instead, against the distinct ids of all the rows it wrote,
-- by the triggers below: the same rule, enforced by the database for every
-- writer, at a cost that grows with the shops and cases of a batch rather
-- than with its rows.
--
-- A foreign key also stops the referenced row from being deleted. Shops,
-- listings, brands and cases are never deleted (no path of the application
-- deletes one; a case is closed, not removed): a trigger on each refuses
-- any DELETE, so a reference once checked stays good.
--
-- SQLite keeps its foreign keys: it has no statement triggers, and its
-- per-row checks are cheap in-process lookups.
ALTER TABLE flags
    DROP CONSTRAINT flags_shop_id_fkey,
    DROP CONSTRAINT flags_listing_id_fkey,
    DROP CONSTRAINT flags_brand_id_fkey,
    DROP CONSTRAINT flags_case_id_fkey;
ALTER TABLE listings
    DROP CONSTRAINT listings_shop_id_fkey,
    DROP CONSTRAINT listings_brand_id_fkey;

-- +goose StatementBegin
-- references_exist raises a foreign-key violation naming the first of ids
-- (distinct, without NULLs) that is not an id of parent.
CREATE FUNCTION references_exist(child text, col text, parent regclass, ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    IF ids IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('SELECT u.id FROM unnest($1) AS u(id) WHERE NOT EXISTS (SELECT 1 FROM %s p WHERE p.id = u.id) LIMIT 1', parent)
        INTO missing USING ids;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates its reference to %: %=% does not exist', child, parent, col, missing
            USING ERRCODE = 'foreign_key_violation', TABLE = child, COLUMN = col;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION flags_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM references_exist('flags', 'shop_id', 'shops', (SELECT array_agg(DISTINCT shop_id) FROM new_rows));
    PERFORM references_exist('flags', 'listing_id', 'listings',
        (SELECT array_agg(DISTINCT listing_id) FROM new_rows WHERE listing_id IS NOT NULL));
    PERFORM references_exist('flags', 'brand_id', 'brands', (SELECT array_agg(DISTINCT brand_id) FROM new_rows));
    PERFORM references_exist('flags', 'case_id', 'cases',
        (SELECT array_agg(DISTINCT case_id) FROM new_rows WHERE case_id IS NOT NULL));
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION listings_references_exist() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM references_exist('listings', 'shop_id', 'shops', (SELECT array_agg(DISTINCT shop_id) FROM new_rows));
    PERFORM references_exist('listings', 'brand_id', 'brands',
        (SELECT array_agg(DISTINCT brand_id) FROM new_rows WHERE brand_id IS NOT NULL));
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER flags_references_on_insert AFTER INSERT ON flags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION flags_references_exist();
CREATE TRIGGER flags_references_on_update AFTER UPDATE ON flags
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION flags_references_exist();
CREATE TRIGGER listings_references_on_insert AFTER INSERT ON listings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_references_exist();
CREATE TRIGGER listings_references_on_update AFTER UPDATE ON listings
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION listings_references_exist();

-- +goose StatementBegin
CREATE FUNCTION never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are never deleted', TG_TABLE_NAME USING ERRCODE = 'restrict_violation', TABLE = TG_TABLE_NAME;
END $$;
-- +goose StatementEnd

CREATE TRIGGER shops_never_deleted BEFORE DELETE ON shops FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
CREATE TRIGGER listings_never_deleted BEFORE DELETE ON listings FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
CREATE TRIGGER brands_never_deleted BEFORE DELETE ON brands FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();
CREATE TRIGGER cases_never_deleted BEFORE DELETE ON cases FOR EACH STATEMENT EXECUTE FUNCTION never_deleted();

-- +goose Down
DROP TRIGGER cases_never_deleted ON cases;
DROP TRIGGER brands_never_deleted ON brands;
DROP TRIGGER listings_never_deleted ON listings;
DROP TRIGGER shops_never_deleted ON shops;
DROP FUNCTION never_deleted();
DROP TRIGGER listings_references_on_update ON listings;
DROP TRIGGER listings_references_on_insert ON listings;
DROP TRIGGER flags_references_on_update ON flags;
DROP TRIGGER flags_references_on_insert ON flags;
DROP FUNCTION listings_references_exist();
DROP FUNCTION flags_references_exist();
DROP FUNCTION references_exist(text, text, regclass, bigint[]);
ALTER TABLE listings
    ADD CONSTRAINT listings_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES shops (id),
    ADD CONSTRAINT listings_brand_id_fkey FOREIGN KEY (brand_id) REFERENCES brands (id);
ALTER TABLE flags
    ADD CONSTRAINT flags_shop_id_fkey FOREIGN KEY (shop_id) REFERENCES shops (id),
    ADD CONSTRAINT flags_listing_id_fkey FOREIGN KEY (listing_id) REFERENCES listings (id),
    ADD CONSTRAINT flags_brand_id_fkey FOREIGN KEY (brand_id) REFERENCES brands (id),
    ADD CONSTRAINT flags_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id);
