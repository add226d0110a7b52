package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// The single sign-on half of auth.Store (auth.SSOStore): sign-ins in flight at identity
// providers, and users' links to providers.

// ssoFlowMemory is how long spent or expired flows are kept before they are forgotten.
const ssoFlowMemory = time.Hour

func (s *Auth) CreateSSOFlow(ctx context.Context, stateHash, browserHash string, f auth.SSOFlow, now, expires time.Time) error {
	return s.db.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM sso_flows WHERE expires_at < $1", millis(now.Add(-ssoFlowMemory))); err != nil {
			return fmt.Errorf("create sso flow: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sso_flows (state_hash, browser_hash, provider, nonce, verifier, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, stateHash, browserHash, f.Provider, f.Nonce, f.Verifier, millis(now), millis(expires))
		if err != nil {
			return fmt.Errorf("create sso flow: %w", err)
		}
		return nil
	})
}

// UseSSOFlow spends the flow in one statement, so two callbacks with the same state
// cannot both get it.
func (s *Auth) UseSSOFlow(ctx context.Context, stateHash, browserHash, provider string, now time.Time) (auth.SSOFlow, error) {
	f := auth.SSOFlow{Provider: provider}
	err := s.db.write.QueryRowContext(ctx, `UPDATE sso_flows SET used_at = $4
		WHERE state_hash = $1 AND browser_hash = $2 AND provider = $3 AND used_at IS NULL AND expires_at > $4
		RETURNING nonce, verifier`, stateHash, browserHash, provider, millis(now)).Scan(&f.Nonce, &f.Verifier)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.SSOFlow{}, optimum.Errorf(optimum.ENOTFOUND, "No such sign-in.")
	} else if err != nil {
		return auth.SSOFlow{}, fmt.Errorf("use sso flow: %w", err)
	}
	return f, nil
}

func (s *Auth) UserByIdentity(ctx context.Context, provider, subject string) (auth.User, error) {
	u, _, err := scanUser(s.db.read.QueryRowContext(ctx, `SELECT `+userColumnsOf("u")+`
		FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.provider = $1 AND i.subject = $2`, provider, subject))
	if err != nil {
		return auth.User{}, notFound(err, "No user is linked to this identity.")
	}
	return u, nil
}

func (s *Auth) SignInIdentity(ctx context.Context, in auth.IdentitySignIn, events []optimum.Event) error {
	u := in.User
	return s.db.eventsTx(ctx, func(tx *eventTx) error {
		if in.Create {
			_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, u.ID, u.Email, u.Name, string(u.Role), millis(u.CreatedAt), millis(u.UpdatedAt))
			if err != nil {
				if isUniqueViolation(err) {
					return errEmailTaken(u.Email)
				}
				return fmt.Errorf("create user: %w", err)
			}
		} else if in.RoleChanged {
			res, err := tx.ExecContext(ctx, "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1 AND disabled_at IS NULL",
				u.ID, string(u.Role), millis(u.UpdatedAt))
			if err != nil {
				return fmt.Errorf("update user: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return auth.ErrUserDisabled
			}
			n, err := countAdmins(ctx, tx)
			if err != nil {
				return err
			}
			if n == 0 {
				return optimum.Errorf(optimum.ECONFLICT, "This would leave no admin: make another user admin first, or create an admin token.")
			}
		}
		id := in.Identity
		_, err := tx.ExecContext(ctx, `INSERT INTO user_identities (provider, subject, user_id, email, created_at, last_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (provider, subject) DO UPDATE SET email = $4, last_at = $5`,
			id.Provider, id.Subject, u.ID, id.Email, millis(in.At))
		if err != nil {
			return fmt.Errorf("link identity: %w", err)
		}
		for _, e := range events {
			if _, err := tx.appendEvent(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Auth) CreateSSOSession(ctx context.Context, hash, userID, provider string, at, expires time.Time) error {
	_, err := s.db.write.ExecContext(ctx, "INSERT INTO user_sessions (hash, user_id, created_at, expires_at, sso_provider) VALUES ($1, $2, $3, $4, $5)",
		hash, userID, millis(at), millis(expires), provider)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

func (s *Auth) SessionProvider(ctx context.Context, hash string, now time.Time) (string, error) {
	var p sql.NullString
	err := s.db.read.QueryRowContext(ctx, "SELECT sso_provider FROM user_sessions WHERE hash = $1 AND expires_at > $2", hash, millis(now)).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("session provider: %w", err)
	}
	return p.String, nil
}
