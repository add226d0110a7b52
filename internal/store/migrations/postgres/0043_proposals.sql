-- PostgreSQL port of ../sqlite/0043_proposals.sql: proposed incidents from monitoring.
CREATE TABLE proposals (
    id         TEXT    PRIMARY KEY,
    source     TEXT    NOT NULL, -- alertmanager, webhook
    group_key  TEXT    NOT NULL,
    status     TEXT    NOT NULL, -- open, confirming, confirmed, dismissed
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    doc        TEXT    NOT NULL  -- JSON alerts.Proposal
);
CREATE INDEX proposals_by_group ON proposals (source, group_key, created_at);
CREATE INDEX proposals_by_status ON proposals (status, updated_at);
