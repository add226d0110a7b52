-- PostgreSQL port of ../sqlite/0011_lifecycle.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit).
-- The incident worked after its declaration (issue 7): what the requester was told, the
-- conformity links, scenario templates and the similar-incident search index.

-- Messages to the requester: the folio, questions, the solution with its conformity link.
CREATE TABLE incident_messages (
    id          TEXT    PRIMARY KEY,
    incident_id TEXT    NOT NULL REFERENCES incidents (id),
    kind        TEXT    NOT NULL, -- folio, question, conformity
    person_id   TEXT    NOT NULL, -- the requester (the actor who declared)
    person_name TEXT    NOT NULL,
    language    TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    url         TEXT    NOT NULL DEFAULT '',
    at          BIGINT  NOT NULL
);
CREATE INDEX incident_messages_by_incident ON incident_messages (incident_id, at);

-- One-tap conformity links: unguessable (only a SHA-256 is kept), single use, expiring.
CREATE TABLE conformity_links (
    hash           TEXT    PRIMARY KEY,
    incident_id    TEXT    NOT NULL REFERENCES incidents (id),
    requester_id   TEXT    NOT NULL,
    requester_name TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    used_at        BIGINT  -- answered, or superseded by a newer link
);
CREATE INDEX conformity_links_by_incident ON conformity_links (incident_id, created_at);
CREATE INDEX conformity_links_open ON conformity_links (used_at, expires_at);

-- Scenario templates edited or added by managers (the built-in ones live in the code).
CREATE TABLE incident_templates (
    id         TEXT    PRIMARY KEY,
    doc        TEXT    NOT NULL, -- JSON incident.Template
    updated_at BIGINT  NOT NULL
);

-- Similar-incident search. The text is normalized in Go (incident.Terms: lower case, no
-- accents, no stop words, stemmed, synonyms folded), so PostgreSQL only splits it into
-- words: a 'simple' tsvector, weighted like SQLite's bm25 columns (title A, services and
-- causes B, description and solution C), kept by the database from the same columns the
-- store writes on both backends.
CREATE TABLE incident_search (
    incident_id TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    services    TEXT NOT NULL,
    causes      TEXT NOT NULL,
    solution    TEXT NOT NULL,
    document    tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', services), 'B') ||
        setweight(to_tsvector('simple', causes), 'B') ||
        setweight(to_tsvector('simple', body), 'C') ||
        setweight(to_tsvector('simple', solution), 'C')
    ) STORED
);
CREATE INDEX incident_search_by_incident ON incident_search (incident_id);
CREATE INDEX incident_search_document ON incident_search USING GIN (document);
