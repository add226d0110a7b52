// Package oidctest is a small but real OpenID Connect provider for tests, on a loopback
// HTTP server: discovery, a JWKS of an RSA key, an authorization endpoint that signs in
// the user the test chose (no login form) and redirects back with a code, a token
// endpoint that checks what a real provider checks (the client's secret, the redirect
// URI, a code used once and within a minute, the PKCE S256 verifier), RS256-signed ID
// tokens, and userinfo. Knobs make it misbehave on purpose (another issuer, audience or
// nonce, an expired token, a token signed by another key) so a relying party's checks
// can be tested one by one.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// User is who the provider signs in.
type User struct {
	Subject       string
	Email         string
	EmailVerified *bool // nil: the claim is not sent
	Name          string
	Groups        []string // sent as the "groups" claim when not nil
	// GroupsOverage makes the person one in too many groups for a token (Entra ID's
	// groups overage): the ID token has no "groups" but "_claim_names" and
	// "_claim_sources" (or, with HasGroups, "hasgroups": true), and these groups are
	// only in the fake Microsoft Graph (StartGraph).
	GroupsOverage []string
	HasGroups     bool
}

// Tamper makes the next ID tokens wrong in one way.
type Tamper struct {
	Issuer    string        // another "iss"
	Audience  string        // another "aud"
	Nonce     string        // another "nonce"
	ExpiredBy time.Duration // "exp" this long in the past
	OtherKey  bool          // signed by a key not in the JWKS (with the same kid)
	NoIDToken bool          // the token response has no id_token
	// ClaimsOnlyInUserinfo leaves email, name and groups out of the ID token (as
	// zitadel's or some Keycloak setups do): only userinfo has them.
	ClaimsOnlyInUserinfo bool
	// UserinfoSubject, when set, is the "sub" userinfo answers (another person's).
	UserinfoSubject string
}

// Provider is the running provider.
type Provider struct {
	URL          string // the issuer
	ClientID     string
	ClientSecret string

	srv      *httptest.Server
	key      *rsa.PrivateKey
	otherKey *rsa.PrivateKey

	mu        sync.Mutex
	redirects []string
	user      User
	tamper    Tamper
	deny      bool
	codes     map[string]*grant
	access    map[string]User
	exchanges int
	refused   []string
	lastAuth  url.Values
	logouts   int
}

type grant struct {
	user      User
	redirect  string
	challenge string
	nonce     string
	scope     string
	expires   time.Time
	used      bool
}

// Start runs a provider for the test with a client "optimum"/"client-secret", and
// stops it when the test ends.
func Start(tb testing.TB) *Provider {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Provider{ClientID: "optimum", ClientSecret: "client-secret", key: key, otherKey: other,
		codes: map[string]*grant{}, access: map[string]User{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /keys", p.keys)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	mux.HandleFunc("GET /logout", p.logout)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	tb.Cleanup(p.srv.Close)
	return p
}

// AllowRedirect registers a redirect URI of the client.
func (p *Provider) AllowRedirect(uri string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirects = append(p.redirects, uri)
}

// SignIn sets the user the authorization endpoint signs in from now on.
func (p *Provider) SignIn(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user, p.deny = u, false
}

// Deny makes the authorization endpoint answer error=access_denied, as when the person
// declines.
func (p *Provider) Deny() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deny = true
}

// SetTamper makes the next ID tokens wrong as t says; Tamper{} makes them right again.
func (p *Provider) SetTamper(t Tamper) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = t
}

// Exchanges counts the codes exchanged for tokens.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

// LastAuthorize is the query of the last authorization request.
func (p *Provider) LastAuthorize() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastAuth
}

