-- Signed webhook requests already processed: the same signature twice is a replay.
CREATE TABLE webhook_requests (
    hash        TEXT    PRIMARY KEY, -- SHA-256 of the signature and the URL
    received_at INTEGER NOT NULL
);
CREATE INDEX webhook_requests_by_time ON webhook_requests (received_at);
