-- PostgreSQL port of ../sqlite/0007_delivery_actions.sql: the same tables and columns; unix-millisecond times are
-- BIGINT (SQLite's INTEGER is 64-bit), booleans and counts stay INTEGER 0/1.
-- The buttons offered with a push notification ("Confirmar recepción"), as JSON.
ALTER TABLE deliveries ADD COLUMN actions TEXT NOT NULL DEFAULT '[]';
