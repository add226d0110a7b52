-- Email is a channel (issue 17): a drill's snapshot of each person keeps whether they
-- had an email address, so the report can tell "not reached by email" from "no channel".
ALTER TABLE drill_run_targets ADD COLUMN has_email INTEGER NOT NULL DEFAULT 0;
