package store

import (
	"context"

	"github.com/optimum-bcp/optimum"
)

// AppendEvent appends one event in its own transaction, for the tests of the log.
func AppendEvent(ctx context.Context, db *DB, e optimum.Event) (int64, error) {
	var id int64
	err := db.eventsTx(ctx, func(tx *eventTx) error {
		var err error
		id, err = tx.appendEvent(ctx, e)
		return err
	})
	return id, err
}

// Requeue puts every delivery being sent back in the queue, for benchmarks that claim the
// same rows again.
func Requeue(ctx context.Context, db *DB) error {
	_, err := db.write.ExecContext(ctx, "UPDATE deliveries SET status = 'queued', lease_owner = NULL, lease_until = NULL WHERE status = 'sending'")
	return err
}
