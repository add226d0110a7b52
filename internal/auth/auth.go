// Package auth authenticates callers: users who sign in with an email and a password
// (Argon2id hashes, no user enumeration, a growing lockout after repeated failures), API
// tokens (stored as SHA-256 hashes, compared by hash lookup so no secret is ever compared
// byte by byte), browser sessions of a user or a token, one-time login and set-password
// links, and the first-start bootstrap of an admin. Every change to users and tokens is
// appended to the event log with its actor.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Token is an API token as listed; the secret is shown only when it is created.
type Token struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	Role       optimum.Role `json:"role"`
	CreatedAt  time.Time    `json:"created_at"`
	LastUsedAt *time.Time   `json:"last_used_at"`
	RevokedAt  *time.Time   `json:"revoked_at"`
}

// Store keeps tokens, sessions and login codes by the hash of their secret, and users.
type Store interface {
	// CreateToken stores the token and appends e in the same transaction.
	CreateToken(ctx context.Context, t Token, hash string, e optimum.Event) error
	// TokenByHash returns the live (not revoked) token with the hash; ENOTFOUND otherwise.
	TokenByHash(ctx context.Context, hash string) (Token, error)
	Tokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes a live token, ends its sessions and appends e; ENOTFOUND when
	// no live token has the id.
	RevokeToken(ctx context.Context, id string, at time.Time, e optimum.Event) error
	// CountAdmins counts the live admins: tokens not revoked and users not disabled.
	CountAdmins(ctx context.Context) (int, error)
	CreateSession(ctx context.Context, hash, tokenID string, at, expires time.Time) error
	// SessionToken returns the token of a live session; ENOTFOUND otherwise.
	SessionToken(ctx context.Context, hash string, now time.Time) (Token, error)
	// DeleteSession ends a session, of a token or of a user.
	DeleteSession(ctx context.Context, hash string) error
	CreateLoginCode(ctx context.Context, hash, tokenID string, expires time.Time) error
	// UseLoginCode marks the code used and returns its token; ENOTFOUND if unknown, used or expired.
	UseLoginCode(ctx context.Context, hash string, now time.Time) (Token, error)
	UserStore
	// SSOStore: single sign-on (sso.go).
	SSOStore
}

// SessionLifetime is how long a browser stays signed in.
const SessionLifetime = 12 * time.Hour

// Service authenticates callers and manages users and tokens.
type Service struct {
	store   Store
	now     func() time.Time
	hash    *hasher
	lockout Lockout
}

// NewService returns a Service with DefaultParams and DefaultLockout; now nil means
// time.Now.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, hash: newHasher(), lockout: DefaultLockout}
}

// Now is the service's clock, which the HTTP layer's rate limits share so that tests move
// one clock for both.
func (s *Service) Now() time.Time { return s.now() }

// SetLockout sets how repeated failed sign-ins slow down. Call it before serving.
func (s *Service) SetLockout(l Lockout) { s.lockout = l }

// NewSecret returns a random secret with a recognisable prefix, e.g. "obcp_…".
func NewSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how a secret is stored: hex SHA-256. Secrets are 256-bit random values, so a fast
// hash is enough. Secrets are found by their hash, never compared byte by byte with a
// stored secret, so response times tell an attacker nothing about a token's characters.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateToken creates a token and returns its secret, the only time it is shown.
func (s *Service) CreateToken(ctx context.Context, name string, role optimum.Role) (Token, string, error) {
	name = strings.TrimSpace(name)
	var f []optimum.FieldError
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f = append(f, optimum.FieldError{Field: "name", Message: "is required, at most 100 characters"})
	}
	if !role.ValidForToken() {
		f = append(f, optimum.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of admin, manager, responder, reporter, scim, integration", role)})
	}
	if err := optimum.Invalid("The token has errors.", f); err != nil {
		return Token{}, "", err
	}
	secret := NewSecret("obcp_")
	return s.createToken(ctx, name, role, secret)
}