// Refused lists why the provider refused requests (for test failure messages).
func (p *Provider) Refused() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.refused)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"jwks_uri":                              p.URL + "/keys",
		"end_session_endpoint":                  p.URL + "/logout",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "email", "profile", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func (p *Provider) keys(w http.ResponseWriter, r *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (p *Provider) refuse(w http.ResponseWriter, status int, code, why string) {
	p.mu.Lock()
	p.refused = append(p.refused, why)
	p.mu.Unlock()
	writeJSON(w, status, map[string]string{"error": code, "error_description": why})
}

// authorize checks the request as a provider does and signs the chosen user in at once.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastAuth = q
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != p.ClientID || !slices.Contains(p.redirects, redirect) {
		p.refused = append(p.refused, "authorize: unknown client or redirect_uri "+redirect)
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back, _ := url.Parse(redirect)
	v := url.Values{"state": {q.Get("state")}}
	fail := func(code, why string) {
		p.refused = append(p.refused, "authorize: "+why)
		v.Set("error", code)
		v.Set("error_description", why)
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "response_type must be code")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "scope must include openid")
		return
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		fail("invalid_request", "PKCE with S256 is required")
		return
	case q.Get("state") == "":
		fail("invalid_request", "state is required")
		return
	case p.deny:
		fail("access_denied", "the user declined")
		return
	}
	code := randomString()
	p.codes[code] = &grant{user: p.user, redirect: redirect, challenge: q.Get("code_challenge"), nonce: q.Get("nonce"),
		scope: q.Get("scope"), expires: time.Now().Add(time.Minute)}
	v.Set("code", code)
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token exchanges a code: client authentication (basic or in the form), grant type,
// code live and unused, same redirect URI, and the PKCE verifier of the challenge.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.refuse(w, http.StatusBadRequest, "invalid_request", "form: "+err.Error())
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.ClientSecret)) != 1 {
		p.refuse(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		p.refuse(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code")
		return
	}
	p.mu.Lock()
	g := p.codes[r.PostForm.Get("code")]
	switch {
	case g == nil || g.used || time.Now().After(g.expires):
		p.mu.Unlock()
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "unknown, used or expired code")
		return
	case g.redirect != r.PostForm.Get("redirect_uri"):
		p.mu.Unlock()
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "redirect_uri differs from the authorization request")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if b64(sum[:]) != g.challenge {
		p.mu.Unlock()
		p.refuse(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match the code_challenge")
		return
	}
	g.used = true
	p.exchanges++
	tamper := p.tamper
	access := randomString()
	p.access[access] = g.user
	if tamper.UserinfoSubject != "" {
		other := g.user
		other.Subject = tamper.UserinfoSubject
		p.access[access] = other
	}
	p.mu.Unlock()

	now := time.Now()
	claims := map[string]any{
		"iss": p.URL, "sub": g.user.Subject, "aud": p.ClientID, "iat": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce,
	}
	scopes := strings.Fields(g.scope)
	if slices.Contains(scopes, "email") && g.user.Email != "" {
		claims["email"] = g.user.Email
		if g.user.EmailVerified != nil {
			claims["email_verified"] = *g.user.EmailVerified
		}
	}
	if slices.Contains(scopes, "profile") && g.user.Name != "" {
		claims["name"] = g.user.Name
	}
	if g.user.Groups != nil {
		claims["groups"] = g.user.Groups
	}
	if g.user.GroupsOverage != nil {
		if g.user.HasGroups {
			claims["hasgroups"] = true
		} else {
			// As Entra sends it: a source naming the retired Azure AD Graph.
			claims["_claim_names"] = map[string]any{"groups": "src1"}
			claims["_claim_sources"] = map[string]any{"src1": map[string]any{
				"endpoint": "https://graph.windows.net/tenant/users/" + g.user.Subject + "/getMemberObjects"}}
		}
	}
	if tamper.ClaimsOnlyInUserinfo {
		delete(claims, "email")
		delete(claims, "email_verified")
		delete(claims, "name")
		delete(claims, "groups")
	}
	if tamper.Issuer != "" {
		claims["iss"] = tamper.Issuer
	}
	if tamper.Audience != "" {
		claims["aud"] = tamper.Audience
	}
	if tamper.Nonce != "" {
		claims["nonce"] = tamper.Nonce
	}
	if tamper.ExpiredBy > 0 {
		claims["iat"] = now.Add(-tamper.ExpiredBy - 5*time.Minute).Unix()
		claims["exp"] = now.Add(-tamper.ExpiredBy).Unix()
	}
	key := p.key
	if tamper.OtherKey {
		key = p.otherKey
	}
	out := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300}
	if !tamper.NoIDToken {
		out["id_token"] = sign(key, claims)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

func (p *Provider) userinfo(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	p.mu.Lock()
	u, ok := p.access[token]
	p.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		p.refuse(w, http.StatusUnauthorized, "invalid_token", "unknown access token")
		return
	}
	out := map[string]any{"sub": u.Subject}
	if u.Email != "" {
		out["email"] = u.Email
	}
	if u.EmailVerified != nil {
		out["email_verified"] = *u.EmailVerified
	}
	if u.Name != "" {
		out["name"] = u.Name
	}
	if u.Groups != nil {
		out["groups"] = u.Groups
	}
	writeJSON(w, http.StatusOK, out)
}

// logout is RP-Initiated Logout: the client and a registered post-logout URI (here,
// any URI at the origin of a registered redirect URI), then back there.
func (p *Provider) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	back := q.Get("post_logout_redirect_uri")
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := false
	if bu, err := url.Parse(back); err == nil && q.Get("client_id") == p.ClientID {
		for _, rd := range p.redirects {
			if ru, err := url.Parse(rd); err == nil && ru.Scheme == bu.Scheme && ru.Host == bu.Host {
				ok = true
			}
		}
	}
	if !ok {
		p.refused = append(p.refused, "logout: unknown client or post_logout_redirect_uri "+back)
		http.Error(w, "unknown client or post_logout_redirect_uri", http.StatusBadRequest)
		return
	}
	p.logouts++
	http.Redirect(w, r, back, http.StatusFound)
}

