-- PostgreSQL port of ../sqlite/0008_phone_verifications.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- One-time codes sent by SMS to prove a phone is the person's.
CREATE TABLE phone_verifications (
    person_id  TEXT    PRIMARY KEY REFERENCES people (id),
    phone      TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);
