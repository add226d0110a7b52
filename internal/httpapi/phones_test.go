package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Taking another active person's number through "Mi perfil", the people API or an
// import is a 409 problem on the field phone, in Spanish or English; a non-manager is not
// told whose number it is; nothing changes.
func TestTakingAnotherPersonsPhoneIsRefused(t *testing.T) {
	storetest.Each(t, testTakingAnotherPersonsPhoneIsRefused)
}

func testTakingAnotherPersonsPhoneIsRefused(t *testing.T) {
	a := newAPI(t, adminToken)
	a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Ana Víctima", "email": "ana@example.com", "phone": "+525512345678", "language": "es"})
	a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Bob", "email": "bob@example.com", "phone": "+34612345678", "language": "es"})
	a.createUser("bob@example.com", optimum.RoleResponder)
	cookie := a.session("bob@example.com", password)

	type problem struct {
		Status int
		Detail string
		Errors []optimum.FieldError
	}
	check := func(what string, res response, lang, want string, named bool) {
		t.Helper()
		var p problem
		res.json(t, &p)
		if res.status != 409 || p.Status != 409 || len(p.Errors) != 1 || p.Errors[0].Field != "phone" {
			t.Errorf("%s = %d %s, want 409 on phone", what, res.status, res.body)
			return
		}
		if !strings.Contains(p.Detail+" "+p.Errors[0].Message, want) {
			t.Errorf("%s in %s = %s, want %q", what, lang, res.body, want)
		}
		if bytes.Contains(res.body, []byte("Víctima")) != named {
			t.Errorf("%s names the holder: %v, want %v (%s)", what, !named, named, res.body)
		}
	}
	res := a.do("PUT", "/api/v1/me/profile", "", map[string]string{"phone": "+52 55 1234 5678", "language": "es"}, "Cookie", cookie, "Accept-Language", "es")
	check("profile", res, "es", "ya es de otra persona activa", false)
	res = a.do("PUT", "/api/v1/me/profile", "", map[string]string{"phone": "+525512345678", "language": "es"}, "Cookie", cookie, "Accept-Language", "en")
	check("profile", res, "en", "already belongs to another active person", false)
	res = a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Cy", "email": "cy@example.com", "phone": "+525512345678", "language": "es"}, "Accept-Language", "es")
	check("create", res, "es", "El número de teléfono es de otra persona.", true)
	res = a.upload("/api/v1/people/import", adminToken, "text/csv", []byte("name,email,phone,language,teams,manager_email\nCy,cy@example.com,+525512345678,es,,\n"))
	if res.status != 409 || !bytes.Contains(res.body, []byte(`"field":"phone"`)) {
		t.Errorf("import = %d %s", res.status, res.body)
	}
	var people []struct{ Email, Phone string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	if len(people) != 2 || people[1].Email != "bob@example.com" || people[1].Phone != "+34612345678" {
		t.Errorf("people after the refusals = %+v", people)
	}
}

// capture is a slog handler that keeps the messages and attributes it is given.
type capture struct {
	mu    sync.Mutex
	lines []string
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, string(p))
	return len(p), nil
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines, "")
}

// A number two active people already shared before the rule existed does not stop the
// server: it is listed on the readiness API (numbers and names, for managers) and in
// /readyz (a count, still ready), and an SMS or a key pressed from it records nothing,
// with a logged reason, instead of acknowledging for whichever person is the oldest.
func TestSharedPhoneIsListedAndItsRepliesRefused(t *testing.T) {
	storetest.Each(t, testSharedPhoneIsListedAndItsRepliesRefused)
}