// Logouts counts the sign-outs the provider saw.
func (p *Provider) Logouts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logouts
}

// sign makes a compact JWS with RS256 (RFC 7515, 7518).
func sign(key *rsa.PrivateKey, claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "k1", "typ": "JWT"})
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return b64(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Graph is a fake Microsoft Graph for the groups overage: POST /v1.0/me/getMemberObjects
// with an access token the provider issued answers the GroupsOverage of its person, as
// Graph does ({"value": [ids]}); anything else is Graph's 401 or 400.
type Graph struct {
	URL string // the base URL to configure, ending in /v1.0

	p        *Provider
	mu       sync.Mutex
	fail     int // answer this status instead, when not 0
	requests int
}

// StartGraph runs a fake Graph that knows the provider's access tokens.
func (p *Provider) StartGraph(tb testing.TB) *Graph {
	tb.Helper()
	g := &Graph{p: p}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1.0/me/getMemberObjects", g.memberObjects)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	g.URL = srv.URL + "/v1.0"
	return g
}

// Fail makes Graph answer status from now on (403: the token lacks the permission).
func (g *Graph) Fail(status int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fail = status
}

// Requests is how many requests Graph answered with the groups.
func (g *Graph) Requests() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.requests
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

func (g *Graph) memberObjects(w http.ResponseWriter, r *http.Request) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	g.p.mu.Lock()
	u, ok := g.p.access[token]
	g.p.mu.Unlock()
	if !strings.EqualFold(scheme, "Bearer") || !ok {
		graphError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
		return
	}
	var body struct {
		SecurityEnabledOnly *bool `json:"securityEnabledOnly"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.SecurityEnabledOnly == nil {
		graphError(w, http.StatusBadRequest, "Request_BadRequest", "securityEnabledOnly is required.")
		return
	}
	g.mu.Lock()
	fail := g.fail
	if fail == 0 {
		g.requests++
	}
	g.mu.Unlock()
	if fail != 0 {
		graphError(w, fail, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return
	}
	ids := u.GroupsOverage
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)", "value": ids})
}
