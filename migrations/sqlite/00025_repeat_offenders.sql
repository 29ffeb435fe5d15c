-- +goose Up
-- A flag whose shop shares identifiers with a shop already found selling
-- fakes (a counterfeit verdict in force, or a case closed enforced or
-- recovered) is a repeat offender's: it names that earlier case, and the
-- case it opens or joins is marked, whatever the flag's score. (No
-- REFERENCES: SQLite cannot drop a column that has one.)
ALTER TABLE flags ADD COLUMN repeat_of_case_id integer;
ALTER TABLE cases ADD COLUMN repeat_offender boolean NOT NULL DEFAULT false;
-- The shops found selling fakes, read for a batch's shops without reading
-- their other cases: closed enforced or recovered, or with a counterfeit
-- verdict.
CREATE INDEX cases_penalised_shop_idx ON cases (shop_id, id) WHERE close_reason IN ('enforced', 'recovered');
CREATE INDEX verdicts_counterfeit_case_idx ON verdicts (case_id, id) WHERE result = 'counterfeit';

-- +goose Down
DROP INDEX verdicts_counterfeit_case_idx;
DROP INDEX cases_penalised_shop_idx;
ALTER TABLE cases DROP COLUMN repeat_offender;
ALTER TABLE flags DROP COLUMN repeat_of_case_id;
