-- An incident's audience is paged in batches (issue 16.4): the declaration's transaction
-- no longer pages 100,000 people at once, holding the one writer. A row here says the
-- audience is still being paged, with what schedule and from when; after_person is the
-- durable cursor: every recipient with a person id up to it has been handled, in the
-- same transaction that moved it. A node killed mid-way leaves the row, and whichever
-- engine runs next continues after the cursor. The row is deleted when the audience is
-- done.
CREATE TABLE escalation_audience (
    incident_id  TEXT    PRIMARY KEY REFERENCES incidents (id),
    schedule     TEXT    NOT NULL, -- JSON []escalation.Reminder of the audience's pages
    paged_at     BIGINT  NOT NULL, -- the declaration's time: every audience page is at it
    after_person TEXT    NOT NULL DEFAULT '',
    batches      INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
