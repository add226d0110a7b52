package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/oidc/oidctest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Single sign-on against a real OpenID provider on loopback (oidctest): it checks the
// client's secret, the redirect URI, single use of codes and the PKCE verifier, and signs
// RS256 ID tokens that go-oidc verifies with the keys it publishes.

func yes() *bool { v := true; return &v }
func no() *bool  { v := false; return &v }

// ssoAPI serves the API with the provider "corp" of op, whose groups map to roles:
// bcp-admins → admin, bcp-managers → manager, everyone → responder.
func ssoAPI(t *testing.T, op *oidctest.Provider, tweak func(*config.Config)) *api {
	t.Helper()
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) {
		c.Outbound.AllowNetworks = []string{"127.0.0.1"} // the provider is a local server
		c.SSO.Providers = []config.SSOProvider{{
			ID: "corp", Name: config.Names{ES: "Cuenta de la empresa", EN: "Company account"},
			Issuer: op.URL, ClientID: op.ClientID, ClientSecret: op.ClientSecret,
			Roles: map[string]string{"bcp-admins": "admin", "bcp-managers": "manager", "everyone": "responder"},
		}}
		if tweak != nil {
			tweak(c)
		}
	})
	op.AllowRedirect(a.srv.URL + "/sso/corp/callback")
	return a
}

// browser is a person's browser: it keeps cookies and follows no redirect by itself.
type browser struct {
	t    *testing.T
	c    *http.Client
	lang string
}

func newBrowser(t *testing.T, lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, lang: lang, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(u string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, data}
}

// toProvider starts a sign-in and returns the callback URL the provider sends back.
func (b *browser) toProvider(a *api) string {
	b.t.Helper()
	res := b.get(a.srv.URL + "/sso/corp/start")
	if res.status != http.StatusSeeOther {
		b.t.Fatalf("start = %d %s", res.status, res.body)
	}
	auth := res.header.Get("Location")
	res = b.get(auth)
	if res.status != http.StatusFound {
		b.t.Fatalf("provider's authorize (%s) = %d %s", auth, res.status, res.body)
	}
	return res.header.Get("Location")
}

// signIn goes through the whole sign-in and returns the callback's answer.
func (b *browser) signIn(a *api) (callback string, res response) {
	b.t.Helper()
	callback = b.toProvider(a)
	return callback, b.get(callback)
}

func (b *browser) me(a *api) (int, optimum.Actor) {
	b.t.Helper()
	res := b.get(a.srv.URL + "/api/v1/me")
	var act optimum.Actor
	if res.status == 200 {
		res.json(b.t, &act)
	}
	return res.status, act
}

// userEvents are the events about users and their links.
func (a *api) userEvents() []string {
	a.t.Helper()
	events, err := a.db.EventsAfter(context.Background(), 0, 10000)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for _, e := range events {
		if strings.HasPrefix(e.Type, "user.") {
			out = append(out, e.Type)
		}
	}
	return out
}

func (a *api) users() []map[string]any {
	a.t.Helper()
	var list []map[string]any
	res := a.do("GET", "/api/v1/users", adminToken, nil)
	if res.status != 200 {
		a.t.Fatalf("users = %d %s", res.status, res.body)
	}
	res.json(a.t, &list)
	return list
}

