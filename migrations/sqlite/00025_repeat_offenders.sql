-- +goose Up
-- A flag whose shop shares identifiers with a shop already found selling
-- fakes (a counterfeit verdict in force, or a case closed enforced or
-- recovered) is a repeat offender's: it names that earlier case, and the
-- case it opens or joins is marked, whatever the flag's score. (No
-- REFERENCES: SQLite cannot drop a column that has one.)
ALTER TABLE flags ADD COLUMN repeat_of_case_id integer;
ALTER TABLE cases ADD COLUMN repeat_offender boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE cases DROP COLUMN repeat_offender;
ALTER TABLE flags DROP COLUMN repeat_of_case_id;
