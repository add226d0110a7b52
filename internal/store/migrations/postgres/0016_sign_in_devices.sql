-- Browsers that signed in to an account (OWASP's device cookies): such a browser is not
-- locked out by failed sign-ins from elsewhere. Only hashes are kept.
CREATE TABLE sign_in_devices (
    hash       TEXT    NOT NULL, -- SHA-256 of the device cookie
    account    TEXT    NOT NULL, -- the account's sign-in throttle key (a hash of the email)
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (hash, account)
);
CREATE INDEX sign_in_devices_by_expiry ON sign_in_devices (expires_at);
