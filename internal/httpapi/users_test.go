package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// clock is the time of a test server: the auth service, the sign-in lockout and the
// rate limits all read it, and the test moves it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newUserAPI is newTestAPI with the bootstrap admin token.
func newUserAPI(t *testing.T, tweak func(*config.Config)) (*api, *clock) {
	t.Helper()
	return newTestAPI(t, adminToken, tweak)
}

const password = "una frase de paso larga"

// generous lifts the rate limits for tests about something else.
func generous(c *config.Config) {
	many := config.Rate{PerMinute: 1000, Burst: 1000}
	c.Limits.SignInPerClient, c.Limits.SignInPerAccount = many, many
}

// createUser creates a user with a password through the API and returns its id.
func (a *api) createUser(email string, role optimum.Role) string {
	a.t.Helper()
	res := a.do("POST", "/api/v1/users", adminToken, map[string]string{"email": email, "name": "Ana López", "role": string(role), "password": password})
	if res.status != 201 {
		a.t.Fatalf("create user %s = %d %s", email, res.status, res.body)
	}
	var u struct{ ID string }
	res.json(a.t, &u)
	return u.ID
}

// signIn signs in with a password and returns the answer; header adds request headers.
func (a *api) signIn(email, pw string, header ...string) response {
	a.t.Helper()
	return a.do("POST", "/api/v1/session", "", map[string]string{"email": email, "password": pw}, header...)
}

// session signs in and returns the "Cookie" header value of the session.
func (a *api) session(email, pw string) string {
	a.t.Helper()
	res := a.signIn(email, pw)
	if res.status != 200 {
		a.t.Fatalf("sign in %s = %d %s", email, res.status, res.body)
	}
	return strings.Split(res.header.Get("Set-Cookie"), ";")[0]
}

func TestSignInWithPasswordSetsTheSessionCookie(t *testing.T) {
	storetest.Each(t, testSignInWithPasswordSetsTheSessionCookie)
}

