package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Identity is a user as an identity provider vouched for them in a verified ID token:
// the provider (its id in the config), the subject it gives them, and their email and
// name.
type Identity struct {
	Provider string
	Subject  string
	Email    string
	Name     string
}

// SSOFlow is a sign-in started at a provider: what the callback needs to finish it.
type SSOFlow struct {
	Provider string
	// State goes to the provider and comes back; only its hash is stored.
	State    string
	Nonce    string
	Verifier string // the PKCE code verifier
}

// SSOFlowLifetime is how long a person has at their provider to finish a sign-in.
const SSOFlowLifetime = 10 * time.Minute

// IdentitySignIn is what SignInIdentity stores in one transaction.
type IdentitySignIn struct {
	// User is the user as it must be after the sign-in.
	User User
	// Create inserts User (it is new); else its role is saved when RoleChanged.
	Create      bool
	RoleChanged bool
	Identity    Identity
	At          time.Time
}

// SSOStore keeps the sign-ins in flight at providers and users' links to providers.
type SSOStore interface {
	// CreateSSOFlow stores a flow under the hashes of its state and of the browser's
	// cookie, until expires; it forgets expired flows on the way.
	CreateSSOFlow(ctx context.Context, stateHash, browserHash string, f SSOFlow, now, expires time.Time) error
	// UseSSOFlow spends the live, unused flow of the state started by the browser at the
	// provider, and returns it; ENOTFOUND when there is none (unknown, another browser,
	// another provider, already used or expired). A flow is spent at most once.
	UseSSOFlow(ctx context.Context, stateHash, browserHash, provider string, now time.Time) (SSOFlow, error)
	// UserByIdentity returns the user linked to the provider's subject; ENOTFOUND otherwise.
	UserByIdentity(ctx context.Context, provider, subject string) (User, error)
	// SignInIdentity creates the user or saves its new role, links (or refreshes the
	// link of) the identity, and appends events, atomically. ECONFLICT when the email
	// is taken by another user (Create), or when no live admin would remain.
	SignInIdentity(ctx context.Context, in IdentitySignIn, events []optimum.Event) error
	// CreateSSOSession starts a browser session of the user that came through provider.
	CreateSSOSession(ctx context.Context, hash, userID, provider string, at, expires time.Time) error
	// SessionProvider returns the provider a live user session came through; "" for a
	// session of a password, a link or a token, or no session.
	SessionProvider(ctx context.Context, hash string, now time.Time) (string, error)
}

// Event types of single sign-on.
const (
	// EventUserIdentityLinked: a user signed in through a provider for the first time.
	EventUserIdentityLinked = "user.identity_linked"
)

// StartSSO records a new sign-in at provider, bound to the browser whose cookie is
// browser, and returns the values to send the person to the provider with.
func (s *Service) StartSSO(ctx context.Context, provider, browser, verifier string) (SSOFlow, error) {
	f := SSOFlow{Provider: provider, State: NewSecret(""), Nonce: NewSecret(""), Verifier: verifier}
	now := s.now().UTC()
	if err := s.store.CreateSSOFlow(ctx, Hash(f.State), Hash(browser), f, now, now.Add(SSOFlowLifetime)); err != nil {
		return SSOFlow{}, err
	}
	return f, nil
}

var errSSOState = optimum.Errorf(optimum.EUNAUTHORIZED, "This sign-in is unknown, already used, expired, or was started in another browser.")

// FinishSSO spends the flow of state: only the browser that started it, at the same
// provider, within SSOFlowLifetime, and only once.
func (s *Service) FinishSSO(ctx context.Context, provider, state, browser string) (SSOFlow, error) {
	if state == "" || len(state) > 200 || browser == "" || len(browser) > 200 {
		return SSOFlow{}, errSSOState
	}
	f, err := s.store.UseSSOFlow(ctx, Hash(state), Hash(browser), provider, s.now().UTC())
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return SSOFlow{}, errSSOState
	}
	f.State = state
	return f, err
}

// ErrUserDisabled refuses the sign-in of a disabled user through a provider.
var ErrUserDisabled = optimum.Errorf(optimum.EFORBIDDEN, "Your user is disabled; ask an administrator.")

