-- Proposed incidents from monitoring (alerts/): the proposal as the API shows it, plus the
-- columns lookups need. Every change is also an event (proposal.*).
CREATE TABLE proposals (
    id         TEXT    PRIMARY KEY,
    source     TEXT    NOT NULL, -- alertmanager, webhook
    group_key  TEXT    NOT NULL,
    status     TEXT    NOT NULL, -- open, confirming, confirmed, dismissed
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    doc        TEXT    NOT NULL  -- JSON alerts.Proposal
);
CREATE INDEX proposals_by_group ON proposals (source, group_key, created_at);
CREATE INDEX proposals_by_status ON proposals (status, updated_at);
