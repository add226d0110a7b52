-- PostgreSQL port of ../sqlite/0002_contacts.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- The directory: people, teams, memberships and the catalogue of services.
CREATE TABLE teams (
    id         TEXT    PRIMARY KEY,
    name_es    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT  NOT NULL
);

CREATE TABLE people (
    id                TEXT    PRIMARY KEY,
    external_id       TEXT    NOT NULL DEFAULT '',
    name              TEXT    NOT NULL,
    email             TEXT    NOT NULL UNIQUE,
    phone             TEXT    NOT NULL DEFAULT '',
    language          TEXT    NOT NULL,
    time_zone         TEXT    NOT NULL DEFAULT '',
    manager_id        TEXT    REFERENCES people (id) DEFERRABLE INITIALLY DEFERRED,
    active            INTEGER NOT NULL DEFAULT 1,
    phone_verified_at BIGINT,
    sms_opted_out_at  BIGINT,
    last_reached_at   BIGINT,
    created_at        BIGINT  NOT NULL,
    updated_at        BIGINT  NOT NULL
);
CREATE UNIQUE INDEX people_by_external_id ON people (external_id) WHERE external_id <> '';
CREATE INDEX people_by_name ON people (name, id);

CREATE TABLE team_members (
    team_id   TEXT NOT NULL REFERENCES teams (id),
    person_id TEXT NOT NULL REFERENCES people (id) DEFERRABLE INITIALLY DEFERRED,
    role      TEXT NOT NULL,
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX team_members_by_person ON team_members (person_id);

CREATE TABLE services (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    owner_team TEXT    NOT NULL REFERENCES teams (id),
    active     INTEGER NOT NULL DEFAULT 1
);

-- Who each incident was for, resolved from its audience when it was declared.
CREATE TABLE incident_recipients (
    incident_id TEXT NOT NULL REFERENCES incidents (id),
    person_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    language    TEXT NOT NULL,
    teams       TEXT NOT NULL, -- JSON array of team ids
    channels    TEXT NOT NULL, -- JSON array of the channels usable at declaration
    PRIMARY KEY (incident_id, person_id)
);

-- Reporters may follow the incidents they declared: list them by reporter.
ALTER TABLE incidents ADD COLUMN reporter_id TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_by_reporter ON incidents (reporter_id, created_at);
