-- Asynchronous email bounces (RFC 3464 delivery status notifications, broadcast/email/
-- bounce.go), piped by the mail server to POST /api/v1/email/bounces: one row per
-- delivery, recipient and status. A permanent one (5.x.x) failed its delivery and flags
-- the person's address on readiness while it is still their address.
CREATE TABLE email_bounces (
    delivery_id TEXT    NOT NULL,
    person_id   TEXT    NOT NULL DEFAULT '',
    recipient   TEXT    NOT NULL,
    status      TEXT    NOT NULL, -- the enhanced status code, e.g. 5.1.1 (or the action)
    action      TEXT    NOT NULL DEFAULT '',
    diagnostic  TEXT    NOT NULL DEFAULT '',
    permanent   INTEGER NOT NULL,
    received_at INTEGER  NOT NULL,
    PRIMARY KEY (delivery_id, recipient, status)
);
CREATE INDEX email_bounces_person ON email_bounces (person_id, received_at);
