-- PostgreSQL port of ../sqlite/0006_webhooks.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- Signed webhook requests already processed: the same signature twice is a replay.
CREATE TABLE webhook_requests (
    hash        TEXT    PRIMARY KEY, -- SHA-256 of the signature and the URL
    received_at BIGINT  NOT NULL
);
CREATE INDEX webhook_requests_by_time ON webhook_requests (received_at);