// SignInIdentity signs in the person a provider vouched for, with the role their groups
// map to: the user already linked to that identity, else the user with the same email
// (linked now), else a new user created now (without a password). The user's role
// follows the provider's groups at every sign-in. The user is the directory person with
// the same email (see store.userPerson). It returns the session secret.
//
// The browser is not remembered as a known device of the password lockout: the device
// cookie is sent only to /api/v1/session, so the callback cannot see it, and a new one
// would replace what the browser had for other accounts.
func (s *Service) SignInIdentity(ctx context.Context, id Identity, role optimum.Role) (string, optimum.Actor, error) {
	email, err := NormalizeEmail(id.Email)
	if err != nil || id.Provider == "" || id.Subject == "" || !role.Valid() {
		return "", optimum.Actor{}, optimum.Errorf(optimum.EINVALID, "The identity provider gave no usable email address.")
	}
	id.Email = email
	name := strings.TrimSpace(id.Name)
	if name == "" {
		name = strings.SplitN(email, "@", 2)[0]
	}
	if utf8.RuneCountInString(name) > 100 {
		name = string([]rune(name)[:100])
	}
	id.Name = name
	var u User
	for try := 0; ; try++ {
		u, err = s.signInIdentity(ctx, id, role)
		// Two first sign-ins of one person at once: the one that lost the race for the
		// email finds the user the other created.
		if optimum.ErrorCode(err) == optimum.ECONFLICT && try == 0 {
			continue
		}
		break
	}
	if err != nil {
		return "", optimum.Actor{}, err
	}
	secret := NewSecret("")
	at := s.now().UTC()
	if err := s.store.CreateSSOSession(ctx, Hash(secret), u.ID, id.Provider, at, at.Add(SessionLifetime)); err != nil {
		return "", optimum.Actor{}, err
	}
	return secret, u.Actor(), nil
}

// SessionProvider returns the provider the session of secret came through, or "".
func (s *Service) SessionProvider(ctx context.Context, secret string) (string, error) {
	if secret == "" || len(secret) > 200 {
		return "", nil
	}
	return s.store.SessionProvider(ctx, Hash(secret), s.now())
}

func (s *Service) signInIdentity(ctx context.Context, id Identity, role optimum.Role) (User, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	in := IdentitySignIn{Identity: id, At: now}
	var events []optimum.Event
	u, err := s.store.UserByIdentity(ctx, id.Provider, id.Subject)
	linked := err == nil
	if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return User{}, err
	}
	if !linked {
		u, _, err = s.store.UserByEmail(ctx, id.Email)
		switch {
		case optimum.ErrorCode(err) == optimum.ENOTFOUND:
			u = User{ID: optimum.NewID("usr"), Email: id.Email, Name: id.Name, Role: role, CreatedAt: now, UpdatedAt: now}
			in.Create = true
		case err != nil:
			return User{}, err
		}
	}
	if u.DisabledAt != nil {
		return User{}, ErrUserDisabled
	}
	// The events are the user's own doing: they signed in.
	actor := u.Actor()
	if in.Create {
		e, err := eventAs(actor, EventUserCreated, now, map[string]any{"user": u, "via": "sso", "provider": id.Provider})
		if err != nil {
			return User{}, err
		}
		events = append(events, e)
	}
	if !linked {
		e, err := eventAs(actor, EventUserIdentityLinked, now, map[string]any{"user": u.ID, "provider": id.Provider, "subject": id.Subject, "email": id.Email})
		if err != nil {
			return User{}, err
		}
		events = append(events, e)
	}
	if !in.Create && u.Role != role {
		changes := map[string]any{"role": map[string]optimum.Role{"from": u.Role, "to": role}}
		u.Role, u.UpdatedAt, in.RoleChanged = role, now, true
		e, err := eventAs(actor, EventUserUpdated, now, map[string]any{"user": u, "changes": changes, "via": "sso", "provider": id.Provider})
		if err != nil {
			return User{}, err
		}
		events = append(events, e)
	}
	in.User = u
	if err := s.store.SignInIdentity(ctx, in, events); err != nil {
		return User{}, err
	}
	// Read back: the person is found by email in the store.
	return s.store.User(ctx, u.ID)
}

// PasswordSignInOff refuses email-and-password sign-in when the configuration turns
// it off (sso.password_sign_in: false).
var PasswordSignInOff = optimum.Errorf(optimum.EFORBIDDEN, "Sign-in with a password is turned off here: sign in with your organisation's account.")
