package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// User is a person who signs in with an email and a password. The password hash never
// leaves the store except to be verified.
type User struct {
	ID    string       `json:"id"`
	Email string       `json:"email"` // normalized: trimmed, lower-case
	Name  string       `json:"name"`
	Role  optimum.Role `json:"role"`
	// Scope limits what the user may touch to teams and sites; nil for no limit.
	Scope *optimum.Scope `json:"scope,omitempty"`
	// PersonID is the directory person this user is, once the directory links it.
	PersonID    string     `json:"person_id,omitempty"`
	HasPassword bool       `json:"has_password"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DisabledAt  *time.Time `json:"disabled_at"`
}

// Actor is the user as the actor of a request.
func (u User) Actor() optimum.Actor {
	return optimum.Actor{ID: u.ID, Name: u.Name, Role: u.Role, PersonID: u.PersonID, Scope: u.Scope}
}

// NewUser is a user as CreateUser stores it, with what must be written with it.
type NewUser struct {
	User
	PasswordHash string    // "" until the user sets a password
	CodeHash     string    // hash of a one-time set-password code, or ""
	CodeExpires  time.Time // when that code stops working
}

// UserStore keeps user accounts, their sessions, their one-time set-password codes, and
// the count of failed sign-ins per attempted email. Every method that changes a user
// appends its event in the same transaction, so the log and the table never disagree.
type UserStore interface {
	// CreateUser inserts the user (and its code, when CodeHash is set) and appends e.
	// ECONFLICT when the email is taken.
	CreateUser(ctx context.Context, u NewUser, e optimum.Event) error
	// User returns the user with the id; ENOTFOUND otherwise.
	User(ctx context.Context, id string) (User, error)
	// UserByEmail returns the user with the normalized email and its password hash ("" if
	// none is set); ENOTFOUND otherwise. Disabled users are returned too.
	UserByEmail(ctx context.Context, email string) (User, string, error)
	// Users lists every user, disabled ones included, oldest first.
	Users(ctx context.Context) ([]User, error)
	// UpdateUser saves the name, role and disabled time of u and appends e. Disabling
	// ends the user's sessions. ECONFLICT when no live admin (user or token) would remain.
	UpdateUser(ctx context.Context, u User, e optimum.Event) error
	// SetPassword stores a new hash, ends every session of the user but the one whose
	// hash is keepSession, and appends e.
	SetPassword(ctx context.Context, userID, hash, keepSession string, at time.Time, e optimum.Event) error
	// CreatePasswordCode stores a one-time set-password code for the user.
	CreatePasswordCode(ctx context.Context, hash, userID string, expires time.Time) error
	// PasswordCodeUser returns the user of a live (unused, unexpired) code; ENOTFOUND otherwise.
	PasswordCodeUser(ctx context.Context, hash string, now time.Time) (User, error)
	// UsePasswordCode marks the user's code used, sets the password hash, ends the user's
	// sessions and appends e, atomically; ENOTFOUND if the code is no longer live.
	UsePasswordCode(ctx context.Context, hash, userID, passwordHash string, now time.Time, e optimum.Event) error
	// CreateUserSession starts a browser session of the user.
	CreateUserSession(ctx context.Context, hash, userID string, at, expires time.Time) error
	// UserSession returns the user of a live session, read at each call so a new role
	// or a disabling applies on the next request; ENOTFOUND otherwise (or when disabled).
	UserSession(ctx context.Context, hash string, now time.Time) (User, error)
	// SignInLock returns until when sign-ins with the key are locked (zero if never).
	SignInLock(ctx context.Context, key string) (time.Time, error)
	// RecordSignInFailure counts one more consecutive failure of the key and locks it
	// for delay(count) from now. It also forgets keys idle for a day, so the table stays
	// small whatever addresses are tried.
	RecordSignInFailure(ctx context.Context, key string, now time.Time, delay func(failures int) time.Duration) error
	// ResetSignInFailures forgets the failures of the key.
	ResetSignInFailures(ctx context.Context, key string) error
	// SignInDevice reports whether the device (the hash of its cookie) signed in to the
	// account (its throttle key) before and is still remembered (known), and whether
	// any account remembers it (exists).
	SignInDevice(ctx context.Context, device, account string, now time.Time) (known, exists bool, err error)
	// RememberDevice remembers that the device signed in to the account, until expires.
	RememberDevice(ctx context.Context, device, account string, now, expires time.Time) error
}

// Event types appended when users and tokens change. The data names the subject and what
// changed; it never holds a secret or a hash.
const (
	EventUserCreated         = "user.created"
	EventUserUpdated         = "user.updated"
	EventUserDisabled        = "user.disabled"
	EventUserEnabled         = "user.enabled"
	EventUserPasswordChanged = "user.password_changed"
	EventTokenCreated        = "token.created"
	EventTokenRevoked        = "token.revoked"
)

// PasswordCodeLifetime is how long a set-password link works.
const PasswordCodeLifetime = 72 * time.Hour

// PasswordLinkPath is the path of the page where a code is spent.
func PasswordLinkPath(code string) string { return "/set-password/" + code }

// NormalizeEmail trims and lower-cases an address and checks that it is a bare address
// (no display name), at most 254 bytes.
func NormalizeEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || strings.ContainsAny(s, " \t\r\n") {
		return "", fmt.Errorf("%q is not an email address", truncate(s, 80))
	}
	return s, nil
}

// UserInput is what an admin gives to create a user. Without a password, the user gets a
// one-time link to set one.
type UserInput struct {
	Email    string       `json:"email"`
	Name     string       `json:"name"`
	Role     optimum.Role `json:"role"`
	Password string       `json:"password,omitempty"`
}

// UserChange is a partial update; nil fields stay as they are.
type UserChange struct {
	Name     *string       `json:"name,omitempty"`
	Role     *optimum.Role `json:"role,omitempty"`
	Disabled *bool         `json:"disabled,omitempty"`
	// Scope replaces the teams and sites the user is limited to; {} removes the limit.
	Scope *optimum.Scope `json:"scope,omitempty"`
}

func checkName(name string, f []optimum.FieldError) (string, []optimum.FieldError) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || !utf8.ValidString(name) {
		f = append(f, optimum.FieldError{Field: "name", Message: "is required, at most 100 characters"})
	}
	return name, f
}

func checkRole(role optimum.Role, f []optimum.FieldError) []optimum.FieldError {
	if !role.Valid() {
		f = append(f, optimum.FieldError{Field: "role", Message: fmt.Sprintf("%q is not one of admin, manager, responder, reporter, lanzador", truncate(string(role), 40))})
	}
	return f
}

// CreateUser creates a user. With a password, the user can sign in at once; without one,
// it returns a one-time code for PasswordLinkPath, the only time it is shown.
func (s *Service) CreateUser(ctx context.Context, in UserInput) (User, string, error) {
	var f []optimum.FieldError
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		f = append(f, optimum.FieldError{Field: "email", Message: "must be an email address such as ana@example.com"})
	}
	name, f := checkName(in.Name, f)
	f = checkRole(in.Role, f)
	if in.Password != "" {
		if err := CheckPassword(in.Password, email, "password"); err != nil {
			f = append(f, optimum.ErrorFields(err)...)
		}
	}
	if err := optimum.Invalid("The user has errors.", f); err != nil {
		return User{}, "", err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	nu := NewUser{User: User{ID: optimum.NewID("usr"), Email: email, Name: name, Role: in.Role, CreatedAt: now, UpdatedAt: now}}
	var code string
	if in.Password != "" {
		if nu.PasswordHash, err = s.hashPassword(ctx, in.Password); err != nil {
			return User{}, "", err
		}
		nu.HasPassword = true
	} else {
		code = NewSecret("")
		nu.CodeHash, nu.CodeExpires = Hash(code), now.Add(PasswordCodeLifetime)
	}
	e, err := userEvent(ctx, EventUserCreated, now, map[string]any{"user": nu.User})
	if err != nil {
		return User{}, "", err
	}
	if err := s.store.CreateUser(ctx, nu, e); err != nil {
		return User{}, "", err
	}
	return nu.User, code, nil
}

// Users lists every user.
func (s *Service) Users(ctx context.Context) ([]User, error) { return s.store.Users(ctx) }

// User returns one user.
func (s *Service) User(ctx context.Context, id string) (User, error) { return s.store.User(ctx, id) }

// UpdateUser applies a change. A new role applies on the user's next request; disabling
// ends the user's sessions at once. A change that changes nothing appends no event.
func (s *Service) UpdateUser(ctx context.Context, id string, ch UserChange) (User, error) {
	var f []optimum.FieldError
	if ch.Name != nil {
		var name string
		name, f = checkName(*ch.Name, f)
		ch.Name = &name
	}
	if ch.Role != nil {
		f = checkRole(*ch.Role, f)
	}
	if ch.Scope != nil {
		f = append(f, CheckScope(ch.Scope)...)
	}
	if err := optimum.Invalid("The change has errors.", f); err != nil {
		return User{}, err
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return User{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	before := u
	changes := map[string]any{}
	if ch.Name != nil && *ch.Name != u.Name {
		changes["name"] = map[string]string{"from": u.Name, "to": *ch.Name}
		u.Name = *ch.Name
	}
	if ch.Role != nil && *ch.Role != u.Role {
		changes["role"] = map[string]optimum.Role{"from": u.Role, "to": *ch.Role}
		u.Role = *ch.Role
	}
	if ch.Scope != nil && encodeScope(ch.Scope) != encodeScope(u.Scope) {
		changes["scope"] = map[string]*optimum.Scope{"from": u.Scope, "to": ch.Scope}
		u.Scope = ch.Scope
		if !u.Scope.Limits() {
			u.Scope = nil
		}
	}
	typ := EventUserUpdated
	if ch.Disabled != nil && *ch.Disabled != (u.DisabledAt != nil) {
		if *ch.Disabled {
			u.DisabledAt, typ = &now, EventUserDisabled
		} else {
			u.DisabledAt, typ = nil, EventUserEnabled
		}
	}
	if len(changes) == 0 && typ == EventUserUpdated {
		return u, nil
	}
	u.UpdatedAt = now
	data := map[string]any{"user": u}
	if len(changes) > 0 {
		data["changes"] = changes
	}
	e, err := userEvent(ctx, typ, now, data)
	if err != nil {
		return User{}, err
	}
	if err := s.store.UpdateUser(ctx, u, e); err != nil {
		return before, err
	}
	return u, nil
}

// DisableUser disables a user and ends their sessions. Disabling a disabled user is a no-op.
func (s *Service) DisableUser(ctx context.Context, id string) error {
	yes := true
	_, err := s.UpdateUser(ctx, id, UserChange{Disabled: &yes})
	return err
}

// PasswordLink returns a new one-time code with which the user sets a (new) password,
// e.g. when they forgot theirs. The current password keeps working until then.
func (s *Service) PasswordLink(ctx context.Context, id string) (string, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return "", err
	}
	if u.DisabledAt != nil {
		return "", optimum.Errorf(optimum.ECONFLICT, "The user %s is disabled; enable them first.", u.Email)
	}
	code := NewSecret("")
	if err := s.store.CreatePasswordCode(ctx, Hash(code), u.ID, s.now().Add(PasswordCodeLifetime)); err != nil {
		return "", err
	}
	return code, nil
}

// SetPasswordWithCode spends a one-time code: it sets the password, ends the user's other
// sessions and starts a new one, whose secret it returns for a cookie.
func (s *Service) SetPasswordWithCode(ctx context.Context, code, password string) (string, optimum.Actor, error) {
	errCode := optimum.Errorf(optimum.EUNAUTHORIZED, "This link is unknown, already used or expired. Ask an administrator for a new one.")
	if code == "" || len(code) > 200 {
		return "", optimum.Actor{}, errCode
	}
	hash := Hash(code)
	now := s.now().UTC().Truncate(time.Millisecond)
	u, err := s.store.PasswordCodeUser(ctx, hash, now)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND || (err == nil && u.DisabledAt != nil) {
		return "", optimum.Actor{}, errCode
	} else if err != nil {
		return "", optimum.Actor{}, err
	}
	if err := CheckPassword(password, u.Email, "password"); err != nil {
		return "", optimum.Actor{}, err
	}
	ph, err := s.hashPassword(ctx, password)
	if err != nil {
		return "", optimum.Actor{}, err
	}
	e, err := eventAs(u.Actor(), EventUserPasswordChanged, now, map[string]any{"user": u.ID, "via": "link"})
	if err != nil {
		return "", optimum.Actor{}, err
	}
	if err := s.store.UsePasswordCode(ctx, hash, u.ID, ph, now, e); err != nil {
		if optimum.ErrorCode(err) == optimum.ENOTFOUND {
			return "", optimum.Actor{}, errCode
		}
		return "", optimum.Actor{}, err
	}
	return s.newUserSession(ctx, u)
}

// ChangePassword changes the password of the signed-in user after checking the current
// one. Their other sessions end; session (the secret of the caller's own session, or "")
// stays. A wrong current password counts as a failed sign-in of the account.
func (s *Service) ChangePassword(ctx context.Context, a optimum.Actor, session, current, next string) error {
	if !strings.HasPrefix(a.ID, "usr_") {
		return optimum.Errorf(optimum.ECONFLICT, "Only users have a password; an API token has none.")
	}
	u, err := s.store.User(ctx, a.ID)
	if err != nil {
		return err
	}
	key := throttleKey(u.Email)
	if err := s.checkLock(ctx, key); err != nil {
		return err
	}
	_, hash, err := s.store.UserByEmail(ctx, u.Email)
	if err != nil {
		return err
	}
	ok, err := s.verifyPassword(ctx, current, hash)
	if err != nil {
		return err
	}
	if !ok {
		if err := s.store.RecordSignInFailure(ctx, key, s.now(), s.lockout.Delay); err != nil {
			return err
		}
		return optimum.Invalid("The password was not changed.", []optimum.FieldError{{Field: "current", Message: "is not your current password"}})
	}
	if err := CheckPassword(next, u.Email, "new"); err != nil {
		return err
	}
	if next == current {
		return optimum.Invalid("The password was not changed.", []optimum.FieldError{{Field: "new", Message: "must differ from the current password"}})
	}
	ph, err := s.hashPassword(ctx, next)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	e, err := eventAs(a, EventUserPasswordChanged, now, map[string]any{"user": u.ID, "via": "self"})
	if err != nil {
		return err
	}
	keep := ""
	if session != "" {
		keep = Hash(session)
	}
	return s.store.SetPassword(ctx, u.ID, ph, keep, now, e)
}

var errBadPassword = optimum.Errorf(optimum.EUNAUTHORIZED, "The email or the password is wrong.")

// SignInPassword checks an email and a password and starts a session. Every failure that
// could tell whether an account exists (unknown email, wrong password, disabled user, no
// password set yet) gives the same error after the same work: a password hash is verified
// in every case, against a dummy hash when there is no real one. Repeated failures of one
// email, known or not, lock it for a growing time (see Lockout); while locked the answer
// is a *ThrottledError, again the same for every email.
func (s *Service) SignInPassword(ctx context.Context, email, password string) (string, optimum.Actor, error) {
	secret, a, _, err := s.SignInPasswordFrom(ctx, email, password, Attempt{})
	return secret, a, err
}

// Attempt is where a password sign-in comes from.
type Attempt struct {
	// Client names the client's address (an IPv4 address, an IPv6 /64).
	Client string
	// Device is the device cookie the browser sent, if any: the proof that this browser
	// signed in to some account before.
	Device string
}

// KnownDevice reports whether the browser with the device cookie signed in to the
// account of email before (and is still remembered). Errors count as unknown.
func (s *Service) KnownDevice(ctx context.Context, email, device string) bool {
	if device == "" || len(device) > 100 {
		return false
	}
	known, _, err := s.store.SignInDevice(ctx, Hash(device), throttleKey(strings.ToLower(strings.TrimSpace(email))), s.now())
	return err == nil && known
}

// DeviceLifetime is how long a browser that signed in is remembered as known.
const DeviceLifetime = 180 * 24 * time.Hour

// SignInPasswordFrom signs a user in with a password, and returns the session secret and
// the device cookie to keep in the browser (the same one, or a new one).
//
// Failures lock the way OWASP's device cookies do, so that an attacker cannot lock the
// owner out. A browser that signed in to the account before (its device cookie is
// known for the account) has its own lockout and is never locked by failures from
// elsewhere. Any other browser is locked per account and client address after
// Lockout.Threshold failures, and per account after Lockout.AccountThreshold failures
// from all such browsers together. A success resets the counts it went through.
func (s *Service) SignInPasswordFrom(ctx context.Context, email, password string, at Attempt) (string, optimum.Actor, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > 254 || password == "" || len(password) > 4*MaxPassword {
		return "", optimum.Actor{}, "", errBadPassword
	}
	account := throttleKey(email)
	now := s.now()
	var (
		known, exists bool
		err           error
	)
	if at.Device != "" && len(at.Device) <= 100 {
		if known, exists, err = s.store.SignInDevice(ctx, Hash(at.Device), account, now); err != nil {
			return "", optimum.Actor{}, "", err
		}
	}
	// The keys this attempt is locked by, with the growth of each.
	type lock struct {
		key   string
		delay func(int) time.Duration
	}
	var locks []lock
	if known {
		locks = []lock{{Hash("sign-in-device:" + at.Device + "\n" + email), s.lockout.Delay}}
	} else {
		acct := s.lockout
		acct.Threshold = max(s.lockout.Threshold, s.lockout.AccountThreshold)
		locks = []lock{{Hash("sign-in-client:" + at.Client + "\n" + email), s.lockout.Delay}, {account, acct.Delay}}
	}
	var wait time.Duration
	for _, l := range locks {
		err := s.checkLock(ctx, l.key)
		var te *ThrottledError
		if errors.As(err, &te) {
			wait = max(wait, te.Wait)
		} else if err != nil {
			return "", optimum.Actor{}, "", err
		}
	}
	if wait > 0 {
		return "", optimum.Actor{}, "", &ThrottledError{Wait: wait}
	}
	u, hash, err := s.store.UserByEmail(ctx, email)
	found := err == nil
	if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return "", optimum.Actor{}, "", err
	}
	real := hash != ""
	if !real {
		hash = s.dummyHash()
	}
	ok, err := s.verifyPassword(ctx, password, hash)
	if err != nil {
		return "", optimum.Actor{}, "", err
	}
	if !ok || !found || !real || u.DisabledAt != nil {
		for _, l := range locks {
			if err := s.store.RecordSignInFailure(ctx, l.key, s.now(), l.delay); err != nil {
				return "", optimum.Actor{}, "", err
			}
		}
		return "", optimum.Actor{}, "", errBadPassword
	}
	for _, l := range locks {
		if err := s.store.ResetSignInFailures(ctx, l.key); err != nil {
			return "", optimum.Actor{}, "", err
		}
	}
	device := at.Device
	if !known && !exists {
		device = NewSecret("dev_")
	}
	if err := s.store.RememberDevice(ctx, Hash(device), account, now, now.Add(DeviceLifetime)); err != nil {
		return "", optimum.Actor{}, "", err
	}
	secret, a, err := s.newUserSession(ctx, u)
	return secret, a, device, err
}

func (s *Service) newUserSession(ctx context.Context, u User) (string, optimum.Actor, error) {
	secret := NewSecret("")
	now := s.now().UTC()
	if err := s.store.CreateUserSession(ctx, Hash(secret), u.ID, now, now.Add(SessionLifetime)); err != nil {
		return "", optimum.Actor{}, err
	}
	return secret, u.Actor(), nil
}

// actorOrSystem is the actor of the context; changes made outside a request (the command
// line, the first start) are the system's.
func actorOrSystem(ctx context.Context) optimum.Actor {
	if a, ok := optimum.ActorFrom(ctx); ok {
		return a
	}
	return optimum.System
}

func userEvent(ctx context.Context, typ string, at time.Time, data any) (optimum.Event, error) {
	return eventAs(actorOrSystem(ctx), typ, at, data)
}

func eventAs(a optimum.Actor, typ string, at time.Time, data any) (optimum.Event, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return optimum.Event{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return optimum.Event{Type: typ, At: at, Actor: &a, Data: b}, nil
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