func TestSSOSignInCreatesTheUserOfThePersonWithTheRoleOfTheirGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		op := oidctest.Start(t)
		a := ssoAPI(t, op, nil)
		res := a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Ana Ruiz", "email": "ana@example.com", "language": "es", "teams": []map[string]string{{"team": "technology"}}})
		if res.status != 201 {
			t.Fatalf("create person = %d %s", res.status, res.body)
		}
		var person struct{ ID string }
		res.json(t, &person)

		op.SignIn(oidctest.User{Subject: "sub-ana", Email: "Ana@Example.com", EmailVerified: yes(), Name: "Ana Ruiz", Groups: []string{"marketing", "bcp-managers", "everyone"}})
		b := newBrowser(t, "")
		_, res = b.signIn(a)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/#/tablero" {
			t.Fatalf("callback = %d %q %s (provider refused: %v)", res.status, res.header.Get("Location"), res.body, op.Refused())
		}
		// The device cookie of the password lockout goes only to /api/v1/session: the
		// callback cannot see it and must not replace it.
		if c := strings.Join(res.header.Values("Set-Cookie"), "; "); strings.Contains(c, "optimum_device") || !strings.Contains(c, "optimum_session=") {
			t.Fatalf("callback sets cookies %q, want the session and not the device", c)
		}
		status, me := b.me(a)
		if status != 200 || me.Role != optimum.RoleManager || me.PersonID != person.ID || me.Name != "Ana Ruiz" {
			t.Fatalf("me = %d %+v, want the manager Ana Ruiz, person %s", status, me, person.ID)
		}
		users := a.users()
		if len(users) != 1 || users[0]["email"] != "ana@example.com" || users[0]["has_password"] != false || users[0]["person_id"] != person.ID {
			t.Fatalf("users = %v, want one user ana@example.com without a password, person %s", users, person.ID)
		}
		if got, want := strings.Join(a.userEvents(), ","), "user.created,user.identity_linked"; got != want {
			t.Fatalf("user events = %s, want %s", got, want)
		}

		// Next time, in another browser, the provider says she is an admin now: the same
		// user, whose role follows the groups.
		op.SignIn(oidctest.User{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: yes(), Name: "Ana Ruiz", Groups: []string{"bcp-admins"}})
		b2 := newBrowser(t, "")
		if _, res := b2.signIn(a); res.status != http.StatusSeeOther {
			t.Fatalf("second sign-in = %d %s", res.status, res.body)
		}
		if _, me2 := b2.me(a); me2.ID != me.ID || me2.Role != optimum.RoleAdmin {
			t.Fatalf("second sign-in is %+v, want %s as admin", me2, me.ID)
		}
		// The first browser's session has the new role too (roles are read per request).
		if _, me1 := b.me(a); me1.Role != optimum.RoleAdmin {
			t.Fatalf("first browser's role = %s, want admin", me1.Role)
		}
		if got, want := strings.Join(a.userEvents(), ","), "user.created,user.identity_linked,user.updated"; got != want {
			t.Fatalf("user events = %s, want %s", got, want)
		}
		if n := op.Exchanges(); n != 2 {
			t.Fatalf("codes exchanged = %d, want 2", n)
		}

		// Sign-out ends the session here, and sends the browser to the provider's
		// sign-out, which comes back to the app.
		req, _ := http.NewRequest("DELETE", a.srv.URL+"/api/v1/session", nil)
		out, err := b2.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var bye struct {
			LogoutURL string `json:"logout_url"`
		}
		data, _ := io.ReadAll(out.Body)
		out.Body.Close()
		response{out.StatusCode, out.Header, data}.json(t, &bye)
		if out.StatusCode != 200 || !strings.HasPrefix(bye.LogoutURL, op.URL+"/logout?") {
			t.Fatalf("sign-out = %d %s, want 200 with the provider's logout URL", out.StatusCode, data)
		}
		if status, _ := b2.me(a); status != 401 {
			t.Fatalf("me after sign-out = %d, want 401", status)
		}
		if res := b2.get(bye.LogoutURL); res.status != http.StatusFound || res.header.Get("Location") != a.srv.URL+"/" || op.Logouts() != 1 {
			t.Fatalf("provider's sign-out = %d to %q, %d logouts (refused: %v)", res.status, res.header.Get("Location"), op.Logouts(), op.Refused())
		}
		// A session that did not come through a provider signs out as before.
		tokenSession := a.do("POST", "/api/v1/session", "", map[string]string{"token": adminToken})
		cookie := strings.Split(tokenSession.header.Get("Set-Cookie"), ";")[0]
		if res := a.do("DELETE", "/api/v1/session", "", nil, "Cookie", cookie); res.status != 204 {
			t.Fatalf("sign-out of another session = %d %s", res.status, res.body)
		}
	})
}

