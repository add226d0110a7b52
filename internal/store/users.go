package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// The user half of auth.Store: users, their sessions and set-password codes, and the
// failed sign-in counts. Like tokens, they live on Auth, so db.Auth() is the whole store
// the auth service needs.

func scanUser(row interface{ Scan(...any) error }) (auth.User, string, error) {
	var (
		u                auth.User
		role             string
		hash, person     sql.NullString
		created, updated int64
		disabled         sql.NullInt64
		scope            string
	)
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &role, &hash, &person, &created, &updated, &disabled, &scope); err != nil {
		return auth.User{}, "", err
	}
	var err error
	if u.Scope, err = decodeScope(scope); err != nil {
		return auth.User{}, "", err
	}
	u.Role, u.PersonID, u.HasPassword = optimum.Role(role), person.String, hash.String != ""
	u.CreatedAt, u.UpdatedAt = fromMillis(created), fromMillis(updated)
	if disabled.Valid {
		v := fromMillis(disabled.Int64)
		u.DisabledAt = &v
	}
	return u, hash.String, nil
}

func (s *Auth) CreateUser(ctx context.Context, nu auth.NewUser, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE email = $1", nu.Email).Scan(&n); err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		if n > 0 {
			return errEmailTaken(nu.Email)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, person_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			nu.ID, nu.Email, nu.Name, string(nu.Role), nullString(nu.PasswordHash), nullString(nu.PersonID), millis(nu.CreatedAt), millis(nu.UpdatedAt))
		if err != nil {
			if isUniqueViolation(err) {
				return errEmailTaken(nu.Email)
			}
			return fmt.Errorf("create user: %w", err)
		}
		if nu.CodeHash != "" {
			if err := insertPasswordCode(ctx, tx.Tx, nu.CodeHash, nu.ID, nu.CodeExpires); err != nil {
				return err
			}
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}

func errEmailTaken(email string) error {
	return optimum.Errorf(optimum.ECONFLICT, "A user with the email %s already exists.", truncate(email, 100))
}

// isUniqueViolation recognises a unique constraint failure in SQLite and PostgreSQL.
func isUniqueViolation(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "duplicate key value")
}

func (s *Auth) User(ctx context.Context, id string) (auth.User, error) {
	u, _, err := scanUser(s.db.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
	if err != nil {
		return auth.User{}, notFound(err, "No user has the id %q.", truncate(id, 60))
	}
	return u, nil
}

func (s *Auth) UserByEmail(ctx context.Context, email string) (auth.User, string, error) {
	u, hash, err := scanUser(s.db.read.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users WHERE email = $1", email))
	if err != nil {
		return auth.User{}, "", notFound(err, "No such user.")
	}
	return u, hash, nil
}

func (s *Auth) Users(ctx context.Context) ([]auth.User, error) {
	rows, err := s.db.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	out := []auth.User{}
	for rows.Next() {
		u, _, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *Auth) UpdateUser(ctx context.Context, u auth.User, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, "UPDATE users SET name = $2, role = $3, disabled_at = $4, updated_at = $5, scope = $6 WHERE id = $1",
			u.ID, u.Name, string(u.Role), nullMillis(u.DisabledAt), millis(u.UpdatedAt), encodeScope(u.Scope))
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "No user has the id %q.", truncate(u.ID, 60))
		}
		if u.DisabledAt != nil {
			if err := endUserSessions(ctx, tx.Tx, u.ID, ""); err != nil {
				return err
			}
		}
		n, err := countAdmins(ctx, tx)
		if err != nil {
			return err
		}
		if n == 0 {
			return optimum.Errorf(optimum.ECONFLICT, "This would leave no admin: make another user admin first, or create an admin token.")
		}
		_, err = tx.appendEvent(ctx, e)
		return err
	})
}

func (s *Auth) SetPassword(ctx context.Context, userID, hash, keepSession string, at time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		return setPassword(ctx, tx, userID, hash, keepSession, at, e)
	})
}

func setPassword(ctx context.Context, tx *eventTx, userID, hash, keepSession string, at time.Time, e optimum.Event) error {
	res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1", userID, hash, millis(at))
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return optimum.Errorf(optimum.ENOTFOUND, "No user has the id %q.", truncate(userID, 60))
	}
	if err := endUserSessions(ctx, tx.Tx, userID, keepSession); err != nil {
		return err
	}
	// A password set by any means spends every pending link of the user.
	if _, err := tx.ExecContext(ctx, "UPDATE password_codes SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL", userID, millis(at)); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	_, err = tx.appendEvent(ctx, e)
	return err
}

func endUserSessions(ctx context.Context, tx *sql.Tx, userID, keep string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM user_sessions WHERE user_id = $1 AND hash <> $2", userID, keep); err != nil {
		return fmt.Errorf("end sessions: %w", err)
	}
	return nil
}

func insertPasswordCode(ctx context.Context, tx *sql.Tx, hash, userID string, expires time.Time) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO password_codes (hash, user_id, expires_at) VALUES ($1, $2, $3)", hash, userID, millis(expires)); err != nil {
		return fmt.Errorf("create password code: %w", err)
	}
	return nil
}

