-- Lanes: when a channel is the bottleneck (SMS at the provider's rate), deliveries are
-- claimed by lane (real before drill, P1 before P5, the people a ladder step targets and
-- reminders before the general audience; broadcast.LaneOf), then by turn within the lane
-- (the incidents sharing a lane take turns), then by due time. Rows queued before this
-- migration stay in lane 0, turn 0: claimed first, as they would have been.
ALTER TABLE deliveries ADD COLUMN lane INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
DROP INDEX deliveries_queued;
CREATE INDEX deliveries_queued ON deliveries (status, channel, lane, turn, due_at, id);
-- An incident's last turn in a lane, read when more of its deliveries are queued.
CREATE INDEX deliveries_turns ON deliveries (subject, channel, lane, turn);