func TestSSOSignInLinksTheExistingUserOfTheSameEmail(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, nil)
	id := a.createUser("luis@example.com", optimum.RoleReporter)
	op.SignIn(oidctest.User{Subject: "sub-luis", Email: "luis@example.com", Name: "Luis", Groups: []string{"everyone"}})
	b := newBrowser(t, "")
	if _, res := b.signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("callback = %d %s", res.status, res.body)
	}
	if _, me := b.me(a); me.ID != id || me.Role != optimum.RoleResponder {
		t.Fatalf("me = %+v, want user %s as responder", me, id)
	}
	if n := len(a.users()); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	// A disabled user is refused, with nothing changed.
	if res := a.do("DELETE", "/api/v1/users/"+id, adminToken, nil); res.status != 204 {
		t.Fatalf("disable = %d %s", res.status, res.body)
	}
	before := a.userEvents()
	b2 := newBrowser(t, "")
	_, res := b2.signIn(a)
	if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "Tu usuario está desactivado") {
		t.Fatalf("disabled user's callback = %d %s", res.status, res.body)
	}
	if after := a.userEvents(); len(after) != len(before) {
		t.Fatalf("user events %v → %v: a refused sign-in changed something", before, after)
	}
}

// Each way the provider's answer can be wrong is refused with a page in the person's
// language, and creates no user, no session and no event.
func TestSSORefusesWrongAnswersWithAPageAndCreatesNothing(t *testing.T) {
	good := oidctest.User{Subject: "sub-eva", Email: "eva@example.com", EmailVerified: yes(), Name: "Eva", Groups: []string{"bcp-managers"}}
	cases := []struct {
		name   string
		user   oidctest.User
		tamper oidctest.Tamper
		deny   bool
		lang   string
		status int
		page   string
	}{
		{"wrong issuer", good, oidctest.Tamper{Issuer: "https://login.example.net/other"}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"wrong audience", good, oidctest.Tamper{Audience: "another-app"}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"wrong nonce", good, oidctest.Tamper{Nonce: "not-the-nonce-of-this-sign-in"}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"expired token", good, oidctest.Tamper{ExpiredBy: time.Minute}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"badly signed token", good, oidctest.Tamper{OtherKey: true}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"no ID token", good, oidctest.Tamper{NoIDToken: true}, false, "", 401, "No pudimos comprobar tu identidad"},
		{"badly signed token, in English", good, oidctest.Tamper{OtherKey: true}, false, "en", 401, "We could not check who you are"},
		{"in no mapped group", oidctest.User{Subject: "sub-eva", Email: "eva@example.com", Groups: []string{"marketing"}}, oidctest.Tamper{}, false, "", 403, "Tu cuenta no tiene acceso a OPTIMUM BCP"},
		{"in no group at all", oidctest.User{Subject: "sub-eva", Email: "eva@example.com"}, oidctest.Tamper{}, false, "", 403, "No perteneces a ningún grupo con acceso"},
		{"in no mapped group, in English", oidctest.User{Subject: "sub-eva", Email: "eva@example.com", Groups: []string{"marketing"}}, oidctest.Tamper{}, false, "en-GB,en;q=0.9", 403, "Your account has no access to OPTIMUM BCP"},
		{"email not verified", oidctest.User{Subject: "sub-eva", Email: "eva@example.com", EmailVerified: no(), Groups: []string{"bcp-managers"}}, oidctest.Tamper{}, false, "", 403, "Tu cuenta no puede entrar aquí"},
		{"no email", oidctest.User{Subject: "sub-eva", Groups: []string{"bcp-managers"}}, oidctest.Tamper{}, false, "", 403, "Tu cuenta no puede entrar aquí"},
		{"declined at the provider", good, oidctest.Tamper{}, true, "", 401, "No se completó el inicio de sesión"},
		{"userinfo of another person", good, oidctest.Tamper{ClaimsOnlyInUserinfo: true, UserinfoSubject: "sub-mallory"}, false, "", 401, "No pudimos comprobar tu identidad"},
	}
	op := oidctest.Start(t)
	a := ssoAPI(t, op, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			op.SignIn(c.user)
			op.SetTamper(c.tamper)
			if c.deny {
				op.Deny()
			}
			b := newBrowser(t, c.lang)
			_, res := b.signIn(a)
			if res.status != c.status || !strings.Contains(string(res.body), c.page) {
				t.Fatalf("callback = %d %s, want %d with %q", res.status, res.body, c.status, c.page)
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Fatalf("Content-Type = %q, want a page", ct)
			}
			if status, _ := b.me(a); status != 401 {
				t.Fatalf("me = %d after a refused sign-in, want 401", status)
			}
			if n := len(a.users()); n != 0 {
				t.Fatalf("%d users after a refused sign-in, want none", n)
			}
			if ev := a.userEvents(); len(ev) != 0 {
				t.Fatalf("user events %v after a refused sign-in, want none", ev)
			}
		})
	}
	// The same provider, answering right, lets her in: the refusals above were the
	// provider's doing, not the setup's.
	op.SignIn(good)
	op.SetTamper(oidctest.Tamper{})
	if _, res := newBrowser(t, "").signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("good sign-in after the refusals = %d %s (provider refused: %v)", res.status, res.body, op.Refused())
	}
}

