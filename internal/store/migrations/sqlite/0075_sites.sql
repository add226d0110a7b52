-- Sites: the buildings and campuses people work at (contacts/sites.go). A person has
-- several, in order, the first being their primary site; a team may be located at some.
CREATE TABLE sites (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    city       TEXT    NOT NULL DEFAULT '',
    time_zone  TEXT    NOT NULL DEFAULT '',
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE person_sites (
    person_id TEXT    NOT NULL REFERENCES people (id) DEFERRABLE INITIALLY DEFERRED,
    site_id   TEXT    NOT NULL REFERENCES sites (id) DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL, -- 0 is the primary site
    PRIMARY KEY (person_id, site_id)
);
CREATE INDEX person_sites_by_site ON person_sites (site_id);

CREATE TABLE team_sites (
    team_id TEXT NOT NULL REFERENCES teams (id) DEFERRABLE INITIALLY DEFERRED,
    site_id TEXT NOT NULL REFERENCES sites (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (team_id, site_id)
);
