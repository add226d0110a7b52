-- PostgreSQL port of ../sqlite/0004_deliveries.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- Deliveries: one message to one person on one channel, the dispatcher's queue. Written in
-- the transaction that plans them; claimed under a lease so each is sent by one node at a
-- time and a dead node's are sent again.
CREATE TABLE deliveries (
    id              TEXT    PRIMARY KEY,
    subject         TEXT    NOT NULL, -- the incident id
    recipient       TEXT    NOT NULL, -- the person id
    channel         TEXT    NOT NULL,
    address         TEXT    NOT NULL, -- E.164 phone, or push subscription JSON
    language        TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    topic           TEXT    NOT NULL,
    ttl_seconds     INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    provider_id     TEXT    NOT NULL DEFAULT '',
    provider_status TEXT    NOT NULL DEFAULT '',
    error           TEXT    NOT NULL DEFAULT '',
    due_at          BIGINT  NOT NULL,
    deadline        BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    created_at      BIGINT  NOT NULL,
    sent_at         BIGINT,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (status, due_at);
CREATE INDEX deliveries_by_subject ON deliveries (subject, recipient);
CREATE INDEX deliveries_by_provider_id ON deliveries (provider_id);

-- Every attempt and its outcome: nothing reaches a provider twice without a reason here.
CREATE TABLE delivery_attempts (
    delivery_id TEXT    NOT NULL REFERENCES deliveries (id),
    attempt     INTEGER NOT NULL,
    started_at  BIGINT  NOT NULL,
    ended_at    BIGINT,
    outcome     TEXT    NOT NULL, -- sending, sent, retry, failed, resent
    reason      TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, attempt)
);

-- One-tap acknowledgement links: per person and incident, unguessable, expiring.
CREATE TABLE ack_links (
    hash        TEXT    PRIMARY KEY,
    incident_id TEXT    NOT NULL,
    person_id   TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX ack_links_by_person ON ack_links (person_id, incident_id);

-- Where each consumer of the event log is: the id of the last event it processed.
CREATE TABLE consumer_cursors (
    consumer TEXT    PRIMARY KEY,
    cursor   BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
