package config

import (
	"fmt"
	"net/url"
	"strings"
)

// SSO is single sign-on through OpenID Connect providers (docs/sso.md).
type SSO struct {
	// PasswordSignIn false turns email-and-password sign-in off: users sign in through a
	// provider only. API tokens and one-time login links keep working (service accounts
	// and the first admin need them). OPTIMUM_SSO_PASSWORD_SIGN_IN=false sets it.
	PasswordSignIn bool `yaml:"password_sign_in"`
	// Providers are the identity providers offered on the sign-in page, in this order.
	Providers []SSOProvider `yaml:"providers"`
}

// SSOProvider is one OpenID Connect provider: Entra ID, Google, Keycloak, Okta…
type SSOProvider struct {
	// ID names the provider in URLs (/sso/{id}/start) and in users' links to it; it must
	// not change once people signed in with it.
	ID string `yaml:"id"`
	// Name is the text of its button on the sign-in page.
	Name Names `yaml:"name"`
	// Issuer is the provider's issuer URL; its discovery document is read from
	// Issuer + "/.well-known/openid-configuration" and must name the same issuer.
	Issuer   string `yaml:"issuer"`
	ClientID string `yaml:"client_id"`
	// ClientSecret comes from the environment only: OPTIMUM_SSO_<ID>_CLIENT_SECRET (the id
	// upper-cased, '-' as '_'). Empty for a public client, which PKCE protects.
	ClientSecret string `yaml:"-"`
	// Scopes asked besides "openid"; default email and profile. A provider that sends
	// groups only for a scope (Keycloak's "groups", Okta's "groups") needs it here.
	Scopes []string `yaml:"scopes"`
	// GroupsClaim is the claim of the ID token (or of the userinfo answer) that lists the
	// user's groups; default "groups". Entra ID sends group object ids there, or app
	// roles in "roles". A dotted path reaches into objects ("realm_access.roles" of
	// Keycloak) when no claim has the whole name; an object's keys count as its values.
	GroupsClaim string `yaml:"groups_claim"`
	// Roles maps a group (a value of GroupsClaim) to a role of ours. A user in several
	// mapped groups gets the highest role; a user in none is refused, unless DefaultRole.
	Roles map[string]string `yaml:"roles"`
	// DefaultRole, when set, is the role of a user in no mapped group. Empty refuses them.
	DefaultRole string `yaml:"default_role"`
	// Prompt, when set, is sent as OpenID Connect's "prompt": "login" makes the provider
	// ask for the password every time, "select_account" for the account (shared
	// devices: a reception desk), "consent" for consent. Empty lets the provider decide.
	Prompt string `yaml:"prompt"`
	// AllowedDomains, when set, are the only email domains accepted (Google Workspace's
	// "hd" is checked against them too).
	AllowedDomains []string `yaml:"allowed_domains"`
	// GraphURL is Microsoft Graph's base URL, where the groups of a person in too many
	// for the ID token are read (Entra ID's groups overage: the token has
	// "_claim_names.groups" or "hasgroups" instead of "groups"); default
	// https://graph.microsoft.com/v1.0. The access token of the sign-in must be Graph's:
	// Scopes then include "User.Read" and "GroupMember.Read.All" (docs/sso.md).
	GraphURL string `yaml:"graph_url"`
}

// DefaultGraphURL is Microsoft Graph's base URL (SSOProvider.GraphURL).
const DefaultGraphURL = "https://graph.microsoft.com/v1.0"

func defaultSSO() SSO { return SSO{PasswordSignIn: true, Providers: []SSOProvider{}} }

// SSOSecretEnv is the environment variable that holds the client secret of a provider.
func SSOSecretEnv(id string) string {
	return "OPTIMUM_SSO_" + strings.ToUpper(strings.ReplaceAll(id, "-", "_")) + "_CLIENT_SECRET"
}

func (s *SSO) applyEnv(getenv func(string) string) {
	switch strings.ToLower(getenv("OPTIMUM_SSO_PASSWORD_SIGN_IN")) {
	case "false", "0", "no", "off":
		s.PasswordSignIn = false
	case "true", "1", "yes", "on":
		s.PasswordSignIn = true
	}
	for i := range s.Providers {
		if v := getenv(SSOSecretEnv(s.Providers[i].ID)); v != "" {
			s.Providers[i].ClientSecret = v
		}
	}
}

// ssoRoles are the roles a group may map to (RoleValid lives in the root package, which
// config does not import).
var ssoRoles = map[string]bool{"admin": true, "manager": true, "responder": true, "reporter": true}

func (s SSO) validate(p *problems) {
	seen := map[string]bool{}
	for i, pr := range s.Providers {
		key := fmt.Sprintf("sso.providers[%d]", i)
		switch {
		case !validID(pr.ID):
			p.add(key+".id", "%q must be lower-case letters, digits, '-' or '_' (1-64)", pr.ID)
		case seen[pr.ID]:
			p.add(key+".id", "%q is listed twice", pr.ID)
		}
		seen[pr.ID] = true
		if pr.Name.ES == "" || pr.Name.EN == "" {
			p.add(key+".name", "needs both es and en")
		}
		if u, err := url.Parse(pr.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			p.add(key+".issuer", "must be an https URL such as https://login.microsoftonline.com/<tenant>/v2.0, got %q", pr.Issuer)
		}
		if strings.TrimSpace(pr.ClientID) == "" {
			p.add(key+".client_id", "is required")
		}
		for g, r := range pr.Roles {
			if !ssoRoles[r] {
				p.add(key+".roles."+g, "%q is not one of admin, manager, responder, reporter", r)
			}
		}
		if pr.DefaultRole != "" && !ssoRoles[pr.DefaultRole] {
			p.add(key+".default_role", "%q is not one of admin, manager, responder, reporter (or empty to refuse)", pr.DefaultRole)
		}
		if len(pr.Roles) == 0 && pr.DefaultRole == "" {
			p.add(key+".roles", "map at least one group to a role, or set default_role: nobody could sign in")
		}
		switch pr.Prompt {
		case "", "login", "select_account", "consent", "none":
		default:
			p.add(key+".prompt", "%q is not one of login, select_account, consent, none (or empty)", pr.Prompt)
		}
		if pr.GraphURL != "" {
			if u, err := url.Parse(pr.GraphURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				p.add(key+".graph_url", "must be an https URL such as %s, got %q", DefaultGraphURL, pr.GraphURL)
			}
		}
		for j, d := range pr.AllowedDomains {
			if d == "" || strings.ContainsAny(d, "@ /") {
				p.add(fmt.Sprintf("%s.allowed_domains[%d]", key, j), "%q must be a domain such as example.com", d)
			}
		}
	}
	if !s.PasswordSignIn && len(s.Providers) == 0 {
		p.add("sso.password_sign_in", "cannot be false without a provider: nobody could sign in")
	}
}
