-- PostgreSQL port of ../sqlite/0010_escalation.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), steps and counts stay INTEGER.
-- Escalation ladders and the state of each incident's escalation. Times are unix
-- milliseconds, UTC. Due work (a step, a reminder) is claimed with a lease
-- (lease_owner, lease_until) so two nodes never fire the same one and a dead node's
-- claim expires; the work itself is committed together with the row's new state.

-- Ladders as edited through the API; seeded from the configuration file at start.
CREATE TABLE ladders (
    id         TEXT    PRIMARY KEY,
    doc        TEXT    NOT NULL, -- JSON escalation.Ladder
    source     TEXT    NOT NULL, -- config or api
    updated_at BIGINT  NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

-- One row per escalated incident: where its ladder is and what is due next.
CREATE TABLE escalations (
    incident_id  TEXT    PRIMARY KEY REFERENCES incidents (id),
    ladder_id    TEXT    NOT NULL,
    ladder       TEXT    NOT NULL, -- JSON snapshot of the ladder when it started
    state        TEXT    NOT NULL, -- running, owned, exhausted, stopped
    step         INTEGER NOT NULL, -- index of the step paged last
    round        INTEGER NOT NULL, -- 0 the first time through the ladder, 1 the first repeat…
    step_at      BIGINT  NOT NULL, -- when that step was paged
    next_step_at BIGINT,          -- when the next step is paged unless owned; NULL: none
    ack_by       BIGINT  NOT NULL,
    resolve_by   BIGINT  NOT NULL,
    ack_sla      TEXT    NOT NULL, -- pending, met, breached
    resolve_sla  TEXT    NOT NULL, -- pending, met, breached
    due_at       BIGINT,          -- the earliest of next_step_at and pending SLA deadlines
    lease_owner  TEXT,
    lease_until  BIGINT,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX escalations_due ON escalations (due_at);

-- One row per person paged for an incident: why, and their reminder schedule.
CREATE TABLE escalation_pages (
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    person_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    step        INTEGER NOT NULL, -- the step that paged them, -1 for the audience
    round       INTEGER NOT NULL,
    reason      TEXT    NOT NULL, -- audience, ladder, manual, sla
    schedule    TEXT    NOT NULL, -- JSON []escalation.Reminder
    reminder    INTEGER NOT NULL, -- index of the next reminder to send
    paged_at    BIGINT  NOT NULL,
    next_at     BIGINT,          -- when the next reminder is due; NULL: none left
    acked_at    BIGINT,
    stopped_at  BIGINT,
    stop_reason TEXT    NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until BIGINT,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (incident_id, person_id)
);
CREATE INDEX escalation_pages_due ON escalation_pages (next_at);