// A callback works once, from the browser that started the sign-in, with the state the
// provider was given.
func TestSSORefusesReplayedForgedAndForeignCallbacks(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, nil)
	op.SignIn(oidctest.User{Subject: "sub-eva", Email: "eva@example.com", Name: "Eva", Groups: []string{"everyone"}})
	b := newBrowser(t, "")
	callback := b.toProvider(a)
	u, _ := url.Parse(callback)

	refused := func(who *browser, link string) {
		t.Helper()
		res := who.get(link)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "No pudimos terminar tu inicio de sesión") {
			t.Fatalf("callback %s = %d %s, want 400 and the page", link, res.status, res.body)
		}
	}
	// A tampered state, from the right browser.
	q := u.Query()
	q.Set("state", q.Get("state")+"x")
	forged := *u
	forged.RawQuery = q.Encode()
	refused(b, forged.String())
	// The right state, without the state at all, and from another browser.
	q.Del("state")
	forged.RawQuery = q.Encode()
	refused(b, forged.String())
	refused(newBrowser(t, ""), callback)
	if n := op.Exchanges(); n != 0 {
		t.Fatalf("%d codes exchanged for refused callbacks, want 0", n)
	}
	// None of them spent the sign-in: the genuine callback still works, once.
	if res := b.get(callback); res.status != http.StatusSeeOther {
		t.Fatalf("genuine callback = %d %s", res.status, res.body)
	}
	refused(b, callback)
	if n := op.Exchanges(); n != 1 {
		t.Fatalf("%d codes exchanged, want 1", n)
	}
	if n := len(a.users()); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
	// An unknown provider.
	if res := b.get(a.srv.URL + "/sso/nobody/start"); res.status != 404 || !strings.Contains(string(res.body), "Este proveedor de identidad no existe") {
		t.Fatalf("unknown provider = %d %s", res.status, res.body)
	}
}

func TestPasswordSignInCanBeTurnedOff(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, func(c *config.Config) { c.SSO.PasswordSignIn = false })
	a.createUser("luis@example.com", optimum.RoleResponder)
	res := a.signIn("luis@example.com", password)
	if res.status != http.StatusForbidden || !strings.Contains(string(res.body), "Aquí no se entra con contraseña") {
		t.Fatalf("password sign-in = %d %s, want 403", res.status, res.body)
	}
	if res := a.signIn("luis@example.com", password, "Accept-Language", "en"); !strings.Contains(string(res.body), "Sign-in with a password is turned off") {
		t.Fatalf("password sign-in in English = %d %s", res.status, res.body)
	}
	// API tokens still sign in (service accounts, the first admin).
	if res := a.do("POST", "/api/v1/session", "", map[string]string{"token": adminToken}); res.status != 200 {
		t.Fatalf("token sign-in = %d %s", res.status, res.body)
	}
	res = a.do("GET", "/api/v1/sign-in-options", "", nil)
	want := `{"password":false,"providers":[{"id":"corp","name":{"es":"Cuenta de la empresa","en":"Company account"},"start":"/sso/corp/start"}]}`
	if got := strings.TrimSpace(string(res.body)); res.status != 200 || got != want {
		t.Fatalf("sign-in options = %d %s, want %s", res.status, got, want)
	}
}

