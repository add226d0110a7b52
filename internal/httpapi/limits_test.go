package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// behindProxy trusts the loopback proxy, so that X-Forwarded-For names the client.
func behindProxy(c *config.Config) { c.Limits.TrustedProxies = []string{"127.0.0.1", "::1"} }

// crowdLinks imports n people, declares an incident for them and gives each a one-tap
// link, as sending their alerts does; it returns the incident's id and the tokens.
func crowdLinks(t *testing.T, a *api, n int) (string, []string) {
	t.Helper()
	ctx := context.Background()
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range n {
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,,es,technology,\n", i, i)
	}
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(csv.String())); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	d := declaration()
	d["teams"] = []string{"technology"}
	var inc struct{ ID string }
	if res := a.do("POST", "/api/v1/incidents", adminToken, d); res.status != 201 {
		t.Fatalf("declare = %d %s", res.status, res.body)
	} else {
		res.json(t, &inc)
	}
	var people []contacts.Person
	for after := ""; ; {
		page, err := a.api.Directory.People(ctx, contacts.Filter{Teams: []string{"technology"}, Limit: 500, After: after})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		people = append(people, page...)
		after = page[len(page)-1].ID
	}
	if len(people) != n {
		t.Fatalf("%d people in the team, want %d", len(people), n)
	}
	tokens := make([]string, n)
	now := time.Now()
	for i, p := range people {
		tokens[i] = fmt.Sprintf("crowd-link-%04d-0123456789abcdefghijklmnop", i)
		if err := a.db.Escalation().CreateAckLink(ctx, escalation.HashToken(tokens[i]), inc.ID, p.ID, now, now.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	return inc.ID, tokens
}

// tapLink posts a one-tap link as the button of its page does, from a client address.
func (a *api) tapLink(token, client string, header ...string) response {
	a.t.Helper()
	return a.do("POST", "/a/"+token, "", nil, append([]string{"Accept", "application/json", "X-Forwarded-For", client}, header...)...)
}

// A whole building answers its own links at once from one address (an office NAT, a
// mobile carrier's NAT): nobody is refused. Made-up links from one address are refused
// after a small burst, in the caller's language and saying what is wrong, while the
// valid links of others, even behind the same address, still work.
func TestEveryoneBehindOneAddressAcknowledges(t *testing.T) {
	a, clk := newTestAPI(t, adminToken, behindProxy)
	const n = 1000
	id, tokens := crowdLinks(t, a, n)
	const office = "198.51.100.7"
	for i, tok := range tokens { // 1,000 answers in 50 s
		if res := a.tapLink(tok, office); res.status != 200 {
			t.Fatalf("person %d of %d from one address = %d %s", i+1, n, res.status, res.body)
		}
		clk.Advance(50 * time.Millisecond)
	}
	var inc struct {
		AckCount int `json:"ack_count"`
	}
	a.do("GET", "/api/v1/incidents/"+id, adminToken, nil).json(t, &inc)
	if inc.AckCount != n {
		t.Errorf("ack_count = %d, want %d", inc.AckCount, n)
	}

	// 1,000 made-up links from one address, in 50 s, with the valid links of others
	// answered in between, from the same address and from another.
	const attacker = "203.0.113.66"
	var notFound, limited int
	for i := range n {
		res := a.tapLink(fmt.Sprintf("made-up-link-%04d-0123456789abcdefghijkl", i), attacker)
		switch res.status {
		case 404:
			notFound++
		case 429:
			limited++
			if limited == 1 {
				checkLinkGuessProblem(t, a, res)
			}
		default:
			t.Fatalf("made-up link %d = %d %s", i+1, res.status, res.body)
		}
		if i%100 == 99 {
			for _, client := range []string{attacker, office} {
				if res := a.tapLink(tokens[i/100], client); res.status != 200 {
					t.Errorf("a valid link from %s during the flood = %d %s", client, res.status, res.body)
				}
			}
		}
		clk.Advance(50 * time.Millisecond)
	}
	// Burst 10, then 30 a minute: at most 10 + 25 over 50 s get an answer at all.
	if notFound < 10 || notFound > 36 || limited != n-notFound {
		t.Errorf("made-up links: %d answered 404, %d refused with 429; want 10 to 36 answered and the rest refused", notFound, limited)
	}

	// One link answered over and over is limited on its own: 10 at once.
	clk.Advance(time.Minute)
	for i := range 10 {
		if res := a.tapLink(tokens[0], office); res.status != 200 {
			t.Fatalf("answer %d of one link = %d", i+1, res.status)
		}
	}
	res := a.tapLink(tokens[0], "192.0.2.1", "Accept-Language", "en")
	if res.status != 429 || !bytes.Contains(res.body, []byte("Too many answers from this link")) {
		t.Errorf("11th answer of one link = %d %s, want 429 about this link", res.status, res.body)
	}
	// From the page's button, a browser gets a page in Spanish.
	res = a.do("POST", "/a/"+tokens[0], "", nil, "Accept", "text/html", "X-Forwarded-For", office)
	if res.status != 429 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/html") ||
		!bytes.Contains(res.body, []byte("Demasiadas respuestas desde este enlace")) || res.header.Get("Retry-After") == "" {
		t.Errorf("the page over the limit = %d %v %s", res.status, res.header, res.body)
	}
	if res := a.tapLink(tokens[1], office); res.status != 200 {
		t.Errorf("another link meanwhile = %d %s", res.status, res.body)
	}
}

// checkLinkGuessProblem checks the refusal of a made-up link: a problem in Spanish by
// default and in English on request, about links, never about signing in.
func checkLinkGuessProblem(t *testing.T, a *api, es response) {
	t.Helper()
	var p struct{ Title, Detail, Code string }
	es.json(t, &p)
	if p.Code != "rate_limited" || es.header.Get("Retry-After") == "" ||
		!strings.HasPrefix(es.header.Get("Content-Type"), "application/problem+json") ||
		!strings.Contains(p.Detail, "Demasiados enlaces desconocidos o vencidos desde tu dirección") {
		t.Errorf("refusal = %v %s", es.header, es.body)
	}
	en := a.tapLink("made-up-link-en-0123456789abcdefghijkl", "203.0.113.66", "Accept-Language", "en")
	en.json(t, &p)
	if en.status != 429 || !strings.Contains(p.Detail, "Too many unknown or expired links from your address") {
		t.Errorf("refusal in English = %d %s", en.status, en.body)
	}
	for _, body := range [][]byte{es.body, en.body} {
		if bytes.Contains(bytes.ToLower(body), []byte("sign-in")) || bytes.Contains(body, []byte("inicio de sesión")) {
			t.Errorf("the refusal talks about signing in: %s", body)
		}
	}
}

// A conformity link is limited the same way: made-up ones per client, after a burst.
func TestMadeUpConformityLinksAreLimitedPerClient(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, behindProxy)
	var statuses []int
	for i := range 12 {
		res := a.do("POST", fmt.Sprintf("/c/made-up-%02d-0123456789abcdefghij", i), "", map[string]string{"decision": "accept"},
			"X-Forwarded-For", "203.0.113.5")
		statuses = append(statuses, res.status)
	}
	want := []int{404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 429, 429}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("statuses = %v, want %v", statuses, want)
	}
	if res := a.do("POST", "/c/made-up-xx-0123456789abcdefghij", "", map[string]string{"decision": "accept"},
		"X-Forwarded-For", "203.0.113.6"); res.status != 404 {
		t.Errorf("another client = %d, want 404", res.status)
	}
}