func (s *Service) createToken(ctx context.Context, name string, role optimum.Role, secret string) (Token, string, error) {
	t := Token{ID: optimum.NewID("tok"), Name: name, Role: role, CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	e, err := userEvent(ctx, EventTokenCreated, t.CreatedAt, map[string]any{"token": t})
	if err != nil {
		return Token{}, "", err
	}
	if err := s.store.CreateToken(ctx, t, Hash(secret), e); err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// Tokens lists every token, revoked ones included.
func (s *Service) Tokens(ctx context.Context) ([]Token, error) { return s.store.Tokens(ctx) }

// RevokeToken revokes a token and, with it, its sessions.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	e, err := userEvent(ctx, EventTokenRevoked, now, map[string]any{"token": id})
	if err != nil {
		return err
	}
	return s.store.RevokeToken(ctx, id, now, e)
}

// Bootstrap makes sure an admin exists. With a bootstrap secret it becomes the admin token
// (if no admin exists yet). Without one, on a database with no admin, it creates an admin
// token and returns a one-time login code to print, once. It returns "" otherwise.
func (s *Service) Bootstrap(ctx context.Context, secret string) (loginCode string, err error) {
	n, err := s.store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	if secret != "" {
		if len(secret) < 16 {
			return "", fmt.Errorf("OPTIMUM_BOOTSTRAP_TOKEN must be at least 16 characters")
		}
		_, _, err := s.createToken(ctx, "bootstrap admin", optimum.RoleAdmin, secret)
		if err != nil {
			// Nodes of a cluster starting at once share the token: the one that lost the
			// race finds the admin the other created (its insert hit the unique hash).
			if n, cerr := s.store.CountAdmins(ctx); cerr == nil && n > 0 {
				return "", nil
			}
		}
		return "", err
	}
	t, _, err := s.createToken(ctx, "first admin", optimum.RoleAdmin, NewSecret("obcp_"))
	if err != nil {
		return "", err
	}
	code := NewSecret("")
	if err := s.store.CreateLoginCode(ctx, Hash(code), t.ID, s.now().Add(24*time.Hour)); err != nil {
		return "", err
	}
	return code, nil
}

// Authenticate returns the actor of an API token.
func (s *Service) Authenticate(ctx context.Context, secret string) (optimum.Actor, error) {
	if secret == "" || len(secret) > 200 {
		return optimum.Actor{}, errUnauthorized
	}
	t, err := s.store.TokenByHash(ctx, Hash(secret))
	if err != nil {
		return optimum.Actor{}, unauthorized(err)
	}
	return actorOf(t), nil
}

// SignIn exchanges a token for a session and returns the session secret for a cookie.
func (s *Service) SignIn(ctx context.Context, secret string) (string, optimum.Actor, error) {
	a, err := s.Authenticate(ctx, secret)
	if err != nil {
		return "", optimum.Actor{}, err
	}
	return s.newSession(ctx, a.ID, a)
}

// SignInWithCode exchanges a one-time login code for a session.
func (s *Service) SignInWithCode(ctx context.Context, code string) (string, optimum.Actor, error) {
	if code == "" || len(code) > 200 {
		return "", optimum.Actor{}, errUnauthorized
	}
	t, err := s.store.UseLoginCode(ctx, Hash(code), s.now())
	if err != nil {
		return "", optimum.Actor{}, optimum.Errorf(optimum.EUNAUTHORIZED, "This login link is unknown, already used or expired.")
	}
	return s.newSession(ctx, t.ID, actorOf(t))
}

func (s *Service) newSession(ctx context.Context, tokenID string, a optimum.Actor) (string, optimum.Actor, error) {
	secret := NewSecret("")
	now := s.now().UTC()
	if err := s.store.CreateSession(ctx, Hash(secret), tokenID, now, now.Add(SessionLifetime)); err != nil {
		return "", optimum.Actor{}, err
	}
	return secret, a, nil
}

// Session returns the actor of a session cookie: the token or the user behind it, as
// they are now (a user's new role applies at once; a disabled user has no session).
func (s *Service) Session(ctx context.Context, secret string) (optimum.Actor, error) {
	if secret == "" || len(secret) > 200 {
		return optimum.Actor{}, errUnauthorized
	}
	hash, now := Hash(secret), s.now()
	t, err := s.store.SessionToken(ctx, hash, now)
	if err == nil {
		return actorOf(t), nil
	} else if optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return optimum.Actor{}, err
	}
	u, err := s.store.UserSession(ctx, hash, now)
	if err != nil {
		return optimum.Actor{}, unauthorized(err)
	}
	return u.Actor(), nil
}

// SignOut ends a session.
func (s *Service) SignOut(ctx context.Context, secret string) error {
	return s.store.DeleteSession(ctx, Hash(secret))
}

var errUnauthorized = optimum.Errorf(optimum.EUNAUTHORIZED, "Missing or invalid credentials.")

func unauthorized(err error) error {
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return errUnauthorized
	}
	return err
}

func actorOf(t Token) optimum.Actor {
	return optimum.Actor{ID: t.ID, Name: t.Name, Role: t.Role}
}
