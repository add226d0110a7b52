-- The event log: every change of state, appended in the transaction of the change.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT    NOT NULL,
    at          INTEGER NOT NULL, -- unix milliseconds, UTC
    incident_id TEXT,
    actor       TEXT,             -- JSON optimum.Actor
    incident    TEXT,             -- JSON snapshot of the incident after the change
    data        TEXT              -- JSON, per event type
);
CREATE INDEX events_by_incident ON events (incident_id, id);

-- Incidents: the document as the API shows it, plus the columns lists filter on.
CREATE TABLE incidents (
    id         TEXT    PRIMARY KEY,
    folio      TEXT    NOT NULL UNIQUE,
    status     TEXT    NOT NULL,
    priority   TEXT    NOT NULL,
    drill      INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    search     TEXT    NOT NULL, -- lower-cased title, description, services, causes, location
    doc        TEXT    NOT NULL  -- JSON incident.Incident
);
CREATE INDEX incidents_by_created ON incidents (created_at, id);
CREATE INDEX incidents_by_status ON incidents (status, created_at);

-- One row per year: the last folio number given. Updated in the declaring transaction,
-- so a rolled-back declaration leaves no gap.
CREATE TABLE folio_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
    scope       TEXT    NOT NULL, -- the actor id: keys of different callers never clash
    key         TEXT    NOT NULL,
    hash        TEXT    NOT NULL, -- of the normalized request
    incident_id TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE incident_acks (
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    person_id   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (incident_id, person_id)
);

-- API tokens; only a SHA-256 of the secret is kept.
CREATE TABLE tokens (
    id           TEXT    PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Browser sessions, created by signing in with a token or a one-time login link.
CREATE TABLE sessions (
    hash       TEXT    PRIMARY KEY,
    token_id   TEXT    NOT NULL REFERENCES tokens (id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

-- One-time login links printed on first start.
CREATE TABLE login_codes (
    hash       TEXT    PRIMARY KEY,
    token_id   TEXT    NOT NULL REFERENCES tokens (id),
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