// The pages reached by a link forbid framing and scripts; JSON is never cached nor
// sniffed.
func TestSecurityHeaders(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, nil)
	_, tokens := crowdLinks(t, a, 1)
	for _, path := range []string{"/login/some-code", "/set-password/some-code", "/a/" + tokens[0], "/c/unknown-conformity-link"} {
		req, _ := http.NewRequest("GET", a.srv.URL+path, nil)
		req.Header.Set("Accept", "text/html")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", path, got)
		}
	}
	for _, tt := range []struct{ method, path, token string }{
		{"GET", "/api/v1/me", adminToken},
		{"GET", "/api/v1/incidents", adminToken},
		{"GET", "/api/v1/me", ""}, // a problem
		{"GET", "/api/v1/nothing-here", adminToken},
	} {
		res := a.do(tt.method, tt.path, tt.token, nil)
		if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s %s (%d): X-Content-Type-Options %q, Cache-Control %q", tt.method, tt.path, res.status,
				res.header.Get("X-Content-Type-Options"), res.header.Get("Cache-Control"))
		}
	}
}

// deviceCookie is the "Cookie" header value of the device cookie a sign-in set.
func deviceCookie(t *testing.T, res response) string {
	t.Helper()
	for _, c := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "optimum_device=") {
			if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Path=/api/v1/session") {
				t.Errorf("device cookie = %q, want HttpOnly and only for the sign-in route", c)
			}
			return strings.Split(c, ";")[0]
		}
	}
	t.Fatalf("no device cookie in %v", res.header)
	return ""
}