// CreatePasswordCode stores a new code; the user's older unused codes stop working, so
// only the last link sent is live.
func (s *Auth) CreatePasswordCode(ctx context.Context, hash, userID string, expires time.Time) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM password_codes WHERE user_id = $1 AND used_at IS NULL", userID); err != nil {
			return fmt.Errorf("create password code: %w", err)
		}
		return insertPasswordCode(ctx, tx, hash, userID, expires)
	})
}

func (s *Auth) PasswordCodeUser(ctx context.Context, hash string, now time.Time) (auth.User, error) {
	u, _, err := scanUser(s.db.read.QueryRowContext(ctx, `SELECT `+userColumnsOf("u")+`
		FROM password_codes c JOIN users u ON u.id = c.user_id
		WHERE c.hash = $1 AND c.used_at IS NULL AND c.expires_at > $2`, hash, millis(now)))
	if err != nil {
		return auth.User{}, notFound(err, "No such code.")
	}
	return u, nil
}

func (s *Auth) UsePasswordCode(ctx context.Context, hash, userID, passwordHash string, now time.Time, e optimum.Event) error {
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE password_codes SET used_at = $3
			WHERE hash = $1 AND user_id = $2 AND used_at IS NULL AND expires_at > $3`, hash, userID, millis(now))
		if err != nil {
			return fmt.Errorf("use password code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return optimum.Errorf(optimum.ENOTFOUND, "No such code.")
		}
		return setPassword(ctx, tx, userID, passwordHash, "", now, e)
	})
}

func (s *Auth) CreateUserSession(ctx context.Context, hash, userID string, at, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "INSERT INTO user_sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
		hash, userID, millis(at), millis(expires))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *Auth) UserSession(ctx context.Context, hash string, now time.Time) (auth.User, error) {
	u, _, err := scanUser(s.db.read.QueryRowContext(ctx, `SELECT `+userColumnsOf("u")+`
		FROM user_sessions s JOIN users u ON u.id = s.user_id
		WHERE s.hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL`, hash, millis(now)))
	if err != nil {
		return auth.User{}, notFound(err, "No such session.")
	}
	return u, nil
}

func (s *Auth) SignInLock(ctx context.Context, key string) (time.Time, error) {
	var until int64
	err := s.db.read.QueryRowContext(ctx, "SELECT locked_until FROM sign_in_failures WHERE email_hash = $1", key).Scan(&until)
	if err == sql.ErrNoRows {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("sign-in lock: %w", err)
	}
	return fromMillis(until), nil
}

// signInMemory is how long an email's failures are remembered after its last one.
const signInMemory = 24 * time.Hour

func (s *Auth) RecordSignInFailure(ctx context.Context, key string, now time.Time, delay func(int) time.Duration) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sign_in_failures WHERE updated_at < $1 AND locked_until < $2",
			millis(now.Add(-signInMemory)), millis(now)); err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		var failures int
		err := tx.QueryRowContext(ctx, `INSERT INTO sign_in_failures (email_hash, failures, locked_until, updated_at) VALUES ($1, 1, 0, $2)
			ON CONFLICT (email_hash) DO UPDATE SET failures = sign_in_failures.failures + 1, updated_at = $2
			RETURNING failures`, key, millis(now)).Scan(&failures)
		if err != nil {
			return fmt.Errorf("record sign-in failure: %w", err)
		}
		if d := delay(failures); d > 0 {
			_, err = tx.ExecContext(ctx, "UPDATE sign_in_failures SET locked_until = $2 WHERE email_hash = $1", key, millis(now.Add(d)))
		}
		return err
	})
}

// SignInDevice implements auth.UserStore: expired devices are neither known nor exist.
func (s *Auth) SignInDevice(ctx context.Context, device, account string, now time.Time) (known, exists bool, err error) {
	var n, mine int
	err = s.db.read.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN account = $2 THEN 1 ELSE 0 END), 0)
		FROM sign_in_devices WHERE hash = $1 AND expires_at > $3`, device, account, millis(now)).Scan(&n, &mine)
	if err != nil {
		return false, false, fmt.Errorf("sign-in device: %w", err)
	}
	return mine > 0, n > 0, nil
}

// RememberDevice implements auth.UserStore, forgetting expired devices on the way.
func (s *Auth) RememberDevice(ctx context.Context, device, account string, now, expires time.Time) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sign_in_devices WHERE expires_at < $1", millis(now)); err != nil {
			return fmt.Errorf("remember device: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sign_in_devices (hash, account, created_at, expires_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hash, account) DO UPDATE SET expires_at = $4`, device, account, millis(now), millis(expires))
		if err != nil {
			return fmt.Errorf("remember device: %w", err)
		}
		return nil
	})
}

func (s *Auth) ResetSignInFailures(ctx context.Context, key string) error {
	_, err := s.db.write.ExecContext(ctx, "DELETE FROM sign_in_failures WHERE email_hash = $1", key)
	return err
}

// countAdmins counts live admins, tokens and users, as q sees them.
func countAdmins(ctx context.Context, q queryer) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM tokens WHERE role = 'admin' AND revoked_at IS NULL)
		+ (SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL)`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}
