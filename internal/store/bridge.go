package store

import (
	"context"
	"fmt"
	"time"
)

// War-room bridge PINs (incident/bridge.go).

// SaveBridgePIN reserves the PIN for the incident; false when the PIN is taken.
func (t deskTx) SaveBridgePIN(ctx context.Context, pin, incidentID string, at time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, "INSERT INTO incident_bridges (pin, incident_id, opened_at) VALUES ($1, $2, $3) ON CONFLICT (pin) DO NOTHING",
		pin, incidentID, millis(at))
	if err != nil {
		return false, fmt.Errorf("save bridge pin: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// BridgeIncident returns the id of the incident whose bridge has the PIN.
func (s *Desk) BridgeIncident(ctx context.Context, pin string) (string, error) {
	var id string
	err := s.db.read.QueryRowContext(ctx, "SELECT incident_id FROM incident_bridges WHERE pin = $1", pin).Scan(&id)
	return id, notFound(err, "No bridge has the PIN %s.", pin)
}