// An attacker hammering one account with wrong passwords from 50 addresses, and from
// the owner's own address, never stops its owner from signing in with the right password from the browser they signed in
// with before, while the attacker is refused. With the in-memory rates of one node as
// configured, and with them lifted (as if the attack were spread over many nodes), when
// only the lockout kept in the database holds: then browsers the account does not know
// are locked out too, and the owner's known browser still is not.
func TestAttackerCannotLockTheOwnerOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		t.Run("one node", func(t *testing.T) { testAttackerCannotLockTheOwnerOut(t, false) })
		t.Run("many nodes", func(t *testing.T) { testAttackerCannotLockTheOwnerOut(t, true) })
	})
}

func testAttackerCannotLockTheOwnerOut(t *testing.T, manyNodes bool) {
	a, clk := newTestAPI(t, adminToken, func(c *config.Config) {
		behindProxy(c)
		if manyNodes {
			generous(c)
		}
	})
	a.createUser("ana@example.com", optimum.RoleResponder)
	const home = "192.0.2.10"
	first := a.signIn("ana@example.com", password, "X-Forwarded-For", home)
	if first.status != 200 {
		t.Fatalf("first sign-in = %d %s", first.status, first.body)
	}
	device := deviceCookie(t, first)

	statuses := map[int]int{}
	for round := range 6 {
		for i := range 50 {
			res := a.signIn("ana@example.com", fmt.Sprintf("guess %d-%d", round, i), "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
			statuses[res.status]++
			clk.Advance(200 * time.Millisecond)
		}
		// The attacker also sits behind the owner's address (the same NAT).
		for i := range 10 {
			res := a.signIn("ana@example.com", fmt.Sprintf("guess %d-home-%d", round, i), "X-Forwarded-For", home)
			statuses[res.status]++
		}
		// The owner, from their known browser, at home or elsewhere.
		for _, from := range []string{home, "198.51.100.20"} {
			res := a.signIn("ana@example.com", password, "X-Forwarded-For", from, "Cookie", device)
			if res.status != 200 {
				t.Fatalf("round %d: the owner's known browser from %s = %d %s", round+1, from, res.status, res.body)
			}
		}
	}
	if statuses[401] == 0 || statuses[429] < 200 || statuses[200] != 0 {
		t.Errorf("the attacker's 360 answers = %v, want some 401, at least 200 refused with 429, never 200", statuses)
	}
	// Another account is not affected.
	a.createUser("bea@example.com", optimum.RoleResponder)
	if res := a.signIn("bea@example.com", password, "X-Forwarded-For", "198.51.100.31"); res.status != 200 {
		t.Errorf("another account = %d %s", res.status, res.body)
	}
	if !manyNodes {
		return
	}
	// A browser the account does not know waits even with the right password: the
	// account is locked against unknown browsers.
	if res := a.signIn("ana@example.com", password, "X-Forwarded-For", "198.51.100.30"); res.status != 429 {
		t.Errorf("an unknown browser during the attack = %d, want 429", res.status)
	}
	// The known browser has its own lockout: its own five failures lock it.
	for range 5 {
		if res := a.signIn("ana@example.com", "the owner mistypes", "X-Forwarded-For", home, "Cookie", device); res.status != 401 {
			t.Fatalf("the owner's failure = %d %s", res.status, res.body)
		}
	}
	if res := a.signIn("ana@example.com", password, "X-Forwarded-For", home, "Cookie", device); res.status != 429 {
		t.Errorf("the known browser after its own failures = %d, want 429", res.status)
	}
	// A made-up device cookie is an unknown browser.
	if res := a.signIn("ana@example.com", password, "X-Forwarded-For", "198.51.100.32", "Cookie", "optimum_device=dev_made-up"); res.status != 429 {
		t.Errorf("a made-up device cookie = %d, want 429", res.status)
	}
}

// verificationAPI is a test server that sends SMS through the fake Twilio, with ana
// (phone +525512345678) signed in; it returns the server, the fake and ana's cookie.
func verificationAPI(t *testing.T, tweak func(*config.Config)) (*api, *clock, *twiliotest.Fake, string) {
	t.Helper()
	fake := twiliotest.New(t, twiliotest.Options{})
	a, clk := newTestAPI(t, adminToken, func(c *config.Config) {
		generous(c)
		if tweak != nil {
			tweak(c)
		}
	})
	tc, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: []string{"+15005550006"},
		APIURL: fake.URL(), PublicURL: twilioPublic})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	a.api.SMS, a.api.Verifications = tc.SMS(), a.db.Contacts() // before any request
	csv := "name,email,phone,language,teams,manager_email\nAna López,ana@example.com,+52 55 1234 5678,es,operations,\nBea Ruiz,bea@example.com,+52 55 8765 4321,es,operations,\n"
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(csv)); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	a.createUser("ana@example.com", optimum.RoleReporter)
	return a, clk, fake, a.session("ana@example.com", password)
}

