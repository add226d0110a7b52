-- SMS sent that are not alerts (phone verification codes), so that their number is
-- limited per account, per destination number and per day (internal/httpapi/verify.go).
-- Alerts are never recorded here and never limited by it.
CREATE TABLE non_alert_sms (
    id        TEXT    PRIMARY KEY,
    kind      TEXT    NOT NULL, -- verification
    person_id TEXT    NOT NULL,
    phone     TEXT    NOT NULL,
    sent_at   BIGINT NOT NULL
);
CREATE INDEX non_alert_sms_by_time ON non_alert_sms (sent_at);
CREATE INDEX non_alert_sms_by_person ON non_alert_sms (person_id, sent_at);
CREATE INDEX non_alert_sms_by_phone ON non_alert_sms (phone, sent_at);
