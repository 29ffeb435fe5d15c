-- +goose Up
-- A cluster is a connected component of the confirmed links between shops
-- (shop_links, typed in or confirmed from a suggestion): a seller network.
-- Each shop of one names it; a shop with no link is in none. It is kept
-- by the writes that add and remove links (shop.AddLinkTx, RemoveLink) —
-- joining, merging, and splitting when a removal cuts a component — so
-- reading a network is one indexed query, not a walk over the links.
CREATE TABLE clusters (
    id         integer PRIMARY KEY,
    created_at datetime    NOT NULL
);
-- No REFERENCES here: SQLite cannot drop a column that has one.
ALTER TABLE shops ADD COLUMN cluster_id integer;
CREATE INDEX shops_cluster_idx ON shops (cluster_id) WHERE cluster_id IS NOT NULL;

-- The components of the links there are: each named by its smallest shop.
CREATE TEMPORARY TABLE component AS
WITH RECURSIVE edge (a, b) AS (
    SELECT shop_a_id, shop_b_id FROM shop_links UNION SELECT shop_b_id, shop_a_id FROM shop_links
), reach (root, shop) AS (
    SELECT a, a FROM edge UNION SELECT r.root, e.b FROM reach r JOIN edge e ON e.a = r.shop
)
SELECT shop, min(root) AS root FROM reach GROUP BY shop;
INSERT INTO clusters (id, created_at) SELECT DISTINCT root, CURRENT_TIMESTAMP FROM component;
UPDATE shops SET cluster_id = (SELECT c.root FROM component c WHERE c.shop = shops.id) WHERE id IN (SELECT shop FROM component);
DROP TABLE component;

-- +goose Down
DROP INDEX shops_cluster_idx;
ALTER TABLE shops DROP COLUMN cluster_id;
DROP TABLE clusters;
