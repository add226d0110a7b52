-- Twilio webhook requests by Twilio's own ids (replaces webhook_requests, keyed on the
-- whole request): sms:<MessageSid>, status:<sid>:<status>, voice:<CallSid>:<delivery>:<step>.
-- A row is claimed (status 0) while its request is processed, and keeps the answer once
-- it succeeded, so that a replay or a retry gets the same answer and changes nothing; a
-- request that failed leaves no row, so Twilio's retry is processed. Rows are kept: a
-- captured request may come back at any time.
CREATE TABLE webhook_calls (
    call_key     TEXT    PRIMARY KEY,
    status       INTEGER NOT NULL DEFAULT 0, -- the HTTP status answered; 0 while processing
    content_type TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    received_at  BIGINT NOT NULL,
    done_at      BIGINT
);
DROP TABLE webhook_requests;
