-- +goose Up
-- A purchase cancelled after the order but before delivery has no item to
-- log in, so its reimbursement is settled on the refund instead: staff
-- record what the shop or platform gave back to the buyer, and the
-- volunteer is owed the rest (amount + fee - refunded).
ALTER TABLE reimbursements ADD COLUMN refunded_minor integer NOT NULL DEFAULT 0 CHECK (refunded_minor >= 0);

-- +goose Down
ALTER TABLE reimbursements DROP COLUMN refunded_minor;
