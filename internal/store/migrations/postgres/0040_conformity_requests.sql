-- PostgreSQL port of ../sqlite/0040_conformity_requests.sql: a conformity request is a row
-- of its own, its links are minted when the message is sent, and the stored copies of
-- links lose their token.
CREATE TABLE conformity_requests (
    id             TEXT    PRIMARY KEY, -- the message to the requester that asked for it
    incident_id    TEXT    NOT NULL REFERENCES incidents (id),
    requester_id   TEXT    NOT NULL,
    requester_name TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    closed_at      BIGINT  -- answered, replaced by a newer request, or timed out
);
CREATE INDEX conformity_requests_by_incident ON conformity_requests (incident_id, created_at);
CREATE INDEX conformity_requests_open ON conformity_requests (closed_at, expires_at);

ALTER TABLE conformity_links ADD COLUMN request_id TEXT REFERENCES conformity_requests (id);
