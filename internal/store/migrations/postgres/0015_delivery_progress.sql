-- Incidents whose deliveries changed since the last progress event (same as SQLite's
-- 0015): a publisher turns the marks into one incident.deliveries_progress event per
-- incident, at most once a second; every node may run it, each mark is taken once.
CREATE TABLE delivery_progress (
    subject TEXT   PRIMARY KEY, -- the incident id
    since   BIGINT NOT NULL
);
