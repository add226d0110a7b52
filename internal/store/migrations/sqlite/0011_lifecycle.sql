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
    at          INTEGER NOT NULL
);
CREATE INDEX incident_messages_by_incident ON incident_messages (incident_id, at);

-- One-tap conformity links: unguessable (only a SHA-256 is kept), single use, expiring.
CREATE TABLE conformity_links (
    hash           TEXT    PRIMARY KEY,
    incident_id    TEXT    NOT NULL REFERENCES incidents (id),
    requester_id   TEXT    NOT NULL,
    requester_name TEXT    NOT NULL,
    language       TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    used_at        INTEGER -- answered, or superseded by a newer link
);
CREATE INDEX conformity_links_by_incident ON conformity_links (incident_id, created_at);
CREATE INDEX conformity_links_open ON conformity_links (used_at, expires_at);

-- Scenario templates edited or added by managers (the built-in ones live in the code).
CREATE TABLE incident_templates (
    id         TEXT    PRIMARY KEY,
    doc        TEXT    NOT NULL, -- JSON incident.Template
    updated_at INTEGER NOT NULL
);

-- Similar-incident search. The text is normalized in Go (incident.Terms: lower case, no
-- accents, no stop words, stemmed, synonyms folded), so FTS5 only tokenizes on spaces
-- and ranks with bm25. PostgreSQL keeps the same text in a 'simple' tsvector.
CREATE VIRTUAL TABLE incident_search USING fts5(
    incident_id UNINDEXED, title, body, services, causes, solution,
    tokenize = 'unicode61'
);
