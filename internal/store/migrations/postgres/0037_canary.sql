-- PostgreSQL port of ../sqlite/0037_canary.sql (times and ids in BIGINT).
-- Canary runs: the scheduled end-to-end test alerts and how they went. One row per
-- scheduled time (slot): the node that inserts it runs it, so several nodes run each
-- canary once. An incident is a canary when a run names it here (and its document says
-- "canary": true); it is also a drill, so whatever leaves drills out leaves it out.
CREATE TABLE canary_runs (
    id           TEXT    PRIMARY KEY,
    slot         BIGINT NOT NULL UNIQUE, -- the scheduled time (unix ms), or the request time of a manual run
    owner        TEXT    NOT NULL,        -- the node running it
    manual       INTEGER NOT NULL DEFAULT 0, -- 1: asked for by a manager, not scheduled
    incident_id  TEXT,
    status       TEXT    NOT NULL,        -- running, passed, failed
    reason       TEXT    NOT NULL DEFAULT '',
    started_at   BIGINT NOT NULL,
    accepted_ms  BIGINT,                 -- declaration to the last provider acceptance
    delivered_ms BIGINT,                 -- declaration to the last delivery report
    finished_at  BIGINT,
    paged_incident_id TEXT,               -- the alert to the continuity team when it failed
    deliveries   TEXT    NOT NULL DEFAULT '[]' -- JSON: each message's channel, status, timings, error
);
CREATE INDEX canary_runs_by_start ON canary_runs (started_at);
CREATE INDEX canary_runs_by_incident ON canary_runs (incident_id);
