package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"time"
)

// SMSBudget counts the SMS that are not alerts (verification codes), so that nobody can
// make the deployment pay for a flood of them. Alerts never pass through it.
type SMSBudget struct{ db *DB }

// SMSBudget returns the store of non-alert SMS.
func (db *DB) SMSBudget() *SMSBudget { return &SMSBudget{db: db} }

// SMSLimits are the limits TakeSMS enforces; a zero limit is no limit.
type SMSLimits struct {
	PerHour, PerDay int // each per account and per destination number
	AllPerDay       int // every non-alert SMS of the deployment
}

// Which limit TakeSMS found reached.
const (
	SMSLimitAccount = "account"
	SMSLimitNumber  = "number"
	SMSLimitDaily   = "daily"
)

// nonAlertMemory is how long sent SMS are remembered: the longest window counted.
const nonAlertMemory = 24 * time.Hour

// TakeSMS records one SMS of kind from the person to phone, unless a limit is reached: then
// it records nothing and returns the limit (SMSLimitAccount, SMSLimitNumber,
// SMSLimitDaily) and when one more may go. id names the record for GiveBackSMS.
func (b *SMSBudget) TakeSMS(ctx context.Context, kind, personID, phone string, now time.Time, l SMSLimits) (id, limit string, retry time.Time, err error) {
	err = b.db.tx(ctx, func(tx *sql.Tx) error {
		// Writers take turns, so two requests at once cannot both take the last one.
		if err := b.db.d.serializeTx(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM non_alert_sms WHERE sent_at < $1", millis(now.Add(-nonAlertMemory))); err != nil {
			return fmt.Errorf("sms budget: %w", err)
		}
		type window struct {
			limit, where string
			arg          any
			n            int
			span         time.Duration
		}
		for _, w := range []window{
			{SMSLimitAccount, "person_id = $1", personID, l.PerHour, time.Hour},
			{SMSLimitAccount, "person_id = $1", personID, l.PerDay, 24 * time.Hour},
			{SMSLimitNumber, "phone = $1", phone, l.PerHour, time.Hour},
			{SMSLimitNumber, "phone = $1", phone, l.PerDay, 24 * time.Hour},
			{SMSLimitDaily, "kind <> $1", "", l.AllPerDay, 24 * time.Hour},
		} {
			if w.n <= 0 {
				continue
			}
			var (
				count  int
				oldest sql.NullInt64
			)
			// The n-th most recent send in the window: one more may go when it leaves.
			err := tx.QueryRowContext(ctx, "SELECT COUNT(*), MIN(sent_at) FROM (SELECT sent_at FROM non_alert_sms WHERE "+w.where+
				" AND sent_at > $2 ORDER BY sent_at DESC LIMIT $3) recent", w.arg, millis(now.Add(-w.span)), w.n).Scan(&count, &oldest)
			if err != nil {
				return fmt.Errorf("sms budget: %w", err)
			}
			if count >= w.n {
				limit, retry = w.limit, fromMillis(oldest.Int64).Add(w.span)
				return nil
			}
		}
		var buf [12]byte
		_, _ = rand.Read(buf[:])
		id = "sms_" + hex.EncodeToString(buf[:])
		_, err := tx.ExecContext(ctx, "INSERT INTO non_alert_sms (id, kind, person_id, phone, sent_at) VALUES ($1, $2, $3, $4, $5)",
			id, kind, personID, phone, millis(now))
		if err != nil {
			return fmt.Errorf("sms budget: %w", err)
		}
		return nil
	})
	if err != nil || limit != "" {
		return "", limit, retry, err
	}
	return id, "", time.Time{}, nil
}

// GiveBackSMS forgets a record of TakeSMS whose SMS could not be sent.
func (b *SMSBudget) GiveBackSMS(ctx context.Context, id string) error {
	_, err := b.db.write.ExecContext(ctx, "DELETE FROM non_alert_sms WHERE id = $1", id)
	return err
}
