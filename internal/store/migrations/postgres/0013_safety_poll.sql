-- PostgreSQL port of ../sqlite/0013_safety_poll.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit).
-- Safety polls ("1 = estoy a salvo, 2 = necesito ayuda"): each person's latest answer
-- per incident. Every answer is also an incident.safety_answered event.
CREATE TABLE safety_answers (
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    person_id   TEXT    NOT NULL,
    answer      TEXT    NOT NULL, -- safe, help_needed
    channel     TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
    PRIMARY KEY (incident_id, person_id)
);
