// Package oidc signs people in through OpenID Connect providers (Entra ID, Google,
// Keycloak, Okta…): the authorization code flow with PKCE (S256) and a nonce, the
// provider found by discovery, the ID token verified (signature by the provider's
// published keys, issuer, audience, expiry, nonce), and the provider's groups mapped to
// our roles. It knows nothing of HTTP routes, sessions or users: the HTTP layer binds
// the state to the browser (internal/auth keeps it server-side) and signs the user in.
//
// Every request to the provider goes through the client it is given: the server's
// outbound guard (internal/netguard), so a provider URL cannot reach an internal
// service.
package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
)

// Reasons a sign-in is refused, each with its own page.
const (
	// ReasonToken: the ID token is not one the provider issued for us now (wrong
	// issuer, audience or nonce, expired, badly signed) or the code exchange failed.
	ReasonToken = "token"
	// ReasonEmail: no email address, an unverified one, or one of a domain not allowed.
	ReasonEmail = "email"
	// ReasonGroups: the person is in none of the groups mapped to a role.
	ReasonGroups = "groups"
	// ReasonProvider: the provider answered with an error (the person declined…).
	ReasonProvider = "provider"
	// ReasonUnavailable: the provider could not be reached.
	ReasonUnavailable = "unavailable"
	// ReasonGroupsUnavailable: the person is in too many groups for the ID token (Entra
	// ID's groups overage) and Microsoft Graph did not give them (graph.go).
	ReasonGroupsUnavailable = "groups_unavailable"
)

// Refusal is a sign-in the provider's answer does not allow. Err, for the log, says
// exactly what was wrong; Reason is what the person is told.
type Refusal struct {
	Reason string
	Err    error
}

func (r *Refusal) Error() string { return "sign-in refused (" + r.Reason + "): " + r.Err.Error() }
func (r *Refusal) Unwrap() error { return r.Err }

func refuse(reason string, format string, args ...any) error {
	return &Refusal{Reason: reason, Err: fmt.Errorf(format, args...)}
}

// Provider is one configured identity provider. Discovery happens on first use and is
// kept once it succeeds, so a provider that is down at start is tried again later.
type Provider struct {
	cfg    config.SSOProvider
	client *http.Client
	now    func() time.Time

	mu sync.Mutex
	op *gooidc.Provider
}

// New returns the provider of cfg, reached through client (the outbound guard's); now
// nil means time.Now.
func New(cfg config.SSOProvider, client *http.Client, now func() time.Time) *Provider {
	if now == nil {
		now = time.Now
	}
	return &Provider{cfg: cfg, client: client, now: now}
}

// ID is the provider's id in the configuration.
func (p *Provider) ID() string { return p.cfg.ID }

// Name is the text of the provider's button.
func (p *Provider) Name() config.Names { return p.cfg.Name }

func (p *Provider) discover(ctx context.Context) (*gooidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.op != nil {
		return p.op, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	// The issuer exactly as configured: go-oidc compares it with discovery's.
	op, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), p.cfg.Issuer)
	if err != nil {
		return nil, refuse(ReasonUnavailable, "discovery of %s: %w", p.cfg.Issuer, err)
	}
	p.op = op
	return op, nil
}

func (p *Provider) oauth2(op *gooidc.Provider, redirect string) *oauth2.Config {
	scopes := p.cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"email", "profile"}
	}
	all := []string{gooidc.ScopeOpenID}
	for _, s := range scopes {
		if s != gooidc.ScopeOpenID && !slices.Contains(all, s) {
			all = append(all, s)
		}
	}
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret, Endpoint: op.Endpoint(), RedirectURL: redirect, Scopes: all}
}

// AuthCodeURL is where to send the person: the provider's authorization endpoint with
// the state, the nonce and the S256 challenge of the flow's verifier.
func (p *Provider) AuthCodeURL(ctx context.Context, redirect string, f auth.SSOFlow) (string, error) {
	op, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier), gooidc.Nonce(f.Nonce)}
	if p.cfg.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", p.cfg.Prompt))
	}
	return p.oauth2(op, redirect).AuthCodeURL(f.State, opts...), nil
}