func testSignInWithPasswordSetsTheSessionCookie(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	id := a.createUser("ana.lopez@example.com", optimum.RoleResponder)

	res := a.signIn("  Ana.Lopez@Example.COM ", password)
	if res.status != 200 {
		t.Fatalf("sign in = %d %s", res.status, res.body)
	}
	cookie := res.header.Get("Set-Cookie")
	for _, want := range []string{"optimum_session=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	var actor optimum.Actor
	res.json(t, &actor)
	if got, want := actor, (optimum.Actor{ID: id, Name: "Ana López", Role: optimum.RoleResponder}); got != want {
		t.Errorf("actor = %+v, want %+v", got, want)
	}
	me := a.do("GET", "/api/v1/me", "", nil, "Cookie", strings.Split(cookie, ";")[0])
	var got optimum.Actor
	me.json(t, &got)
	if me.status != 200 || got.ID != id || got.Role != optimum.RoleResponder {
		t.Errorf("me = %d %s", me.status, me.body)
	}
	if res := a.do("DELETE", "/api/v1/session", "", nil, "Cookie", strings.Split(cookie, ";")[0]); res.status != 204 {
		t.Errorf("sign out = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", strings.Split(cookie, ";")[0]); res.status != 401 {
		t.Errorf("me after sign out = %d, want 401", res.status)
	}
}

func TestSignInBodyMustBeOneForm(t *testing.T) { storetest.Each(t, testSignInBodyMustBeOneForm) }

func testSignInBodyMustBeOneForm(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	for _, tt := range []struct {
		name   string
		body   any
		status int
	}{
		{"both forms", map[string]string{"token": adminToken, "email": "a@example.com", "password": password}, 422},
		{"email alone", map[string]string{"email": "a@example.com"}, 422},
		{"password alone", map[string]string{"password": password}, 422},
		{"empty object", map[string]string{}, 422},
		{"empty email", map[string]string{"email": " ", "password": password}, 422},
		{"unknown field", map[string]string{"username": "a", "password": password}, 400},
		{"not an object", `["a"]`, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := a.do("POST", "/api/v1/session", "", tt.body)
			if res.status != tt.status {
				t.Errorf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			if res.header.Get("Set-Cookie") != "" {
				t.Error("a cookie was set")
			}
		})
	}
	if res := a.do("POST", "/api/v1/session", "", map[string]string{"token": adminToken}); res.status != 200 {
		t.Errorf("token form = %d %s", res.status, res.body)
	}
}

// Whether the email is unknown, the password wrong, the user disabled or without a
// password yet, the answer is byte for byte the same, so it tells nothing about accounts.
func TestFailedSignInsLookAlike(t *testing.T) { storetest.Each(t, testFailedSignInsLookAlike) }

func testFailedSignInsLookAlike(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	a.createUser("ana@example.com", optimum.RoleResponder)
	off := a.createUser("gone@example.com", optimum.RoleResponder)
	if res := a.do("DELETE", "/api/v1/users/"+off, adminToken, nil); res.status != 204 {
		t.Fatalf("disable = %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/users", adminToken, map[string]string{"email": "new@example.com", "name": "Nuevo", "role": "reporter"}); res.status != 201 {
		t.Fatalf("create without password = %d %s", res.status, res.body)
	}
	cases := []struct{ name, email, password string }{
		{"wrong password", "ana@example.com", "not the password at all"},
		{"unknown email", "nobody@example.com", password},
		{"disabled user", "gone@example.com", password},
		{"no password yet", "new@example.com", password},
	}
	var first response
	for i, tt := range cases {
		res := a.signIn(tt.email, tt.password)
		if res.status != 401 || res.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: status = %d, cookie %q; want 401 and none", tt.name, res.status, res.header.Get("Set-Cookie"))
		}
		if i == 0 {
			first = res
			continue
		}
		if !bytes.Equal(res.body, first.body) {
			t.Errorf("%s: body = %s, want the same as for %s: %s", tt.name, res.body, cases[0].name, first.body)
		}
	}
	if !strings.Contains(string(first.body), "The email or the password is wrong.") {
		t.Errorf("body = %s", first.body)
	}
}

func retryAfter(t *testing.T, res response) string {
	t.Helper()
	if res.status != 429 {
		t.Fatalf("status = %d, want 429: %s", res.status, res.body)
	}
	var p struct{ Code string }
	res.json(t, &p)
	if p.Code != optimum.ERATELIMITED {
		t.Errorf("code = %q, want %q", p.Code, optimum.ERATELIMITED)
	}
	return res.header.Get("Retry-After")
}

func TestSignInIsRateLimitedPerClientAndRecovers(t *testing.T) {
	storetest.Each(t, testSignInIsRateLimitedPerClientAndRecovers)
}

func testSignInIsRateLimitedPerClientAndRecovers(t *testing.T) {
	a, clk := newUserAPI(t, nil) // 10 a minute, burst 5
	for i := range 5 {
		if res := a.signIn(string(rune('a'+i))+"@example.com", password); res.status != 401 {
			t.Fatalf("attempt %d = %d, want 401", i+1, res.status)
		}
	}
	res := a.signIn("f@example.com", password)
	if got, want := retryAfter(t, res), "6"; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	// Tokens and one-time links share the limit, and X-Forwarded-For from an untrusted
	// peer changes nothing.
	if res := a.do("POST", "/api/v1/session", "", map[string]string{"token": adminToken}); res.status != 429 {
		t.Errorf("token sign-in = %d, want 429", res.status)
	}
	if res := a.signIn("g@example.com", password, "X-Forwarded-For", "203.0.113.9"); res.status != 429 {
		t.Errorf("spoofed X-Forwarded-For = %d, want 429", res.status)
	}
	clk.Advance(6 * time.Second)
	if res := a.signIn("g@example.com", password); res.status != 401 {
		t.Errorf("after Retry-After = %d, want 401", res.status)
	}
}

func TestTrustedProxyNamesTheClient(t *testing.T) { storetest.Each(t, testTrustedProxyNamesTheClient) }

func testTrustedProxyNamesTheClient(t *testing.T) {
	a, _ := newUserAPI(t, func(c *config.Config) { c.Limits.TrustedProxies = []string{"127.0.0.1/32"} })
	from := func(ip string) []string { return []string{"X-Forwarded-For", "198.51.100.7, " + ip} }
	for i := range 5 {
		a.signIn(string(rune('a'+i))+"@example.com", password, from("203.0.113.1")...)
	}
	if res := a.signIn("f@example.com", password, from("203.0.113.1")...); res.status != 429 {
		t.Errorf("sixth from one client = %d, want 429", res.status)
	}
	if res := a.signIn("f@example.com", password, from("203.0.113.2")...); res.status != 401 {
		t.Errorf("another client = %d, want 401", res.status)
	}
}

func TestSignInIsRateLimitedPerAccount(t *testing.T) {
	storetest.Each(t, testSignInIsRateLimitedPerAccount)
}

func testSignInIsRateLimitedPerAccount(t *testing.T) {
	a, _ := newUserAPI(t, func(c *config.Config) { c.Limits.TrustedProxies = []string{"127.0.0.1"} })
	a.createUser("ana@example.com", optimum.RoleResponder)
	for i := range 5 { // 5 a minute, burst 5, from five clients
		a.signIn("ana@example.com", "wrong password "+string(rune('a'+i)), "X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
	}
	res := a.signIn("ANA@example.com", password, "X-Forwarded-For", "203.0.113.99")
	if got, want := retryAfter(t, res), "12"; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
}

// After five failures in a row an account is locked for 1 s, then 2 s, 4 s…; the lock
// holds even for the right password, looks the same for unknown emails, and a success
// resets it. The clock moves 24 s between rounds so the rate limits never interfere.
func TestRepeatedFailuresLockTheAccount(t *testing.T) {
	storetest.Each(t, testRepeatedFailuresLockTheAccount)
}

func testRepeatedFailuresLockTheAccount(t *testing.T) {
	a, clk := newUserAPI(t, nil)
	a.createUser("ana@example.com", optimum.RoleResponder)
	for _, email := range []string{"ana@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			for range 4 {
				if res := a.signIn(email, "wrong password!"); res.status != 401 {
					t.Fatalf("failure = %d, want 401", res.status)
				}
			}
			var bodies [][]byte
			for _, want := range []string{"1", "2", "4"} {
				clk.Advance(24 * time.Second)
				if res := a.signIn(email, "wrong password!"); res.status != 401 {
					t.Fatalf("failure = %d, want 401: %s", res.status, res.body)
				}
				res := a.signIn(email, password)
				if got := retryAfter(t, res); got != want {
					t.Errorf("Retry-After = %q, want %q", got, want)
				}
				bodies = append(bodies, res.body)
			}
			if !bytes.Equal(bodies[0], bodies[2]) {
				t.Errorf("locked answers differ: %s / %s", bodies[0], bodies[2])
			}
			clk.Advance(24 * time.Second)
		})
	}
	if res := a.signIn("ana@example.com", password); res.status != 200 {
		t.Fatalf("right password after the lock = %d %s", res.status, res.body)
	}
	clk.Advance(24 * time.Second)
	if res := a.signIn("ana@example.com", "wrong password!"); res.status != 401 {
		t.Errorf("first failure after a success = %d, want 401 (the count was reset)", res.status)
	}
}

