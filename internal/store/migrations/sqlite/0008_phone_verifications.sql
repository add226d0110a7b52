-- One-time codes sent by SMS to prove a phone is the person's.
CREATE TABLE phone_verifications (
    person_id  TEXT    PRIMARY KEY REFERENCES people (id),
    phone      TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