// claims are the claims read from the ID token and, for what it lacks, from userinfo.
type claims struct {
	Email         string `json:"email"`
	EmailVerified *bool  `json:"email_verified"`
	Name          string `json:"name"`
	PreferredName string `json:"preferred_username"`
	HD            string `json:"hd"` // Google Workspace domain
}

// Exchange finishes the flow: it trades the code (with the PKCE verifier) for tokens,
// verifies the ID token and its nonce, and returns who the person is and their groups.
// Every failure is a *Refusal.
func (p *Provider) Exchange(ctx context.Context, redirect, code string, f auth.SSOFlow) (auth.Identity, []string, error) {
	op, err := p.discover(ctx)
	if err != nil {
		return auth.Identity{}, nil, err
	}
	if code == "" || len(code) > 4096 {
		return auth.Identity{}, nil, refuse(ReasonToken, "no authorization code in the callback")
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ctx = gooidc.ClientContext(ctx, p.client)
	tok, err := p.oauth2(op, redirect).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return auth.Identity{}, nil, refuse(ReasonToken, "code exchange refused: %w", err)
		}
		return auth.Identity{}, nil, refuse(ReasonUnavailable, "code exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return auth.Identity{}, nil, refuse(ReasonToken, "the token response has no id_token")
	}
	// exp is checked with no leeway, nbf with 5 minutes (go-oidc); iat is not checked.
	idt, err := op.Verifier(&gooidc.Config{ClientID: p.cfg.ClientID, Now: p.now}).Verify(ctx, raw)
	if err != nil {
		return auth.Identity{}, nil, refuse(ReasonToken, "ID token: %w", err)
	}
	// go-oidc leaves the nonce to the caller.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return auth.Identity{}, nil, refuse(ReasonToken, "ID token: the nonce is not the one of this sign-in")
	}
	if idt.Subject == "" {
		return auth.Identity{}, nil, refuse(ReasonToken, "ID token: no subject")
	}
	var c claims
	all := map[string]any{}
	if err := idt.Claims(&c); err != nil {
		return auth.Identity{}, nil, refuse(ReasonToken, "ID token claims: %w", err)
	}
	if err := idt.Claims(&all); err != nil {
		return auth.Identity{}, nil, refuse(ReasonToken, "ID token claims: %w", err)
	}
	groupsClaim := p.groupsClaim()
	_, hasGroups := claimAt(all, groupsClaim)
	// Some providers put the email or the groups only in the userinfo answer (and
	// Keycloak or Okta may be set up so): ask for what the ID token lacks.
	// A userinfo that fails costs only what it would have added: the groups of a person
	// whose ID token had the email (they may still have the default role).
	var ui *gooidc.UserInfo
	if (c.Email == "" || !hasGroups) && op.UserInfoEndpoint() != "" {
		ui, err = op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil && c.Email == "" {
			return auth.Identity{}, nil, refuse(ReasonUnavailable, "userinfo: %w", err)
		}
	}
	if ui != nil {
		if ui.Subject != idt.Subject {
			return auth.Identity{}, nil, refuse(ReasonToken, "userinfo is of another subject than the ID token")
		}
		var uc claims
		uall := map[string]any{}
		if err := ui.Claims(&uc); err != nil {
			return auth.Identity{}, nil, refuse(ReasonToken, "userinfo claims: %w", err)
		}
		_ = ui.Claims(&uall)
		if c.Email == "" {
			c.Email, c.EmailVerified = uc.Email, uc.EmailVerified
		}
		if c.Name == "" {
			c.Name = uc.Name
		}
		if c.HD == "" {
			c.HD = uc.HD
		}
		if !hasGroups {
			if v, ok := claimAt(uall, groupsClaim); ok {
				all[groupsClaim] = v
			}
		}
	}
	if _, has := claimAt(all, groupsClaim); !has && overage(all, groupsClaim) {
		// Entra ID's groups overage: the groups are only in Microsoft Graph. Without
		// them the role cannot be known: refused, never a guess (graph.go).
		gs, err := p.graphGroups(ctx, tok.AccessToken)
		if err != nil {
			return auth.Identity{}, nil, refuse(ReasonGroupsUnavailable, "groups overage: %w", err)
		}
		list := make([]any, len(gs))
		for i, g := range gs {
			list[i] = g
		}
		all[groupsClaim] = list
	}
	email, err := auth.NormalizeEmail(c.Email)
	if err != nil {
		return auth.Identity{}, nil, refuse(ReasonEmail, "no usable email: %q", c.Email)
	}
	if c.EmailVerified != nil && !*c.EmailVerified {
		return auth.Identity{}, nil, refuse(ReasonEmail, "the provider has not verified %s", email)
	}
	if len(p.cfg.AllowedDomains) > 0 {
		_, domain, _ := strings.Cut(email, "@")
		if !p.domainAllowed(domain) || (c.HD != "" && !p.domainAllowed(c.HD)) {
			return auth.Identity{}, nil, refuse(ReasonEmail, "the domain of %s is not allowed", email)
		}
	}
	name := c.Name
	if name == "" {
		name = c.PreferredName
	}
	groups, _ := claimAt(all, groupsClaim)
	return auth.Identity{Provider: p.cfg.ID, Subject: idt.Subject, Email: email, Name: name}, stringList(groups), nil
}

