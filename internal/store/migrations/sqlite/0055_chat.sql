-- Team chats (Microsoft Teams, Slack) and outbound webhooks (issue 17). A subscription is
-- where posts go: a team's chat channel, which gets the alert, the updates and the
-- resolution of the team's incidents, or a webhook subscribed to event types. Its URL,
-- bot token and signing secret are credentials: the API shows them only when the
-- subscription is created. A subscription whose endpoint answered 404 or 410 is marked
-- broken (readiness shows it) and gets no more posts until someone resumes it.
CREATE TABLE chat_subscriptions (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL, -- teams, slack, webhook
    name          TEXT    NOT NULL,
    team_id       TEXT    NOT NULL DEFAULT '', -- teams and slack: whose incidents it gets
    url           TEXT    NOT NULL DEFAULT '',
    token         TEXT    NOT NULL DEFAULT '', -- slack: a bot token for chat.postMessage
    channel       TEXT    NOT NULL DEFAULT '', -- slack: the conversation of chat.postMessage
    secret        TEXT    NOT NULL DEFAULT '', -- webhook: whsec_ + base64
    events        TEXT    NOT NULL DEFAULT '', -- webhook: event types, space separated
    language      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT    NOT NULL DEFAULT '',
    broken_at     INTEGER,
    broken_reason TEXT    NOT NULL DEFAULT '',
    deleted_at    INTEGER
);

-- One post of one event to one subscription: the chat dispatcher's queue, written by the
-- event-log consumer in the transaction that advances its cursor. Its id is the
-- webhook-id, the same on every attempt.
CREATE TABLE chat_posts (
    id              TEXT    PRIMARY KEY,
    subscription_id TEXT    NOT NULL REFERENCES chat_subscriptions (id),
    event_id        INTEGER NOT NULL,
    incident_id     TEXT,
    channel         TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL, -- the rendered post, JSON
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    due_at          INTEGER NOT NULL,
    deadline        INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER,
    failed_at       INTEGER,
    updated_at      INTEGER NOT NULL,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX chat_posts_queued ON chat_posts (status, channel, due_at);
CREATE INDEX chat_posts_leased ON chat_posts (status, channel, lease_until);

-- Every attempt of a post and its outcome (sending, sent, retry, failed, resent).
CREATE TABLE chat_post_attempts (
    post_id    TEXT    NOT NULL REFERENCES chat_posts (id),
    attempt    INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    outcome    TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, attempt)
);
