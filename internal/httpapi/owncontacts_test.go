package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Mi perfil: Ana adds a second phone and an email and orders her channels; a second
// phone another active person has (as first or second phone) is refused, and so are a
// bad number, a bad email and an unknown channel, all at once and changing nothing.
// She verifies the second phone with the same code flow as the first.
func TestProfileKeepsOwnContacts(t *testing.T) { storetest.Each(t, testProfileKeepsOwnContacts) }

func testProfileKeepsOwnContacts(t *testing.T) {
	a, _, fake, ana := verificationAPI(t, nil)
	put := func(body string, header ...string) response {
		return a.do("PUT", "/api/v1/me/profile", "", body, append([]string{"Cookie", ana}, header...)...)
	}
	var p struct {
		P2       string   `json:"phone2"`
		Email2   string   `json:"contact_email"`
		Order    []string `json:"channel_order"`
		Channels struct {
			V2 *time.Time `json:"phone2_verified_at"`
		}
	}
	res := put(`{"phone":"+525512345678","language":"es","phone2":"+52 55 1111 2222","contact_email":"Ana.Personal@Example.com","channel_order":["sms","voice","webpush","email"]}`)
	if res.status != 200 {
		t.Fatalf("profile: %d %s", res.status, res.body)
	}
	res.json(t, &p)
	if p.P2 != "+525511112222" || p.Email2 != "ana.personal@example.com" || strings.Join(p.Order, ",") != "sms,voice,webpush,email" || p.Channels.V2 != nil {
		t.Errorf("profile = %+v", p)
	}
	// The old form (phone and language only) keeps them.
	if res := put(`{"phone":"+525512345678","language":"es"}`); res.status != 200 || !strings.Contains(string(res.body), `"phone2":"+525511112222"`) {
		t.Errorf("a profile without the new fields: %d %s", res.status, res.body)
	}

	// Bea's first phone, as Ana's second: 409 on phone2, nothing changed.
	if res := put(`{"phone":"+525512345678","language":"es","phone2":"+52 55 8765 4321"}`); res.status != 409 || !strings.Contains(string(res.body), `"field":"phone2"`) {
		t.Errorf("someone else's phone as phone2: %d %s", res.status, res.body)
	}
	// And Ana's second phone as Bea's first (a manager's change): 409 too.
	var bea struct{ ID string }
	a.do("GET", "/api/v1/people/bea@example.com", adminToken, nil).json(t, &bea)
	if res := a.do("PUT", "/api/v1/people/"+bea.ID, adminToken, `{"name":"Bea Ruiz","email":"bea@example.com","language":"es","phone":"+525511112222","teams":[{"team":"operations"}]}`); res.status != 409 {
		t.Errorf("another's second phone as a first phone: %d %s", res.status, res.body)
	}
	res = put(`{"phone":"+525512345678","language":"es","phone2":"555","contact_email":"no-es-correo","channel_order":["sms","fax","sms"]}`, "Accept-Language", "es")
	for _, want := range []string{`"field":"phone2"`, `"field":"contact_email"`, `"field":"channel_order[1]"`, `"field":"channel_order[2]"`} {
		if res.status != 422 || !strings.Contains(string(res.body), want) {
			t.Errorf("bad profile: want 422 with %s, got %d %s", want, res.status, res.body)
		}
	}
	if res := put(`{"phone":"+525512345678","language":"es","phone2":"+525512345678"}`); res.status != 422 {
		t.Errorf("the first phone as the second: %d %s", res.status, res.body)
	}

	// Re-verify the second phone: the code goes to it, and confirming marks it verified.
	res = a.do("POST", "/api/v1/me/phone/verification", "", `{"which":"phone2"}`, "Cookie", ana)
	if res.status != 202 {
		t.Fatalf("verification of phone2: %d %s", res.status, res.body)
	}
	msgs := fake.Messages()
	last := msgs[len(msgs)-1]
	if last.Form.Get("To") != "+525511112222" {
		t.Fatalf("the code went to %s, want the second phone", last.Form.Get("To"))
	}
	code := strings.Fields(strings.SplitN(last.Form.Get("Body"), "es ", 2)[1])[0]
	res = a.do("POST", "/api/v1/me/phone/verification/confirm", "", map[string]string{"code": strings.TrimRight(code, ".")}, "Cookie", ana)
	res.json(t, &p)
	if res.status != 200 || p.Channels.V2 == nil {
		t.Errorf("confirm phone2: %d %s", res.status, res.body)
	}
}

