-- +goose Up
-- What a bundle may hold: redacted (the default, for the police: no buyer
-- identity) or unredacted (the files as received and the full audit
-- events, for a court order). Bundles made before this were unredacted in
-- content but are counted as the default, as the referral guard did.
ALTER TABLE bundles ADD COLUMN kind text NOT NULL DEFAULT 'redacted' CHECK (kind IN ('redacted', 'unredacted'));

-- +goose Down
ALTER TABLE bundles DROP COLUMN kind;
