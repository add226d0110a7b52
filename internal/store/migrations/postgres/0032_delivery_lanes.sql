-- PostgreSQL port of ../sqlite/0032_delivery_lanes.sql.
-- Lanes: when a channel is the bottleneck (SMS at the provider's rate), deliveries are
-- claimed by lane (real before drill, P1 before P5, the people a ladder step targets and
-- reminders before the general audience; broadcast.LaneOf), then by turn within the lane
-- (the incidents sharing a lane take turns), then by due time. Rows queued before this
-- migration stay in lane 0, turn 0: claimed first, as they would have been.
ALTER TABLE deliveries ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN turn BIGINT NOT NULL DEFAULT 0;
-- The claim indexes become partial: a row is in the queued index only while queued and
-- in the leased one only while sending, so claiming a row writes one claim index entry,
-- not two (and the indexes stay the size of the work waiting, not of the history).
DROP INDEX deliveries_queued;
DROP INDEX deliveries_leased;
CREATE INDEX deliveries_queued ON deliveries (channel, lane, turn, due_at, id) WHERE status = 'queued';
CREATE INDEX deliveries_leased ON deliveries (channel, lease_until) WHERE status = 'sending';
-- Each incident's last turn per channel and lane, read when more of its deliveries are
-- queued (a small table instead of one more index on deliveries, which every claim and
-- outcome would have to update).
CREATE TABLE delivery_turns (
    subject TEXT    NOT NULL,
    channel TEXT    NOT NULL,
    lane    INTEGER NOT NULL,
    turn    BIGINT  NOT NULL,
    PRIMARY KEY (subject, channel, lane)
);
-- Nothing looks deliveries up by provider id (status callbacks name the delivery, ?d=),
-- and every claim and outcome had to update this index of mostly empty strings.
DROP INDEX deliveries_by_provider_id;
