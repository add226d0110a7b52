-- War-room bridges (incident/bridge.go): the PIN a person dials after calling the bridge
-- number names the incident whose conference they join. The bridge itself (number, PIN,
-- who is on it) is part of the incident's document.
CREATE TABLE incident_bridges (
    pin         TEXT    PRIMARY KEY,
    incident_id TEXT    NOT NULL UNIQUE,
    opened_at   BIGINT NOT NULL
);
