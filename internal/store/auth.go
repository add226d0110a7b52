package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// Auth implements auth.Store.
type Auth struct{ db *DB }

// Auth returns the store of tokens and sessions.
func (db *DB) Auth() *Auth { return &Auth{db: db} }

var _ auth.Store = (*Auth)(nil)

const tokenColumns = "id, name, role, created_at, last_used_at, revoked_at, scope"

func scanToken(row interface{ Scan(...any) error }) (auth.Token, error) {
	var (
		t             auth.Token
		role          string
		created       int64
		used, revoked sql.NullInt64
		scope         string
	)
	if err := row.Scan(&t.ID, &t.Name, &role, &created, &used, &revoked, &scope); err != nil {
		return auth.Token{}, err
	}
	var err error
	if t.Scope, err = decodeScope(scope); err != nil {
		return auth.Token{}, err
	}
	t.Role, t.CreatedAt = optimum.Role(role), fromMillis(created)
	if used.Valid {
		v := fromMillis(used.Int64)
		t.LastUsedAt = &v
	}
	if revoked.Valid {
		v := fromMillis(revoked.Int64)
		t.RevokedAt = &v
	}
	return t, nil
}

func (s *Auth) CreateToken(ctx context.Context, t auth.Token, hash string, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, hash, created_at, scope) VALUES ($1, $2, $3, $4, $5, $6)`,
			t.ID, t.Name, string(t.Role), hash, millis(t.CreatedAt), encodeScope(t.Scope))
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}

func (s *Auth) TokenByHash(ctx context.Context, hash string) (auth.Token, error) {
	t, err := scanToken(s.db.read.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE hash = $1 AND revoked_at IS NULL", hash))
	if err != nil {
		return auth.Token{}, notFound(err, "No such token.")
	}
	return t, nil
}

func (s *Auth) Tokens(ctx context.Context) ([]auth.Token, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	out := []auth.Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Auth) RevokeToken(ctx context.Context, id string, at time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL", id, millis(at))
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "No live token has the id %q.", truncate(id, 60))
		}
		if _, err = tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_id = $1", id); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}

func (s *Auth) CountAdmins(ctx context.Context) (int, error) {
	return countAdmins(ctx, s.db.write)
}

func (s *Auth) CreateSession(ctx context.Context, hash, tokenID string, at, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
		hash, tokenID, millis(at), millis(expires))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *Auth) SessionToken(ctx context.Context, hash string, now time.Time) (auth.Token, error) {
	t, err := scanToken(s.db.read.QueryRowContext(ctx, `SELECT t.id, t.name, t.role, t.created_at, t.last_used_at, t.revoked_at, t.scope
		FROM sessions s JOIN tokens t ON t.id = s.token_id
		WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL`, hash, millis(now)))
	if err != nil {
		return auth.Token{}, notFound(err, "No such session.")
	}
	return t, nil
}

func (s *Auth) DeleteSession(ctx context.Context, hash string) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE hash = $1", hash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM user_sessions WHERE hash = $1", hash); err != nil {
			return fmt.Errorf("delete session: %w", err)
		}
		return nil
	})
}

func (s *Auth) CreateLoginCode(ctx context.Context, hash, tokenID string, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "INSERT INTO login_codes (hash, token_id, expires_at) VALUES ($1, $2, $3)",
		hash, tokenID, millis(expires))
	return err
}

func (s *Auth) UseLoginCode(ctx context.Context, hash string, now time.Time) (auth.Token, error) {
	var tokenID string
	err := s.db.write.QueryRowContext(ctx, `UPDATE login_codes SET used_at = $2
		WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING token_id`, hash, millis(now)).Scan(&tokenID)
	if err != nil {
		return auth.Token{}, notFound(err, "No such login code.")
	}
	t, err := scanToken(s.db.write.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM tokens WHERE id = $1 AND revoked_at IS NULL", tokenID))
	if err != nil {
		return auth.Token{}, notFound(err, "No such token.")
	}
	return t, nil
}