// The provider is reached through the outbound guard: without loopback allowed, a
// provider on this machine is refused, and the person is told it could not be reached.
func TestSSOProviderIsReachedThroughTheOutboundGuard(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, func(c *config.Config) { c.Outbound.AllowNetworks = []string{} })
	res := newBrowser(t, "").get(a.srv.URL + "/sso/corp/start")
	if res.status != http.StatusBadGateway || !strings.Contains(string(res.body), "No pudimos contactar a tu proveedor de identidad") {
		t.Fatalf("start = %d %s, want 502 and the page", res.status, res.body)
	}
}

// Several providers: each has its button in the configured order, and one person
// signing in through two of them is one user with two links.
func TestSeveralProvidersSignInTheSamePersonAsOneUser(t *testing.T) {
	corp, google := oidctest.Start(t), oidctest.Start(t)
	a := ssoAPI(t, corp, func(c *config.Config) {
		c.SSO.Providers = append(c.SSO.Providers, config.SSOProvider{
			ID: "google", Name: config.Names{ES: "Google", EN: "Google"}, Issuer: google.URL,
			ClientID: google.ClientID, ClientSecret: google.ClientSecret, DefaultRole: "reporter", AllowedDomains: []string{"example.com"},
		})
	})
	google.AllowRedirect(a.srv.URL + "/sso/google/callback")
	var opts struct {
		Providers []struct{ ID, Start string }
	}
	a.do("GET", "/api/v1/sign-in-options", "", nil).json(t, &opts)
	if len(opts.Providers) != 2 || opts.Providers[0].ID != "corp" || opts.Providers[1].Start != "/sso/google/start" {
		t.Fatalf("providers = %+v, want corp then google", opts.Providers)
	}

	corp.SignIn(oidctest.User{Subject: "corp-7", Email: "rita@example.com", Name: "Rita", Groups: []string{"everyone"}})
	b := newBrowser(t, "")
	if _, res := b.signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("corp sign-in = %d %s", res.status, res.body)
	}
	_, viaCorp := b.me(a)

	// Google has no groups: its default role applies, and only the allowed domain.
	google.SignIn(oidctest.User{Subject: "g-1234", Email: "rita@example.com", EmailVerified: yes(), Name: "Rita R."})
	b2 := newBrowser(t, "")
	res := b2.get(a.srv.URL + "/sso/google/start")
	res = b2.get(res.header.Get("Location"))
	if res = b2.get(res.header.Get("Location")); res.status != http.StatusSeeOther {
		t.Fatalf("google sign-in = %d %s (refused: %v)", res.status, res.body, google.Refused())
	}
	if _, viaGoogle := b2.me(a); viaGoogle.ID != viaCorp.ID || viaGoogle.Role != optimum.RoleReporter {
		t.Fatalf("through google: %+v; want %s as reporter", viaGoogle, viaCorp.ID)
	}
	if got, want := strings.Join(a.userEvents(), ","), "user.created,user.identity_linked,user.identity_linked,user.updated"; got != want {
		t.Fatalf("user events = %s, want %s", got, want)
	}

	google.SignIn(oidctest.User{Subject: "g-99", Email: "rita@elsewhere.org", EmailVerified: yes()})
	b3 := newBrowser(t, "")
	res = b3.get(a.srv.URL + "/sso/google/start")
	res = b3.get(res.header.Get("Location"))
	if res = b3.get(res.header.Get("Location")); res.status != http.StatusForbidden || !strings.Contains(string(res.body), "Tu cuenta no puede entrar aquí") {
		t.Fatalf("google sign-in from another domain = %d %s, want 403", res.status, res.body)
	}
}

