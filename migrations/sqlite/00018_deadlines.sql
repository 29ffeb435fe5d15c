-- +goose Up
-- Deadlines: every step that waits on someone (a volunteer's order, a
-- brand's verdict, the police's answer, a reimbursement's payment) has a
-- due time, stored when the step starts and closed when it is done, so
-- that "overdue" reads an index of the open steps only. stage is how far
-- the periodic sweep has gone with it: 1 reminded, 2 escalated to the
-- case's investigator, 3 escalated to the admins; it only grows, which is
-- what makes each message go out once.
CREATE TABLE deadlines (
    id         integer PRIMARY KEY,
    case_id    integer     NOT NULL REFERENCES cases (id),
    kind       text        NOT NULL CHECK (kind IN ('order', 'delivery', 'dispatch', 'acceptance', 'verdict',
                               'police_answer', 'referral_quiet', 'hearing', 'reimbursement_approval', 'reimbursement_payment')),
    subject_id integer     NOT NULL,
    party      text        NOT NULL CHECK (party IN ('volunteer', 'brand', 'staff')),
    party_id   integer     NOT NULL,
    started_at datetime    NOT NULL,
    due_at     datetime    NOT NULL,
    done_at    datetime,
    stage      integer     NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 3),
    staged_at  datetime
);
-- One open deadline per step.
CREATE UNIQUE INDEX deadlines_open_step_idx ON deadlines (kind, subject_id) WHERE done_at IS NULL;
-- The sweep and every "overdue" count read the open steps by due time.
CREATE INDEX deadlines_open_due_idx ON deadlines (due_at) WHERE done_at IS NULL;
CREATE INDEX deadlines_open_case_idx ON deadlines (case_id) WHERE done_at IS NULL;
CREATE INDEX deadlines_open_party_idx ON deadlines (party, party_id, due_at) WHERE done_at IS NULL;

-- How long each kind of step may take, in days; admins edit them.
-- remind_before is how long before the due time the one who must act is
-- reminded; escalate_after how long after it the admins are told.
CREATE TABLE deadline_settings (
    kind text    PRIMARY KEY,
    days integer NOT NULL CHECK (days BETWEEN 1 AND 365)
);
INSERT INTO deadline_settings (kind, days) VALUES
    ('delivery', 10), ('dispatch', 3), ('acceptance', 5), ('police_answer', 14), ('referral_quiet', 30),
    ('reimbursement_approval', 5), ('reimbursement_payment', 7), ('remind_before', 2), ('escalate_after', 3);

-- A brand's own time to log a sent item in (none: the global setting).
ALTER TABLE brands ADD COLUMN acceptance_days integer CHECK (acceptance_days BETWEEN 1 AND 365);

-- +goose Down
ALTER TABLE brands DROP COLUMN acceptance_days;
DROP TABLE deadline_settings;
DROP TABLE deadlines;
