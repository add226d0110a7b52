-- Single sign-on (OpenID Connect). A user may sign in through identity providers; each
-- link is the provider's id in the config and the subject ("sub") it gives the user,
-- which never changes even when their email does.
CREATE TABLE user_identities (
    provider   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    email      TEXT    NOT NULL, -- the email the provider gave at the last sign-in
    created_at INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (provider, subject)
);
CREATE INDEX user_identities_by_user ON user_identities (user_id);

-- Sign-ins started at a provider and not finished yet: the state (by its hash), the nonce
-- and the PKCE verifier, bound to the browser that started them (the hash of a cookie).
-- A row is spent by the callback, once; rows are kept only minutes.
CREATE TABLE sso_flows (
    state_hash   TEXT    PRIMARY KEY,
    browser_hash TEXT    NOT NULL,
    provider     TEXT    NOT NULL,
    nonce        TEXT    NOT NULL,
    verifier     TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
CREATE INDEX sso_flows_by_expiry ON sso_flows (expires_at);

-- The provider a browser session of a user came through, if any: signing out of such a
-- session also sends the browser to the provider's sign-out.
ALTER TABLE user_sessions ADD COLUMN sso_provider TEXT;
