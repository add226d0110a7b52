-- The buttons offered with a push notification ("Confirmar recepción"), as JSON.
ALTER TABLE deliveries ADD COLUMN actions TEXT NOT NULL DEFAULT '[]';
