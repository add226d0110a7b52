-- PostgreSQL port of ../sqlite/0014_drills.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit); flags stay INTEGER 0/1 as in SQLite.
-- Drill plans: the rehearsal of a crisis, run on demand or on a cron schedule.
CREATE TABLE drill_plans (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    doc        TEXT    NOT NULL, -- JSON drill.Plan
    schedule   TEXT    NOT NULL DEFAULT '', -- cron spec with seconds, '' for on demand only
    next_at    BIGINT,          -- the next scheduled firing, unix ms UTC; NULL when none
    deleted_at BIGINT,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE INDEX drill_plans_due ON drill_plans (next_at);

-- Drill runs. A scheduled firing is claimed by inserting its (plan, scheduled time): the
-- unique key makes it fire once however many nodes tick. A run being started holds a
-- lease, so a node that dies half-way is finished by another with the same incident
-- (the declaration's idempotency key is the run id).
CREATE TABLE drill_runs (
    id            TEXT    PRIMARY KEY,
    plan_id       TEXT    NOT NULL REFERENCES drill_plans (id),
    status        TEXT    NOT NULL, -- starting, running, ended, cancelled, skipped, failed
    trigger_kind  TEXT    NOT NULL, -- manual, schedule
    scheduled_for BIGINT,          -- the cron time of a scheduled run
    incident_id   TEXT    NOT NULL DEFAULT '',
    folio         TEXT    NOT NULL DEFAULT '',
    reason        TEXT    NOT NULL DEFAULT '',
    doc           TEXT    NOT NULL, -- JSON drill.Run (with the plan as it was)
    lease_owner   TEXT,
    lease_until   BIGINT,
    created_at    BIGINT  NOT NULL,
    started_at    BIGINT,
    ends_at       BIGINT,
    ended_at      BIGINT
);
CREATE UNIQUE INDEX drill_runs_firing ON drill_runs (plan_id, scheduled_for);
CREATE UNIQUE INDEX drill_runs_one_active ON drill_runs (plan_id) WHERE status IN ('starting', 'running');
CREATE INDEX drill_runs_by_status ON drill_runs (status, ends_at);
CREATE INDEX drill_runs_by_incident ON drill_runs (incident_id);
CREATE INDEX drill_runs_by_plan ON drill_runs (plan_id, created_at);

-- Who a run targeted, as the directory was when it started: the report's denominator.
CREATE TABLE drill_run_targets (
    run_id        TEXT    NOT NULL REFERENCES drill_runs (id),
    person_id     TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    memberships   TEXT    NOT NULL, -- JSON [{team, role}] within the drill's teams
    has_phone     INTEGER NOT NULL,
    sms_opted_out INTEGER NOT NULL,
    push          INTEGER NOT NULL, -- subscribed browsers
    verified      INTEGER NOT NULL, -- a verified phone or a subscribed browser
    PRIMARY KEY (run_id, person_id)
);