func TestAdminManagesUsers(t *testing.T) { storetest.Each(t, testAdminManagesUsers) }

func testAdminManagesUsers(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	responder := a.token(optimum.RoleResponder)

	res := a.do("POST", "/api/v1/users", adminToken, map[string]string{"email": "Bea@Example.com", "name": " Bea Ruiz ", "role": "manager"})
	if res.status != 201 {
		t.Fatalf("create = %d %s", res.status, res.body)
	}
	var created struct {
		ID, Email, Name, Role string
		HasPassword           bool   `json:"has_password"`
		PasswordLink          string `json:"password_link"`
	}
	res.json(t, &created)
	if !strings.HasPrefix(created.ID, "usr_") || created.Email != "bea@example.com" || created.Name != "Bea Ruiz" || created.Role != "manager" || created.HasPassword {
		t.Errorf("created = %+v", created)
	}
	if !strings.HasPrefix(created.PasswordLink, "/set-password/") || res.header.Get("Location") != "/api/v1/users/"+created.ID {
		t.Errorf("link %q, Location %q", created.PasswordLink, res.header.Get("Location"))
	}

	for _, tt := range []struct {
		name   string
		body   any
		status int
		fields string
	}{
		{"taken email", map[string]string{"email": "bea@example.COM", "name": "Otra", "role": "reporter"}, 409, ""},
		{"bad fields", map[string]string{"email": "bea", "name": "", "role": "chief", "password": "short"}, 422, "email,name,role,password"},
		{"password is the email", map[string]string{"email": "long.name@example.com", "name": "X", "role": "reporter", "password": "long.name@example.com"}, 422, "password"},
		{"unknown field", map[string]string{"email": "x@example.com", "name": "X", "role": "reporter", "admin": "yes"}, 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := a.do("POST", "/api/v1/users", adminToken, tt.body)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			var p struct{ Errors []struct{ Field string } }
			res.json(t, &p)
			var fields []string
			for _, e := range p.Errors {
				fields = append(fields, e.Field)
			}
			if got := strings.Join(fields, ","); got != tt.fields {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
		})
	}

	for _, r := range []struct{ method, path string }{
		{"POST", "/api/v1/users"}, {"GET", "/api/v1/users"}, {"GET", "/api/v1/users/" + created.ID},
		{"PATCH", "/api/v1/users/" + created.ID}, {"DELETE", "/api/v1/users/" + created.ID},
		{"POST", "/api/v1/users/" + created.ID + "/password-link"},
	} {
		if res := a.do(r.method, r.path, responder, map[string]string{}); res.status != 403 {
			t.Errorf("responder %s %s = %d, want 403", r.method, r.path, res.status)
		}
	}

	// The link sets the password once and signs the user in.
	res = a.do("POST", created.PasswordLink, "", map[string]string{"password": password})
	if res.status != 200 || !strings.Contains(res.header.Get("Set-Cookie"), "HttpOnly") {
		t.Fatalf("set password = %d %s", res.status, res.body)
	}
	if res := a.do("POST", created.PasswordLink, "", map[string]string{"password": password + "!"}); res.status != 401 {
		t.Errorf("second use of the link = %d, want 401", res.status)
	}
	bea := a.session("bea@example.com", password)

	// A new role applies on the user's next request.
	if res := a.do("GET", "/api/v1/users", "", nil, "Cookie", bea); res.status != 403 {
		t.Errorf("manager lists users = %d, want 403", res.status)
	}
	res = a.do("PATCH", "/api/v1/users/"+created.ID, adminToken, map[string]any{"role": "admin", "name": "Beatriz Ruiz"})
	var patched struct{ Name, Role string }
	res.json(t, &patched)
	if res.status != 200 || patched.Role != "admin" || patched.Name != "Beatriz Ruiz" {
		t.Errorf("patch = %d %s", res.status, res.body)
	}
	res = a.do("GET", "/api/v1/users", "", nil, "Cookie", bea)
	var list []struct{ Email string }
	res.json(t, &list)
	if res.status != 200 || len(list) != 1 || list[0].Email != "bea@example.com" {
		t.Errorf("admin lists users = %d %s", res.status, res.body)
	}
	if res := a.do("PATCH", "/api/v1/users/"+created.ID, adminToken, map[string]any{"role": "god"}); res.status != 422 {
		t.Errorf("bad role = %d, want 422", res.status)
	}
	if res := a.do("PATCH", "/api/v1/users/usr_nobody", adminToken, map[string]any{"name": "x"}); res.status != 404 {
		t.Errorf("unknown user = %d, want 404", res.status)
	}

	// Disabling ends the sessions at once, and signing in again fails.
	if res := a.do("DELETE", "/api/v1/users/"+created.ID, adminToken, nil); res.status != 204 {
		t.Fatalf("disable = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", bea); res.status != 401 {
		t.Errorf("session of a disabled user = %d, want 401", res.status)
	}
	if res := a.signIn("bea@example.com", password); res.status != 401 {
		t.Errorf("disabled user signs in = %d, want 401", res.status)
	}
	res = a.do("GET", "/api/v1/users/"+created.ID, adminToken, nil)
	var got struct {
		DisabledAt *time.Time `json:"disabled_at"`
	}
	res.json(t, &got)
	if got.DisabledAt == nil {
		t.Errorf("user = %s, want disabled_at set", res.body)
	}
	if res := a.do("PATCH", "/api/v1/users/"+created.ID, adminToken, map[string]any{"disabled": false}); res.status != 200 {
		t.Errorf("enable = %d %s", res.status, res.body)
	}
	if res := a.signIn("bea@example.com", password); res.status != 200 {
		t.Errorf("enabled user signs in = %d %s", res.status, res.body)
	}
}

func TestTheLastAdminStays(t *testing.T) { storetest.Each(t, testTheLastAdminStays) }

func testTheLastAdminStays(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	id := a.createUser("root@example.com", optimum.RoleAdmin)
	root := a.session("root@example.com", password)
	var tokens []struct{ ID string }
	a.do("GET", "/api/v1/tokens", adminToken, nil).json(t, &tokens)
	if res := a.do("DELETE", "/api/v1/tokens/"+tokens[0].ID, "", nil, "Cookie", root); res.status != 204 {
		t.Fatalf("revoke the bootstrap token = %d %s", res.status, res.body)
	}
	for _, change := range []map[string]any{{"role": "manager"}, {"disabled": true}} {
		if res := a.do("PATCH", "/api/v1/users/"+id, "", change, "Cookie", root); res.status != 409 {
			t.Errorf("%v of the last admin = %d, want 409: %s", change, res.status, res.body)
		}
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", root); res.status != 200 {
		t.Errorf("the last admin's session = %d, want 200", res.status)
	}
}

func TestChangeOwnPassword(t *testing.T) { storetest.Each(t, testChangeOwnPassword) }

func testChangeOwnPassword(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	a.createUser("ana@example.com", optimum.RoleReporter)
	phone, laptop := a.session("ana@example.com", password), a.session("ana@example.com", password)
	const next = "otra frase de paso, más larga"

	for _, tt := range []struct {
		name   string
		body   map[string]string
		status int
		field  string
	}{
		{"wrong current", map[string]string{"current": "not my password", "new": next}, 422, "current"},
		{"too short", map[string]string{"current": password, "new": "short"}, 422, "new"},
		{"the email", map[string]string{"current": password, "new": "ana@example.com"}, 422, "new"},
		{"unchanged", map[string]string{"current": password, "new": password}, 422, "new"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := a.do("POST", "/api/v1/me/password", "", tt.body, "Cookie", phone)
			if res.status != tt.status || !strings.Contains(string(res.body), `"field":"`+tt.field+`"`) {
				t.Errorf("= %d %s, want %d naming %s", res.status, res.body, tt.status, tt.field)
			}
		})
	}
	if res := a.do("POST", "/api/v1/me/password", adminToken, map[string]string{"current": password, "new": next}); res.status != 409 {
		t.Errorf("a token changes its password = %d, want 409", res.status)
	}
	if res := a.do("POST", "/api/v1/me/password", "", map[string]string{"current": password, "new": next}, "Cookie", phone); res.status != 204 {
		t.Fatalf("change = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", phone); res.status != 200 {
		t.Errorf("the session that changed it = %d, want 200", res.status)
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", laptop); res.status != 401 {
		t.Errorf("another session = %d, want 401", res.status)
	}
	if res := a.signIn("ana@example.com", password); res.status != 401 {
		t.Errorf("old password = %d, want 401", res.status)
	}
	if res := a.signIn("ana@example.com", next); res.status != 200 {
		t.Errorf("new password = %d %s", res.status, res.body)
	}
}

func TestSetPasswordPage(t *testing.T) { storetest.Each(t, testSetPasswordPage) }

func testSetPasswordPage(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	res := a.do("POST", "/api/v1/users", adminToken, map[string]string{"email": "new@example.com", "name": "Nuevo", "role": "reporter"})
	var u struct {
		ID   string
		Link string `json:"password_link"`
	}
	res.json(t, &u)
	if page := a.do("GET", u.Link, "", nil); page.status != 200 || !bytes.Contains(page.body, []byte(`type="password"`)) {
		t.Fatalf("page = %d %s", page.status, page.body)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(pw, confirm string) (*http.Response, string) {
		t.Helper()
		res, err := client.PostForm(a.srv.URL+u.Link, url.Values{"password": {pw}, "confirm": {confirm}})
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	if res, body := post(password, password+"x"); res.StatusCode != 422 || !strings.Contains(body, "differ") {
		t.Errorf("mismatch = %d %s", res.StatusCode, body)
	}
	if res, body := post("short", "short"); res.StatusCode != 422 || !strings.Contains(body, "at least 12") {
		t.Errorf("short = %d %s", res.StatusCode, body)
	}
	res2, _ := post(password, password)
	if res2.StatusCode != 303 || len(res2.Cookies()) != 1 {
		t.Fatalf("set = %d %v", res2.StatusCode, res2.Cookies())
	}
	if me := a.do("GET", "/api/v1/me", "", nil, "Cookie", sessionCookie(res2)); me.status != 200 || !bytes.Contains(me.body, []byte(u.ID)) {
		t.Errorf("me = %d %s", me.status, me.body)
	}
	if res, _ := post(password, password); res.StatusCode != 401 {
		t.Errorf("second use = %d, want 401", res.StatusCode)
	}
	// A new link for a user who forgot: it works once, and the older one is dead.
	res = a.do("POST", "/api/v1/users/"+u.ID+"/password-link", adminToken, nil)
	var link struct {
		Link string `json:"password_link"`
	}
	res.json(t, &link)
	if res.status != 201 || link.Link == u.Link {
		t.Fatalf("new link = %d %s", res.status, res.body)
	}
	if res := a.do("POST", link.Link, "", map[string]string{"password": "la nueva, tras olvidarla"}); res.status != 200 {
		t.Errorf("reset = %d %s", res.status, res.body)
	}
	if res := a.signIn("new@example.com", "la nueva, tras olvidarla"); res.status != 200 {
		t.Errorf("sign in after reset = %d %s", res.status, res.body)
	}
}

func TestUserAndTokenChangesAreInTheEventLog(t *testing.T) {
	storetest.Each(t, testUserAndTokenChangesAreInTheEventLog)
}

func testUserAndTokenChangesAreInTheEventLog(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	ctx := context.Background()
	before, _ := a.db.LastEventID(ctx)
	id := a.createUser("ana@example.com", optimum.RoleReporter)
	a.do("PATCH", "/api/v1/users/"+id, adminToken, map[string]any{"role": "responder"})
	a.do("PATCH", "/api/v1/users/"+id, adminToken, map[string]any{"role": "responder"}) // no change, no event
	session := a.session("ana@example.com", password)
	a.do("POST", "/api/v1/me/password", "", map[string]string{"current": password, "new": password + " nueva"}, "Cookie", session)
	a.do("DELETE", "/api/v1/users/"+id, adminToken, nil)
	res := a.do("POST", "/api/v1/tokens", adminToken, map[string]string{"name": "tablero", "role": "responder"})
	var tok struct{ ID, Token string }
	res.json(t, &tok)
	a.do("DELETE", "/api/v1/tokens/"+tok.ID, adminToken, nil)

	events, err := a.db.EventsAfter(ctx, before, 100)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		if strings.HasPrefix(e.Type, "user.") || strings.HasPrefix(e.Type, "token.") {
			types = append(types, e.Type)
		}
		if e.Actor == nil || e.Actor.ID == "" {
			t.Errorf("%s has no actor", e.Type)
		}
		for _, secret := range []string{password, "argon2", tok.Token} {
			if bytes.Contains(e.Data, []byte(secret)) {
				t.Errorf("%s data holds %q: %s", e.Type, secret, e.Data)
			}
		}
	}
	want := "user.created user.updated user.password_changed user.disabled token.created token.revoked"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("events = %s\nwant %s", got, want)
	}
	for _, e := range events {
		switch e.Type {
		case "user.updated":
			var d struct {
				Changes map[string]struct{ From, To string }
			}
			json.Unmarshal(e.Data, &d)
			if d.Changes["role"].From != "reporter" || d.Changes["role"].To != "responder" {
				t.Errorf("user.updated data = %s", e.Data)
			}
		case "user.password_changed":
			if e.Actor.ID != id {
				t.Errorf("password change actor = %+v, want the user", e.Actor)
			}
		case "user.disabled", "token.created":
			if e.Actor.Role != optimum.RoleAdmin {
				t.Errorf("%s actor = %+v, want the admin token", e.Type, e.Actor)
			}
		}
	}
}

// Declaring is limited per actor only: a site declaring several incidents at once from
// one address (one NAT) is normal in a crisis.
func TestDeclareIsRateLimitedPerActorNotPerClient(t *testing.T) {
	storetest.Each(t, testDeclareIsRateLimitedPerActorNotPerClient)
}

func testDeclareIsRateLimitedPerActorNotPerClient(t *testing.T) {
	a, clk := newUserAPI(t, func(c *config.Config) { c.Limits.TrustedProxies = []string{"127.0.0.0/8"} })
	reporter := a.token(optimum.RoleReporter)
	from := func(ip string) []string { return []string{"X-Forwarded-For", ip} }
	for i := range 10 { // 30 a minute, burst 10
		if res := a.do("POST", "/api/v1/incidents", adminToken, declaration(), from("203.0.113.1")...); res.status != 201 {
			t.Fatalf("declare %d = %d %s", i+1, res.status, res.body)
		}
	}
	if got, want := retryAfter(t, a.do("POST", "/api/v1/incidents", adminToken, declaration(), from("203.0.113.1")...)), "2"; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if res := a.do("POST", "/api/v1/incidents", reporter, declaration(), from("203.0.113.1")...); res.status != 201 {
		t.Errorf("another actor from the same client = %d, want 201", res.status)
	}
	if res := a.do("POST", "/api/v1/incidents", adminToken, declaration(), from("203.0.113.2")...); res.status != 429 {
		t.Errorf("the same actor from another client = %d, want 429", res.status)
	}
	if res := a.do("POST", "/api/v1/incidents", reporter, declaration(), from("203.0.113.2")...); res.status != 201 {
		t.Errorf("another actor from another client = %d, want 201", res.status)
	}
	clk.Advance(2 * time.Second)
	if res := a.do("POST", "/api/v1/incidents", adminToken, declaration(), from("203.0.113.1")...); res.status != 201 {
		t.Errorf("after Retry-After = %d %s", res.status, res.body)
	}
}