// The request to the provider carries what the flow needs: the S256 challenge, the
// nonce, the state, the scopes, and the configured prompt.
func TestSSOAuthorizationRequest(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, func(c *config.Config) { c.SSO.Providers[0].Prompt = "select_account" })
	op.SignIn(oidctest.User{Subject: "s", Email: "x@example.com", Groups: []string{"everyone"}})
	newBrowser(t, "").toProvider(a)
	q := op.LastAuthorize()
	for k, want := range map[string]string{"response_type": "code", "client_id": op.ClientID, "code_challenge_method": "S256",
		"scope": "openid email profile", "prompt": "select_account", "redirect_uri": a.srv.URL + "/sso/corp/callback"} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(k)) < 40 {
			t.Errorf("%s = %q, want a long random value", k, q.Get(k))
		}
	}
	if q.Get("state") == q.Get("nonce") {
		t.Error("state and nonce are the same value")
	}
}

// A provider that gives the email, the name and the groups only through userinfo.
func TestSSOReadsWhatTheIDTokenLacksFromUserinfo(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, nil)
	op.SetTamper(oidctest.Tamper{ClaimsOnlyInUserinfo: true})
	op.SignIn(oidctest.User{Subject: "sub-leo", Email: "leo@example.com", EmailVerified: yes(), Name: "Leo Paz", Groups: []string{"bcp-managers"}})
	b := newBrowser(t, "")
	if _, res := b.signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("callback = %d %s", res.status, res.body)
	}
	if _, me := b.me(a); me.Name != "Leo Paz" || me.Role != optimum.RoleManager {
		t.Fatalf("me = %+v, want the manager Leo Paz", me)
	}
}

// Each start keeps a row: one client address may start only so many.
func TestSSOStartsAreLimitedPerClient(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, func(c *config.Config) { c.Limits.SSOStartPerClient = config.Rate{PerMinute: 1, Burst: 2} })
	b := newBrowser(t, "en")
	for range 2 {
		if res := b.get(a.srv.URL + "/sso/corp/start"); res.status != http.StatusSeeOther {
			t.Fatalf("start = %d %s", res.status, res.body)
		}
	}
	res := b.get(a.srv.URL + "/sso/corp/start")
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || !strings.Contains(string(res.body), "Too many attempts") {
		t.Fatalf("third start = %d (Retry-After %q) %s, want 429 with the page", res.status, res.header.Get("Retry-After"), res.body)
	}
}

// Erasing a person removes their users' links to providers (the email and the subject
// are personal data): signing in again through the provider is a new user.
func TestErasingAPersonForgetsTheirProviderLinks(t *testing.T) {
	op := oidctest.Start(t)
	a := ssoAPI(t, op, nil)
	res := a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Iris Vega", "email": "iris@example.com", "language": "es", "teams": []map[string]string{{"team": "technology"}}})
	if res.status != 201 {
		t.Fatalf("create person = %d %s", res.status, res.body)
	}
	var person struct{ ID string }
	res.json(t, &person)
	op.SignIn(oidctest.User{Subject: "sub-iris", Email: "iris@example.com", Name: "Iris Vega", Groups: []string{"everyone"}})
	b := newBrowser(t, "")
	if _, res := b.signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in = %d %s", res.status, res.body)
	}
	_, before := b.me(a)
	if res := a.do("POST", "/api/v1/people/"+person.ID+"/erase", adminToken, map[string]string{"reason": "her request of 2026-12-01"}); res.status != 200 {
		t.Fatalf("erase = %d %s", res.status, res.body)
	}
	if status, _ := b.me(a); status != 401 {
		t.Fatalf("me after erasure = %d, want 401", status)
	}
	b2 := newBrowser(t, "")
	if _, res := b2.signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("sign-in after erasure = %d %s", res.status, res.body)
	}
	if _, after := b2.me(a); after.ID == before.ID || after.PersonID != "" {
		t.Fatalf("after erasure signed in as %+v; want a new user, in no directory entry (was %+v)", after, before)
	}
}
