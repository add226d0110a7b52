-- PostgreSQL port of ../sqlite/0005_push.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- Browsers subscribed to web push, one row per endpoint. The endpoint is the browser's
-- address at its push service and a bearer capability; p256dh and auth are the keys
-- payloads are encrypted for (RFC 8291). A browser that subscribes again for another
-- person moves to that person. Rows that answer 404 or 410 are deleted. Times are unix
-- milliseconds, UTC.
CREATE TABLE push_subscriptions (
    id              TEXT    PRIMARY KEY,
    person_id       TEXT    NOT NULL REFERENCES people (id),
    endpoint        TEXT    NOT NULL UNIQUE,
    p256dh          TEXT    NOT NULL, -- unpadded base64url, 65-byte P-256 point
    auth            TEXT    NOT NULL, -- unpadded base64url, 16 bytes
    user_agent      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL,
    last_success_at BIGINT,
    last_failure_at BIGINT
);
CREATE INDEX push_subscriptions_by_person ON push_subscriptions (person_id, created_at);
