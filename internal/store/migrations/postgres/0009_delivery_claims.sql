-- PostgreSQL port of ../sqlite/0009_delivery_claims.sql.
-- The dispatcher claims due work one channel at a time (so SMS waiting for their rate
-- limit never hold back pushes), in two indexed queries instead of one OR that made
-- SQLite sort every due row: queued rows by due time, and rows whose sending lease ran
-- out (their sender died) by lease time.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_queued ON deliveries (status, channel, due_at, id);
CREATE INDEX deliveries_leased ON deliveries (status, channel, lease_until);
