-- The incident worked after its declaration (issue 7); the same tables as SQLite's 0011,
-- times as BIGINT unix milliseconds. The similar-incident search keeps the same
-- normalized text (incident.Terms does the language work in Go) in a 'simple' tsvector,
-- weighted like SQLite's bm25 columns: title A, services and causes B, description and
-- solution C (ranked with weights 1 : 0.5 : 0.25, the 4 : 2 : 1 of SQLite's).

CREATE TABLE incident_messages (
    id          TEXT   PRIMARY KEY,
    incident_id TEXT   NOT NULL REFERENCES incidents (id),
    kind        TEXT   NOT NULL, -- folio, question, conformity
    person_id   TEXT   NOT NULL,
    person_name TEXT   NOT NULL,
    language    TEXT   NOT NULL,
    text        TEXT   NOT NULL,
    url         TEXT   NOT NULL DEFAULT '',
    at          BIGINT NOT NULL
);
CREATE INDEX incident_messages_by_incident ON incident_messages (incident_id, at);

CREATE TABLE conformity_links (
    hash           TEXT   PRIMARY KEY,
    incident_id    TEXT   NOT NULL REFERENCES incidents (id),
    requester_id   TEXT   NOT NULL,
    requester_name TEXT   NOT NULL,
    language       TEXT   NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX conformity_links_by_incident ON conformity_links (incident_id, created_at);
CREATE INDEX conformity_links_open ON conformity_links (used_at, expires_at);

CREATE TABLE incident_templates (
    id         TEXT   PRIMARY KEY,
    doc        TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE incident_search (
    incident_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    services    TEXT NOT NULL,
    causes      TEXT NOT NULL,
    solution    TEXT NOT NULL,
    terms       tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', services), 'B') ||
        setweight(to_tsvector('simple', causes), 'B') ||
        setweight(to_tsvector('simple', body), 'C') ||
        setweight(to_tsvector('simple', solution), 'C')) STORED
);
CREATE INDEX incident_search_by_incident ON incident_search (incident_id);
CREATE INDEX incident_search_terms ON incident_search USING GIN (terms);
