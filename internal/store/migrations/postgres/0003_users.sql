-- PostgreSQL port of ../sqlite/0003_users.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- Users who sign in with an email and a password. Times are unix milliseconds, UTC.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE, -- normalized: trimmed, lower-case
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL,
    password_hash TEXT,                    -- $argon2id$v=19$m=…,t=…,p=…$salt$hash; NULL until set
    person_id     TEXT,                    -- the directory person this user is, once linked
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    disabled_at   BIGINT
);
CREATE INDEX users_by_person ON users (person_id);

-- Browser sessions of users (sessions of tokens stay in sessions).
CREATE TABLE user_sessions (
    hash       TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX user_sessions_by_user ON user_sessions (user_id);

-- One-time links with which a user sets a password (new users, forgotten passwords).
CREATE TABLE password_codes (
    hash       TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_codes_by_user ON password_codes (user_id);

-- Consecutive failed sign-ins per attempted email, known or not, keyed by a hash of it,
-- so the lockout behaves the same for every address and survives restarts.
CREATE TABLE sign_in_failures (
    email_hash   TEXT    PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX sign_in_failures_by_updated ON sign_in_failures (updated_at);
