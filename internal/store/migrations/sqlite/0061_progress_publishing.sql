-- The progress publisher counts an incident's deliveries outside the store's writer
-- (issue 16): it marks the incidents it is about to publish (publishing = 1), commits,
-- counts on a read connection, then appends the events and removes the marks that no
-- change touched meanwhile. A status change of a marked incident resets the mark
-- (publishing = 0), so it is published again with what the count missed.
ALTER TABLE delivery_progress ADD COLUMN publishing INTEGER NOT NULL DEFAULT 0;
