-- A reporter sees the incidents they were alerted of (a safety poll to answer): look up
-- an incident's audience by person, not only by incident.
CREATE INDEX incident_recipients_by_person ON incident_recipients (person_id);
CREATE INDEX escalation_pages_by_person ON escalation_pages (person_id);
