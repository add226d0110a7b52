package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
)

// Crises declared by SMS and the hotline (escalation.CrisisStore), on the Escalation store.

var _ escalation.CrisisStore = (*Escalation)(nil)

// CrisisCaller returns the one active person with the phone (first or second), whether it is
// verified and whether a user account linked to them is disabled.
func (s *Escalation) CrisisCaller(ctx context.Context, phone string) (escalation.CrisisCaller, error) {
	// The number may be their first or their second phone; each is verified on its own.
	rows, err := s.db.read.QueryContext(ctx, `SELECT p.id, p.name, p.language,
		CASE WHEN p.phone = $1 THEN p.phone_verified_at IS NOT NULL ELSE p.phone2_verified_at IS NOT NULL END,
		EXISTS (SELECT 1 FROM users u WHERE `+userPerson("u")+` = p.id AND u.disabled_at IS NOT NULL),
		EXISTS (SELECT 1 FROM users u WHERE `+userPerson("u")+` = p.id AND u.disabled_at IS NULL AND u.role = 'lanzador')
		FROM people p WHERE (p.phone = $1 OR p.phone2 = $1) AND p.active = 1 ORDER BY p.created_at, p.id LIMIT 2`, phone)
	if err != nil {
		return escalation.CrisisCaller{}, fmt.Errorf("crisis caller: %w", err)
	}
	defer rows.Close()
	var found []escalation.CrisisCaller
	for rows.Next() {
		var c escalation.CrisisCaller
		if err := rows.Scan(&c.PersonID, &c.Name, &c.Language, &c.Verified, &c.Disabled, &c.Launcher); err != nil {
			return escalation.CrisisCaller{}, fmt.Errorf("crisis caller: %w", err)
		}
		found = append(found, c)
	}
	if err := rows.Err(); err != nil {
		return escalation.CrisisCaller{}, fmt.Errorf("crisis caller: %w", err)
	}
	switch len(found) {
	case 0:
		return escalation.CrisisCaller{}, optimum.Errorf(optimum.ENOTFOUND, "Nobody has the phone %s.", phone)
	case 1:
		return found[0], nil
	}
	return escalation.CrisisCaller{}, optimum.Errorf(optimum.ECONFLICT, "The phone %s belongs to more than one active person.", phone)
}

// ClaimCrisis decides what a report is, with writers taking turns so that two copies
// of one text arriving at once cannot both be new.
func (s *Escalation) ClaimCrisis(ctx context.Context, phone, personID, hash string, now time.Time, window time.Duration, perHour int) (outcome, incidentID, claim string, err error) {
	err = s.db.tx(ctx, func(tx *sql.Tx) error {
		if err := s.db.d.serializeTx(ctx, tx); err != nil {
			return err
		}
		var inc sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT incident_id FROM crisis_reports WHERE phone = $1 AND hash = $2 AND claimed_at > $3
			ORDER BY claimed_at DESC LIMIT 1`, phone, hash, millis(now.Add(-window))).Scan(&inc)
		switch {
		case err == nil:
			outcome, incidentID = escalation.ClaimRepeated, inc.String
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("claim crisis: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM crisis_reports WHERE phone = $1 AND claimed_at > $2",
			phone, millis(now.Add(-time.Hour))).Scan(&n); err != nil {
			return fmt.Errorf("claim crisis: %w", err)
		}
		if n >= perHour {
			outcome = escalation.ClaimRateLimit
			return nil
		}
		var buf [12]byte
		_, _ = rand.Read(buf[:])
		claim = "crs_" + hex.EncodeToString(buf[:])
		if _, err := tx.ExecContext(ctx, "INSERT INTO crisis_reports (id, phone, person_id, hash, claimed_at) VALUES ($1, $2, $3, $4, $5)",
			claim, phone, personID, hash, millis(now)); err != nil {
			return fmt.Errorf("claim crisis: %w", err)
		}
		outcome = escalation.ClaimNew
		return nil
	})
	return outcome, incidentID, claim, err
}

// CrisisDeclared records the incident a claim declared.
func (s *Escalation) CrisisDeclared(ctx context.Context, claim, incidentID string) error {
	if _, err := s.db.write.ExecContext(ctx, "UPDATE crisis_reports SET incident_id = $2 WHERE id = $1", claim, incidentID); err != nil {
		return fmt.Errorf("crisis declared: %w", err)
	}
	return nil
}

// ReleaseCrisis forgets a claim whose declaration failed.
func (s *Escalation) ReleaseCrisis(ctx context.Context, claim string) error {
	if _, err := s.db.write.ExecContext(ctx, "DELETE FROM crisis_reports WHERE id = $1", claim); err != nil {
		return fmt.Errorf("release crisis: %w", err)
	}
	return nil
}

// CrisisCount returns how many reports the phone claimed since.
func (s *Escalation) CrisisCount(ctx context.Context, phone string, since time.Time) (int, error) {
	var n int
	if err := s.db.read.QueryRowContext(ctx, "SELECT COUNT(*) FROM crisis_reports WHERE phone = $1 AND claimed_at > $2", phone, millis(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("crisis count: %w", err)
	}
	return n, nil
}

// AppendEvent records an event that belongs to no incident.
func (s *Escalation) AppendEvent(ctx context.Context, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		_, err := tx.appendEvent(ctx, e)
		return err
	})
}
