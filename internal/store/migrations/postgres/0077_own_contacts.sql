-- Contacts people keep themselves ("Mi perfil", docs/sites.md): a second phone (one
-- active person per number, like the first), an email to be alerted at besides the
-- directory's, and the order in which they want to be reached (a JSON list of channel
-- names, '' for the default order).
ALTER TABLE people ADD COLUMN phone2 TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN phone2_verified_at BIGINT;
ALTER TABLE people ADD COLUMN contact_email TEXT NOT NULL DEFAULT '';
ALTER TABLE people ADD COLUMN channel_order TEXT NOT NULL DEFAULT '';
CREATE INDEX people_active_phone2 ON people (phone2) WHERE active = 1 AND phone2 <> '';

-- Links sent by SMS asking a person to confirm their phone still reaches them (the
-- readiness action "reconfirm"). Found by the hash of the token; one use.
CREATE TABLE phone_confirm_links (
    hash       TEXT    PRIMARY KEY,
    person_id  TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at    BIGINT,
    used_at    BIGINT
);
CREATE INDEX phone_confirm_links_by_person ON phone_confirm_links (person_id);
