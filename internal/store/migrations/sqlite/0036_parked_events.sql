-- A consumer of the event log that fails on one event no longer retries it forever while
-- every later event waits: the cursor row counts the attempts at the event it is stuck on
-- (failing_event) and when to try again (retry_at); after the configured number of
-- attempts the event is parked here with its reason and the cursor moves past it.
ALTER TABLE consumer_cursors ADD COLUMN failing_event INTEGER;
ALTER TABLE consumer_cursors ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consumer_cursors ADD COLUMN retry_at INTEGER;
ALTER TABLE consumer_cursors ADD COLUMN last_error TEXT;

CREATE TABLE parked_events (
    consumer    TEXT    NOT NULL,
    event_id    INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    incident_id TEXT,
    reason      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    parked_at   INTEGER NOT NULL, -- unix milliseconds, UTC
    dismissed_at INTEGER,      -- set when an operator has dealt with it: it no longer degrades /readyz
    PRIMARY KEY (consumer, event_id)
);
