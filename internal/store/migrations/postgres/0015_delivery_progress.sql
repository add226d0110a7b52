-- PostgreSQL port of ../sqlite/0015_delivery_progress.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit).
-- Incidents whose deliveries changed since the last progress event. A status change
-- marks its incident here (in its own transaction) instead of appending one event per
-- change: at 10,000 recipients that was 40,000 stream frames for every live board. A
-- publisher turns the marks into one incident.deliveries_progress event per incident, at
-- most once a second.
CREATE TABLE delivery_progress (
    subject TEXT    PRIMARY KEY, -- the incident id
    since   BIGINT  NOT NULL
);