func testSharedPhoneIsListedAndItsRepliesRefused(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withTwilio)
	logs := &capture{}
	a.api.Inbound.Logger = slog.New(slog.NewTextHandler(logs, nil))
	csv := "name,email,phone,language,teams,manager_email\n" +
		"Ana,ana@example.com,+525512345678,es,technology,\n" +
		"Bob,bob@example.com,,es,technology,\n"
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(csv)); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	storetest.Exec(t, a.db, "UPDATE people SET phone = $1 WHERE email = $2", "+525512345678", "bob@example.com")

	var rd struct {
		SharedPhones []struct {
			Phone  string
			People []struct{ Name string }
		} `json:"shared_phones"`
	}
	a.do("GET", "/api/v1/readiness", adminToken, nil).json(t, &rd)
	if len(rd.SharedPhones) != 1 || rd.SharedPhones[0].Phone != "+525512345678" || len(rd.SharedPhones[0].People) != 2 {
		t.Errorf("readiness shared_phones = %+v", rd.SharedPhones)
	}
	res := a.do("GET", "/readyz", "", nil)
	var ready struct {
		Status   string
		Problems map[string][]string
	}
	res.json(t, &ready)
	if res.status != 200 || ready.Status != "ready" || len(ready.Problems["directory"]) != 1 ||
		!strings.Contains(ready.Problems["directory"][0], "shared_phones: 1") {
		t.Errorf("readyz = %d %s", res.status, res.body)
	}
	if bytes.Contains(res.body, []byte("5512345678")) || bytes.Contains(res.body, []byte("Ana")) {
		t.Errorf("the public /readyz shows a number or a name: %s", res.body)
	}

	d := declaration()
	d["teams"] = []string{"technology"}
	var inc struct{ ID string }
	a.do("POST", "/api/v1/incidents", adminToken, d).json(t, &inc)
	sms := a.twilioPost("/hooks/twilio/sms", url.Values{"MessageSid": {"SM1"}, "From": {"+525512345678"}, "Body": {"1"}}, "")
	if sms.status != 200 || !bytes.Contains(sms.body, []byte("más de una persona")) {
		t.Errorf("sms from the shared number = %d %s", sms.status, sms.body)
	}
	var people []struct{ ID, Email string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	enqueueCall(t, a, "dlv_call", inc.ID, people[0].ID, "+525512345678")
	call := a.twilioPost("/hooks/twilio/voice?d=dlv_call", url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}, "")
	if call.status != 200 || !bytes.Contains(call.body, []byte("más de una persona")) || !bytes.Contains(call.body, []byte("<Hangup/>")) {
		t.Errorf("key from the shared number = %d %s", call.status, call.body)
	}
	var view struct {
		AckCount int `json:"ack_count"`
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil).json(t, &view)
	if view.AckCount != 0 {
		t.Errorf("ack_count = %d after replies from a shared number, want 0", view.AckCount)
	}
	if n := strings.Count(logs.String(), "reason=shared_phone"); n != 2 {
		t.Errorf("logged %d refusals, want 2:\n%s", n, logs)
	}

	// Once a manager gives the number to one person, the same reply acknowledges.
	var bob map[string]any
	for _, p := range people {
		if p.Email == "bob@example.com" {
			a.do("GET", "/api/v1/people/"+p.ID, adminToken, nil).json(t, &bob)
			bob["phone"] = ""
			if res := a.do("PUT", "/api/v1/people/"+p.ID, adminToken, personInput(bob)); res.status != 200 {
				t.Fatalf("fix bob = %d %s", res.status, res.body)
			}
		}
	}
	sms = a.twilioPost("/hooks/twilio/sms", url.Values{"MessageSid": {"SM2"}, "From": {"+525512345678"}, "Body": {"1"}}, "")
	a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil).json(t, &view)
	if view.AckCount != 1 {
		t.Errorf("after the fix: sms = %s, ack_count = %d", sms.body, view.AckCount)
	}
}

// personInput keeps the fields of a person that PUT /api/v1/people/{id} takes.
func personInput(p map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"name", "email", "phone", "language", "time_zone"} {
		out[k] = p[k]
	}
	var teams []map[string]any
	raw, _ := json.Marshal(p["memberships"])
	_ = json.Unmarshal(raw, &teams)
	out["teams"] = teams
	return out
}

// enqueueCall records a voice delivery of the incident to the person, as the engine would.
func enqueueCall(t *testing.T, a *api, id, incidentID, personID, to string) {
	t.Helper()
	now := time.Now()
	err := a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: id, Channel: broadcast.ChannelVoice, To: to, Language: "es"},
		Subject: incidentID, Recipient: personID, DueAt: now, Deadline: now.Add(time.Hour),
	}})
	if err != nil {
		t.Fatal(err)
	}
}
