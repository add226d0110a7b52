-- Crises declared by SMS ("CRISIS <text>") and the hotline (escalation/crisis.go): one
-- row per report claimed, so that the same words from the same number declare once
-- within a window, and a number declares at most a few per hour. incident_id is NULL
-- while the declaration is in progress (or if linking it failed).
CREATE TABLE crisis_reports (
    id          TEXT    PRIMARY KEY,
    phone       TEXT    NOT NULL,
    person_id   TEXT    NOT NULL,
    hash        TEXT    NOT NULL, -- of the words (sms) or of the call's id (hotline)
    incident_id TEXT,
    claimed_at  INTEGER NOT NULL
);
CREATE INDEX crisis_reports_by_phone ON crisis_reports (phone, claimed_at);
