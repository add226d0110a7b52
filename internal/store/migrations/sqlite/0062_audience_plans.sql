-- A declaration to a large audience stores the audience's plan (contacts.Plan: team,
-- site and person ids) instead of one incident_recipients row a person (issue 16.4); the
-- paging of the audience writes the rows batch by batch, after_person being how far it
-- has written. The row goes once every person of the plan is a recipient.
CREATE TABLE incident_audience_plans (
    incident_id  TEXT    PRIMARY KEY REFERENCES incidents (id),
    plan         TEXT    NOT NULL,
    after_person TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL
);
