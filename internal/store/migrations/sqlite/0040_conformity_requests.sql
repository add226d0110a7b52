-- Conformity links were minted when the solution was sent to the requester and stored in
-- full in the requester's messages and in deliveries: whoever could read either table (a
-- responder looking at the requester's messages, a database reader) could accept the
-- solution in the requester's name. Now the message keeps a slot that is filled when it is
-- sent (incident.ConformitySlot), and a conformity request is a row of its own: every link
-- minted for it (one per channel and attempt) works until one of them is used, the request
-- is replaced by a newer one, or it expires.
CREATE TABLE conformity_requests (
    id             TEXT    PRIMARY KEY, -- the message to the requester that asked for it
    incident_id    TEXT    NOT NULL REFERENCES incidents (id),
    requester_id   TEXT    NOT NULL,
    requester_name TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    closed_at      INTEGER -- answered, replaced by a newer request, or timed out
);
CREATE INDEX conformity_requests_by_incident ON conformity_requests (incident_id, created_at);
CREATE INDEX conformity_requests_open ON conformity_requests (closed_at, expires_at);

ALTER TABLE conformity_links ADD COLUMN request_id TEXT REFERENCES conformity_requests (id);
