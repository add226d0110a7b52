package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

var _ contacts.ReconfirmStore = (*Contacts)(nil)

// SaveConfirmLinks stores reconfirmation links and the event of the request.
func (s *Contacts) SaveConfirmLinks(ctx context.Context, links []contacts.ConfirmLink, at time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		for _, l := range links {
			if _, err := tx.ExecContext(ctx, `INSERT INTO phone_confirm_links (hash, person_id, phone, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5)`, l.Hash, l.PersonID, l.Phone, millis(at), millis(l.ExpiresAt)); err != nil {
				return fmt.Errorf("save confirm link: %w", err)
			}
		}
		_, err := tx.appendEvent(ctx, e)
		return err
	})
}

// ConfirmLinkSent notes that a link's SMS went out.
func (s *Contacts) ConfirmLinkSent(ctx context.Context, hash string, at time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "UPDATE phone_confirm_links SET sent_at = $2 WHERE hash = $1", hash, millis(at))
	return err
}

// ConfirmLink returns a link with its person's name and language.
func (s *Contacts) ConfirmLink(ctx context.Context, hash string) (contacts.ConfirmLink, error) {
	var (
		l          contacts.ConfirmLink
		expires    int64
		used       sql.NullInt64
		name, lang sql.NullString
	)
	err := s.db.read.QueryRowContext(ctx, `SELECT l.hash, l.person_id, l.phone, l.expires_at, l.used_at, p.name, p.language
		FROM phone_confirm_links l LEFT JOIN people p ON p.id = l.person_id WHERE l.hash = $1`, hash).
		Scan(&l.Hash, &l.PersonID, &l.Phone, &expires, &used, &name, &lang)
	if err != nil {
		return l, notFound(err, "This link is unknown, already used or expired.")
	}
	l.ExpiresAt, l.UsedAt, l.Name, l.Language = fromMillis(expires), timePtr(used), name.String, lang.String
	return l, nil
}

// UseConfirmLink marks the link used and the phone verified, with the event.
func (s *Contacts) UseConfirmLink(ctx context.Context, hash string, at time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		var person, phone string
		err := tx.QueryRowContext(ctx, "UPDATE phone_confirm_links SET used_at = $2 WHERE hash = $1 AND used_at IS NULL RETURNING person_id, phone",
			hash, millis(at)).Scan(&person, &phone)
		if errors.Is(err, sql.ErrNoRows) {
			return optimum.Errorf(optimum.ECONFLICT, "This link was already used.")
		} else if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, "UPDATE people SET phone_verified_at = $3, updated_at = $3 WHERE id = $1 AND phone = $2 AND active = 1",
			person, phone, millis(at))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ECONFLICT, "The phone changed since the link was sent; nothing was confirmed.")
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}