func (p *Provider) groupsClaim() string {
	if p.cfg.GroupsClaim != "" {
		return p.cfg.GroupsClaim
	}
	return "groups"
}

func (p *Provider) domainAllowed(d string) bool {
	for _, a := range p.cfg.AllowedDomains {
		if strings.EqualFold(a, d) {
			return true
		}
	}
	return false
}

// claimAt finds a claim by its name, or by a dotted path into nested objects when no
// claim has the whole name (Keycloak's "realm_access.roles").
func claimAt(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	head, rest, nested := strings.Cut(name, ".")
	if !nested {
		return nil, false
	}
	inner, ok := claims[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return claimAt(inner, rest)
}

// stringList reads a claim that is a list of strings, one string, or an object whose
// keys are the values (Zitadel's project roles claim).
func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]any:
		out := make([]string, 0, len(x))
		for k := range x {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// Role is the role of a person in groups: the highest role any of their groups maps
// to, else the configured default role; ok false when neither gives one (the person
// is refused).
func (p *Provider) Role(groups []string) (role optimum.Role, ok bool) {
	for _, g := range groups {
		r, mapped := p.cfg.Roles[g]
		if !mapped {
			continue
		}
		if cand := optimum.Role(r); cand.Valid() && (role == "" || cand.AtLeast(role)) {
			role = cand
		}
	}
	if role == "" && p.cfg.DefaultRole != "" {
		role = optimum.Role(p.cfg.DefaultRole)
	}
	return role, role.Valid()
}

// NewVerifier returns a fresh PKCE code verifier (RFC 7636), one per sign-in.
func NewVerifier() string { return oauth2.GenerateVerifier() }

// LogoutURL is where to send the browser to end the person's session at the provider
// too (OpenID Connect RP-Initiated Logout), coming back to back; ok false when the
// provider has no end_session_endpoint (Google) or cannot be reached now.
func (p *Provider) LogoutURL(ctx context.Context, back string) (string, bool) {
	op, err := p.discover(ctx)
	if err != nil {
		return "", false
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if op.Claims(&meta) != nil || meta.EndSession == "" {
		return "", false
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	q := u.Query()
	q.Set("client_id", p.cfg.ClientID)
	q.Set("post_logout_redirect_uri", back)
	u.RawQuery = q.Encode()
	return u.String(), true
}