// askCode asks for a verification code as the signed-in person of cookie.
func (a *api) askCode(cookie string, header ...string) response {
	a.t.Helper()
	return a.do("POST", "/api/v1/me/phone/verification", "", nil, append([]string{"Cookie", cookie}, header...)...)
}

// Verification codes are limited per account and per number: 3 an hour, 10 a day. A
// refusal is a clear 429 that sends nothing and leaves the pending code as it was.
func TestPhoneCodesAreLimitedPerAccount(t *testing.T) {
	storetest.Each(t, testPhoneCodesAreLimitedPerAccount)
}

func testPhoneCodesAreLimitedPerAccount(t *testing.T) {
	a, clk, fake, ana := verificationAPI(t, nil)
	sent := func() int { return len(fake.Messages()) }
	// From 12 addresses within a second, as in the review: three go out.
	var statuses []int
	for i := range 12 {
		statuses = append(statuses, a.askCode(ana, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1)).status)
	}
	want := []int{202, 202, 202, 429, 429, 429, 429, 429, 429, 429, 429, 429}
	if fmt.Sprint(statuses) != fmt.Sprint(want) || sent() != 3 {
		t.Fatalf("statuses = %v (%d SMS sent), want %v and 3 sent", statuses, sent(), want)
	}
	res := a.askCode(ana, "Accept-Language", "es")
	var p struct{ Detail, Code string }
	res.json(t, &p)
	if res.status != 429 || p.Code != "rate_limited" || p.Detail != "Pediste demasiados códigos hace poco. Espera antes de pedir otro." ||
		res.header.Get("Retry-After") != "3600" {
		t.Errorf("refusal = %d %v %s", res.status, res.header, res.body)
	}
	res = a.askCode(ana, "Accept-Language", "en")
	if res.status != 429 || !bytes.Contains(res.body, []byte("You asked for too many codes recently.")) {
		t.Errorf("refusal in English = %d %s", res.status, res.body)
	}
	// The third code is still the one that works: refusals replaced nothing.
	code := regexp.MustCompile(`\d{6}`).FindString(fake.Messages()[2].Form.Get("Body"))
	if res := a.do("POST", "/api/v1/me/phone/verification/confirm", "", map[string]string{"code": code}, "Cookie", ana); res.status != 200 {
		t.Errorf("the last code sent = %d %s", res.status, res.body)
	}
	// An hour later three more, and so on up to ten a day.
	for hour := 1; hour <= 4; hour++ {
		clk.Advance(time.Hour)
		for range 3 {
			a.askCode(ana)
		}
	}
	if sent() != 10 {
		t.Errorf("%d SMS sent in a day, want 10", sent())
	}
	clk.Advance(time.Hour)
	if res := a.askCode(ana); res.status != 429 || sent() != 10 {
		t.Errorf("an eleventh code within a day = %d (%d sent), want 429", res.status, sent())
	}
	clk.Advance(24 * time.Hour)
	ana = a.session("ana@example.com", password) // the session ended meanwhile
	if res := a.askCode(ana); res.status != 202 {
		t.Errorf("a day later = %d %s", res.status, res.body)
	}
}