// The readiness action asks everyone with an unverified phone (or verified too long ago)
// to confirm it by SMS with a link; the link's page confirms it, once.
func TestReconfirmPhonesByLink(t *testing.T) { storetest.Each(t, testReconfirmPhonesByLink) }

func testReconfirmPhonesByLink(t *testing.T) {
	a, _, fake, _ := verificationAPI(t, func(c *config.Config) { c.Server.PublicURL = "https://bcp.test" })
	a.api.Reconfirm = a.db.Contacts()
	manager := adminToken
	if res := a.do("POST", "/api/v1/readiness/reconfirm", manager, `{"older_than_months":-1}`); res.status != 422 {
		t.Errorf("bad months: %d %s", res.status, res.body)
	}
	before := len(fake.Messages())
	res := a.do("POST", "/api/v1/readiness/reconfirm", manager, `{"older_than_months":6}`)
	var got struct{ Asked, Sent, NotSent int }
	res.json(t, &got)
	if res.status != 202 || got.Asked != 2 || got.Sent != 2 {
		t.Fatalf("reconfirm: %d %s", res.status, res.body)
	}
	msgs := fake.Messages()[before:]
	var link string
	for _, m := range msgs {
		if m.Form.Get("To") == "+525512345678" {
			body := m.Form.Get("Body")
			if !strings.Contains(body, "confirma que este sigue siendo tu teléfono") {
				t.Errorf("SMS text: %q", body)
			}
			f := strings.Fields(body)
			link = f[len(f)-1]
		}
	}
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "https://bcp.test/p/") {
		t.Fatalf("no link in the SMS to Ana: %v", msgs)
	}
	page := a.do("GET", u.Path, "", nil, "Accept", "text/html")
	if page.status != 200 || !strings.Contains(string(page.body), "Confirma tu teléfono") || !strings.Contains(string(page.body), "Hola Ana") {
		t.Errorf("link page: %d %s", page.status, page.body)
	}
	done := a.do("POST", u.Path, "", "", "Accept", "text/html", "Content-Type", "application/x-www-form-urlencoded")
	if done.status != 200 || !strings.Contains(string(done.body), "tu teléfono quedó confirmado") {
		t.Errorf("confirm: %d %s", done.status, done.body)
	}
	var ana struct {
		Channels struct {
			V *time.Time `json:"phone_verified_at"`
		}
	}
	a.do("GET", "/api/v1/people/ana@example.com", adminToken, nil).json(t, &ana)
	if ana.Channels.V == nil {
		t.Errorf("Ana's phone is not verified after the link")
	}
	if again := a.do("POST", u.Path, "", "", "Accept", "text/html", "Content-Type", "application/x-www-form-urlencoded"); again.status == 200 {
		t.Errorf("a used link worked again: %d", again.status)
	}
	// Ana is verified now: a new request asks only Bea; asking for phones verified
	// before now (0 months) asks Ana again.
	res = a.do("POST", "/api/v1/readiness/reconfirm", manager, `{"older_than_months":6}`)
	res.json(t, &got)
	if got.Asked != 1 {
		t.Errorf("after Ana confirmed, asked %d, want 1 (Bea)", got.Asked)
	}
	res = a.do("POST", "/api/v1/readiness/reconfirm", manager, `{"older_than_months":0}`)
	res.json(t, &got)
	if got.Asked != 2 {
		t.Errorf("older than 0 months: asked %d, want 2", got.Asked)
	}
}
