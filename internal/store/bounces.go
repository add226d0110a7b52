package store

import (
	"context"
	"database/sql"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/email"
)

// Email bounces (migrations 0046, broadcast/email/bounce.go).

// RecordBounce keeps a bounce of an email delivery: ENOTFOUND when no delivery has the
// id, EINVALID when it is not an email. first is false when the same bounce (delivery,
// recipient, status) was recorded before. personID is the delivery's recipient.
func (q *Deliveries) RecordBounce(ctx context.Context, b email.BounceRecord) (personID string, first bool, err error) {
	err = q.db.tx(ctx, func(tx *sql.Tx) error {
		var channel string
		err := tx.QueryRowContext(ctx, "SELECT recipient, channel FROM deliveries WHERE id = $1", b.DeliveryID).Scan(&personID, &channel)
		if err != nil {
			return notFound(err, "No delivery has the id %q.", truncate(b.DeliveryID, 60))
		}
		if channel != broadcast.ChannelEmail {
			return optimum.Errorf(optimum.EINVALID, "The delivery %s is not an email.", truncate(b.DeliveryID, 60))
		}
		permanent := 0
		if b.Permanent {
			permanent = 1
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO email_bounces (delivery_id, person_id, recipient, status, action, diagnostic, permanent, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (delivery_id, recipient, status) DO NOTHING`,
			b.DeliveryID, personID, truncate(b.Recipient, 320), truncate(b.Status, 40), truncate(b.Action, 40), truncate(b.Diagnostic, 500), permanent, millis(b.At))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		first = n > 0
		return nil
	})
	return personID, first, err
}

// BouncedEmails lists the active people whose current address bounced permanently, the
// latest bounce each, by name. A new address clears the flag: the bounce was another's.
func (q *Deliveries) BouncedEmails(ctx context.Context) ([]email.Bounced, error) {
	rows, err := q.db.read.QueryContext(ctx, `SELECT p.id, p.name, p.email, b.status, b.diagnostic, b.received_at
		FROM email_bounces b JOIN people p ON p.id = b.person_id
		WHERE b.permanent = 1 AND p.active = 1 AND lower(p.email) = lower(b.recipient)
		ORDER BY p.name, p.id, b.received_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []email.Bounced{}
	for rows.Next() {
		var (
			b  email.Bounced
			at int64
		)
		if err := rows.Scan(&b.PersonID, &b.Name, &b.Email, &b.Status, &b.Diagnostic, &at); err != nil {
			return nil, err
		}
		if n := len(out); n > 0 && out[n-1].PersonID == b.PersonID {
			continue
		}
		b.At = fromMillis(at)
		out = append(out, b)
	}
	return out, rows.Err()
}