// The daily cap of non-alert SMS stops verification codes for everybody once reached,
// with its own clear 429.
func TestDailyCapOfNonAlertSMS(t *testing.T) {
	a, _, fake, ana := verificationAPI(t, func(c *config.Config) { c.Limits.NonAlertSMSPerDay = 4 })
	a.createUser("bea@example.com", optimum.RoleReporter)
	bea := a.session("bea@example.com", password)
	for _, cookie := range []string{ana, ana, ana, bea} {
		if res := a.askCode(cookie); res.status != 202 {
			t.Fatalf("code = %d %s", res.status, res.body)
		}
	}
	res := a.askCode(bea, "Accept-Language", "es")
	if res.status != 429 || !bytes.Contains(res.body, []byte("las alertas se siguen enviando")) || len(fake.Messages()) != 4 {
		t.Errorf("over the daily cap = %d %s (%d sent)", res.status, res.body, len(fake.Messages()))
	}
}

// Twelve new users behind one office address set their passwords through their links in
// the same minute: none is refused. Made-up codes from one address are refused after a
// burst, before they are tried (a code is tried by spending it), while valid links from
// other addresses keep working.
func TestOneTimeCodesAreLimitedOnGuessesOnly(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, behindProxy)
	const office = "198.51.100.7"
	var links []string
	for i := range 13 {
		id := a.createUser(fmt.Sprintf("new%d@example.com", i), optimum.RoleReporter)
		var l struct {
			PasswordLink string `json:"password_link"`
		}
		a.do("POST", "/api/v1/users/"+id+"/password-link", adminToken, nil).json(t, &l)
		links = append(links, l.PasswordLink)
	}
	for i, link := range links[:12] {
		if res := a.do("POST", link, "", map[string]string{"password": "otra frase de paso larga"}, "X-Forwarded-For", office); res.status != 200 {
			t.Fatalf("user %d from the office = %d %s", i+1, res.status, res.body)
		}
	}
	var statuses []int
	for i := range 12 {
		res := a.do("POST", fmt.Sprintf("/set-password/made-up-%02d", i), "", map[string]string{"password": "otra frase de paso larga"}, "X-Forwarded-For", office)
		statuses = append(statuses, res.status)
	}
	want := []int{401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 429, 429}
	if fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("made-up codes = %v, want %v", statuses, want)
	}
	if res := a.do("POST", "/login/made-up", "", nil, "X-Forwarded-For", office); res.status != 429 {
		t.Errorf("a made-up login code from the same address = %d, want 429", res.status)
	}
	if res := a.do("POST", links[12], "", map[string]string{"password": "otra frase de paso larga"}, "X-Forwarded-For", "198.51.100.8"); res.status != 200 {
		t.Errorf("a valid link from another address = %d %s", res.status, res.body)
	}
}
