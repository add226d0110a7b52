-- PostgreSQL port of ../sqlite/0051_delivery_fallback.sql.
-- A delivery may name a fallback address of its recipient on the same channel (a
-- person's second phone, docs/sites.md "Alerts on the second phone"): when it fails for
-- good, the same message is queued once to that address (store/fallback.go).
ALTER TABLE deliveries ADD COLUMN fallback TEXT NOT NULL DEFAULT '';
