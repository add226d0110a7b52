package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// newPushAPI is the test server with web push on, sending to a local fake push service
// that verifies the VAPID JWT and decrypts every payload.
func newPushAPI(t *testing.T) (*api, *webpushtest.Fake, webpush.Keys) {
	t.Helper()
	a, _ := newUserAPI(t, generous)
	keys, err := webpush.LoadKeys(t.TempDir(), func(k string) string {
		return map[string]string{"VAPID_SUBJECT": "mailto:continuidad@example.com"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: keys.Public})
	a.api.Push = &httpapi.WebPush{
		PublicKey: keys.Public,
		Browsers:  a.db.Push(),
		Sender:    webpush.New(keys, webpush.Options{AllowPrivateEndpoints: true}),
	}
	// A fresh server, so its handlers start after Push is set.
	srv := httptest.NewServer(described(t, a.api, a.api.Handler())) // openapi_harness_test.go
	t.Cleanup(srv.Close)
	a.srv = srv
	return a, fake, keys
}

// person adds someone to the directory with a user of the same email, signed in; it
// returns the person id and the session cookie.
func (a *api) person(name, email, lang string) (id, cookie string) {
	a.t.Helper()
	res := a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": name, "email": email, "language": lang, "teams": []map[string]string{{"team": "technology"}}})
	if res.status != 201 {
		a.t.Fatalf("create person = %d %s", res.status, res.body)
	}
	var p struct{ ID string }
	res.json(a.t, &p)
	a.createUser(email, optimum.RoleResponder)
	return p.ID, a.session(email, password)
}

type browserJSON struct {
	ID            string  `json:"id"`
	EndpointHost  string  `json:"endpoint_host"`
	UserAgent     string  `json:"user_agent"`
	CreatedAt     string  `json:"created_at"`
	LastSuccessAt *string `json:"last_success_at"`
	Status        string  `json:"status"`
	Error         string  `json:"error"`
}

func (a *api) pushEvents() []optimum.Event {
	a.t.Helper()
	events, err := a.db.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	var out []optimum.Event
	for _, e := range events {
		if strings.HasPrefix(e.Type, "push.") {
			out = append(out, e)
		}
	}
	return out
}

func TestPushSubscribeTestAndUnsubscribe(t *testing.T) {
	storetest.Each(t, testPushSubscribeTestAndUnsubscribe)
}

func testPushSubscribeTestAndUnsubscribe(t *testing.T) {
	a, fake, keys := newPushAPI(t)
	personID, cookie := a.person("Ana López", "ana@example.com", "es")

	res := a.do("GET", "/api/v1/push/vapid-public-key", "", nil, "Cookie", cookie)
	var key struct{ Key string }
	res.json(t, &key)
	if res.status != 200 || key.Key != keys.Public {
		t.Fatalf("public key = %d %s", res.status, res.body)
	}

	sub, endpoint := fake.NewSubscription()
	res = a.do("POST", "/api/v1/push/subscriptions", "", string(sub), "Cookie", cookie, "User-Agent", "Firefox/140")
	var b browserJSON
	res.json(t, &b)
	if res.status != 201 || b.ID == "" || b.EndpointHost != "127.0.0.1" || b.CreatedAt == "" || b.UserAgent != "Firefox/140" {
		t.Fatalf("subscribe = %d %s", res.status, res.body)
	}
	if bytes.Contains(res.body, []byte(endpoint)) {
		t.Errorf("the answer shows the endpoint: %s", res.body)
	}
	// The web app may send the same subscription on every visit: 200, nothing new.
	again := a.do("POST", "/api/v1/push/subscriptions", "", string(sub), "Cookie", cookie, "User-Agent", "Firefox/140")
	var b2 browserJSON
	again.json(t, &b2)
	if again.status != 200 || b2.ID != b.ID {
		t.Errorf("subscribe again = %d %s", again.status, again.body)
	}
	if n, _ := a.db.Push().CountByPerson(context.Background()); n[personID] != 1 {
		t.Errorf("counts = %v", n)
	}
	events := a.pushEvents()
	if len(events) != 1 || events[0].Type != "push.subscribed" || !bytes.Contains(events[0].Data, []byte(personID)) || !bytes.Contains(events[0].Data, []byte(`"endpoint_host":"127.0.0.1"`)) {
		t.Fatalf("events = %+v", events)
	}
	var s webpush.Subscription
	json.Unmarshal(sub, &s)
	if bytes.Contains(events[0].Data, []byte(s.Keys.Auth)) || bytes.Contains(events[0].Data, []byte(endpoint)) {
		t.Errorf("the event holds the endpoint or keys: %s", events[0].Data)
	}

	res = a.do("POST", "/api/v1/push/test", "", nil, "Cookie", cookie)
	var out struct {
		Sent    int
		Results []browserJSON
	}
	res.json(t, &out)
	if res.status != 200 || out.Sent != 1 || len(out.Results) != 1 || out.Results[0].Status != "sent" {
		t.Fatalf("test push = %d %s (rejected %+v)", res.status, res.body, fake.Rejected())
	}
	got := fake.Received()
	if len(got) != 1 || got[0].Endpoint != endpoint || got[0].Urgency != "high" || got[0].TTL <= 0 || got[0].Subject != "mailto:continuidad@example.com" {
		t.Fatalf("received %+v", got)
	}
	n, err := got[0].Notification()
	if err != nil || n["title"] != "Prueba de OPTIMUM BCP" || n["lang"] != "es" || n["url"] != a.srv.URL+"/" {
		t.Errorf("notification = %v, %v", n, err)
	}
	var list []browserJSON
	a.do("GET", "/api/v1/push/subscriptions", "", nil, "Cookie", cookie).json(t, &list)
	if len(list) != 1 || list[0].LastSuccessAt == nil {
		t.Errorf("list = %+v", list)
	}

	if res := a.do("DELETE", "/api/v1/push/subscriptions", "", map[string]string{"endpoint": endpoint}, "Cookie", cookie); res.status != 204 {
		t.Fatalf("unsubscribe = %d %s", res.status, res.body)
	}
	a.do("GET", "/api/v1/push/subscriptions", "", nil, "Cookie", cookie).json(t, &list)
	if len(list) != 0 {
		t.Errorf("after unsubscribing: %+v", list)
	}
	if events := a.pushEvents(); len(events) != 2 || events[1].Type != "push.unsubscribed" || !bytes.Contains(events[1].Data, []byte(`"reason":"unsubscribed"`)) {
		t.Errorf("events = %+v", events)
	}
	if res := a.do("DELETE", "/api/v1/push/subscriptions", "", map[string]string{"endpoint": endpoint}, "Cookie", cookie); res.status != 204 {
		t.Errorf("unsubscribing again = %d", res.status)
	}
	if res := a.do("POST", "/api/v1/push/test", "", nil, "Cookie", cookie); res.status != 409 {
		t.Errorf("test push without browsers = %d %s", res.status, res.body)
	}
}

func TestPushBadSubscriptionIs422(t *testing.T) { storetest.Each(t, testPushBadSubscriptionIs422) }

func testPushBadSubscriptionIs422(t *testing.T) {
	a, fake, _ := newPushAPI(t)
	_, cookie := a.person("Ana López", "ana@example.com", "es")
	sub, endpoint := fake.NewSubscription()
	var s webpush.Subscription
	json.Unmarshal(sub, &s)
	for _, tt := range []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"short p256dh", strings.Replace(string(sub), s.Keys.P256dh, "BAAA", 1), 422, "keys.p256dh"},
		{"short auth", strings.Replace(string(sub), s.Keys.Auth, "AAAA", 1), 422, "keys.auth"},
		{"plain http", strings.Replace(string(sub), endpoint, "http://push.example.com/x", 1), 422, "endpoint"},
		{"no keys", `{"endpoint":"https://push.example.com/x"}`, 422, "keys"},
		{"not JSON", `{"endpoint":`, 400, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := a.do("POST", "/api/v1/push/subscriptions", "", tt.body, "Cookie", cookie)
			var p struct{ Errors []optimum.FieldError }
			res.json(t, &p)
			if res.status != tt.status || (tt.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.field)) {
				t.Errorf("= %d %s", res.status, res.body)
			}
		})
	}
	if events := a.pushEvents(); len(events) != 0 {
		t.Errorf("events = %+v", events)
	}
	if res := a.do("DELETE", "/api/v1/push/subscriptions", "", `{}`, "Cookie", cookie); res.status != 422 {
		t.Errorf("unsubscribe without endpoint = %d", res.status)
	}
}

func TestPushRefusesAnAccountWithoutAPerson(t *testing.T) {
	storetest.Each(t, testPushRefusesAnAccountWithoutAPerson)
}

func testPushRefusesAnAccountWithoutAPerson(t *testing.T) {
	a, fake, _ := newPushAPI(t)
	a.createUser("bob@example.com", optimum.RoleResponder)
	cookie := a.session("bob@example.com", password)
	sub, _ := fake.NewSubscription()
	for _, path := range []string{"/api/v1/push/subscriptions", "/api/v1/push/test"} {
		if res := a.do("POST", path, "", string(sub), "Cookie", cookie); res.status != 404 || !bytes.Contains(res.body, []byte("no está vinculada")) {
			t.Errorf("%s = %d %s", path, res.status, res.body)
		}
	}
	if res := a.do("GET", "/api/v1/push/vapid-public-key", "", nil, "Cookie", cookie); res.status != 200 {
		t.Errorf("the public key needs no person: %d", res.status)
	}
}

// A subscription whose push service answers 410 (the browser dropped it) is removed when
// the test push finds out; the person's other browser still gets it.
func TestPushTestRemovesAnExpiredSubscription(t *testing.T) {
	storetest.Each(t, testPushTestRemovesAnExpiredSubscription)
}

func testPushTestRemovesAnExpiredSubscription(t *testing.T) {
	a, fake, _ := newPushAPI(t)
	personID, cookie := a.person("Ana López", "ana@example.com", "es")
	live, liveEndpoint := fake.NewSubscription()
	dead, deadEndpoint := fake.NewSubscription()
	for _, sub := range [][]byte{live, dead} {
		if res := a.do("POST", "/api/v1/push/subscriptions", "", string(sub), "Cookie", cookie); res.status != 201 {
			t.Fatalf("subscribe = %d %s", res.status, res.body)
		}
	}
	fake.Expire(deadEndpoint, 410)
	res := a.do("POST", "/api/v1/push/test", "", nil, "Cookie", cookie)
	var out struct {
		Sent    int
		Results []browserJSON
	}
	res.json(t, &out)
	// Both subscriptions may carry the same millisecond, so their order is not fixed.
	statuses := map[string]int{}
	for _, r := range out.Results {
		statuses[r.Status]++
	}
	if res.status != 200 || out.Sent != 1 || len(out.Results) != 2 || statuses["sent"] != 1 || statuses["gone"] != 1 {
		t.Fatalf("test push = %d %s", res.status, res.body)
	}
	browsers, _ := a.db.Push().ForPerson(context.Background(), personID)
	if len(browsers) != 1 || browsers[0].Endpoint != liveEndpoint {
		t.Errorf("left = %+v", browsers)
	}
	events := a.pushEvents()
	if last := events[len(events)-1]; last.Type != "push.unsubscribed" || !bytes.Contains(last.Data, []byte(`"reason":"gone"`)) {
		t.Errorf("last event = %s %s", last.Type, last.Data)
	}
}

// Registering an endpoint that is another person's is refused (409, in the caller's
// language) and changes nothing: it used to move the browser, and its alerts, to whoever
// sent it. A fresh subscription of the same (shared) browser is the newcomer's.
func TestPushEndpointOfAnotherPersonIsRefused(t *testing.T) {
	storetest.Each(t, testPushEndpointOfAnotherPersonIsRefused)
}

func testPushEndpointOfAnotherPersonIsRefused(t *testing.T) {
	a, fake, _ := newPushAPI(t)
	ana, anaCookie := a.person("Ana López", "ana@example.com", "es")
	bob, bobCookie := a.person("Bob Smith", "bob@example.com", "en")
	sub, _ := fake.NewSubscription()
	a.do("POST", "/api/v1/push/subscriptions", "", string(sub), "Cookie", anaCookie)
	before := len(a.pushEvents())
	for lang, want := range map[string]string{"es": "registradas a nombre de otra persona", "en": "registered to another person"} {
		res := a.do("POST", "/api/v1/push/subscriptions", "", string(sub), "Cookie", bobCookie, "Accept-Language", lang)
		if res.status != 409 || !bytes.Contains(res.body, []byte(want)) || bytes.Contains(res.body, []byte("Ana")) {
			t.Errorf("Bob subscribes Ana's endpoint (%s) = %d %s", lang, res.status, res.body)
		}
	}
	counts, _ := a.db.Push().CountByPerson(context.Background())
	if counts[ana] != 1 || counts[bob] != 0 || len(a.pushEvents()) != before {
		t.Errorf("after the refusal counts = %v, %d new events", counts, len(a.pushEvents())-before)
	}
	a.do("POST", "/api/v1/push/test", "", nil, "Cookie", anaCookie)
	if got := fake.Received(); len(got) != 1 {
		t.Fatalf("Ana's test push: received %d", len(got))
	}
	// The shared browser subscribes anew for Bob: a new endpoint, his.
	fresh, _ := fake.NewSubscription()
	if res := a.do("POST", "/api/v1/push/subscriptions", "", string(fresh), "Cookie", bobCookie); res.status != 201 {
		t.Fatalf("Bob's own subscription = %d %s", res.status, res.body)
	}
	a.do("POST", "/api/v1/push/test", "", nil, "Cookie", bobCookie)
	got := fake.Received()
	if len(got) != 2 {
		t.Fatalf("received %d pushes", len(got))
	}
	if n, _ := got[1].Notification(); n["title"] != "OPTIMUM BCP test" || n["lang"] != "en" {
		t.Errorf("notification = %v", n)
	}
	// Ana cannot remove Bob's browser, by endpoint or by id.
	var list []browserJSON
	a.do("GET", "/api/v1/push/subscriptions", "", nil, "Cookie", bobCookie).json(t, &list)
	if res := a.do("DELETE", "/api/v1/push/subscriptions/"+list[0].ID, "", nil, "Cookie", anaCookie); res.status != 404 {
		t.Errorf("Ana deletes Bob's = %d", res.status)
	}
	if res := a.do("DELETE", "/api/v1/push/subscriptions/"+list[0].ID, "", nil, "Cookie", bobCookie); res.status != 204 {
		t.Errorf("Bob deletes his = %d", res.status)
	}
}

func TestPushDropsTheOldestBrowserOverTheLimit(t *testing.T) {
	storetest.Each(t, testPushDropsTheOldestBrowserOverTheLimit)
}

func testPushDropsTheOldestBrowserOverTheLimit(t *testing.T) {
	a, fake, _ := newPushAPI(t)
	personID, _ := a.person("Ana López", "ana@example.com", "es")
	ctx := context.Background()
	var first string
	for i := range store.MaxBrowsersPerPerson + 1 {
		data, endpoint := fake.NewSubscription()
		sub, err := webpush.ParseSubscription(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.db.Push().Save(ctx, personID, sub, ""); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			// Subscriptions are ordered by their millisecond: make the first one the
			// oldest beyond doubt.
			first = endpoint
			for ms := time.Now().UnixMilli(); time.Now().UnixMilli() <= ms; {
				time.Sleep(100 * time.Microsecond)
			}
		}
	}
	browsers, _ := a.db.Push().ForPerson(ctx, personID)
	if len(browsers) != store.MaxBrowsersPerPerson {
		t.Fatalf("%d browsers kept", len(browsers))
	}
	for _, b := range browsers {
		if b.Endpoint == first {
			t.Error("the oldest browser was kept")
		}
	}
}

func TestPushRoutesAnswer503WhenOff(t *testing.T) { storetest.Each(t, testPushRoutesAnswer503WhenOff) }

func testPushRoutesAnswer503WhenOff(t *testing.T) {
	a := newAPI(t, adminToken)
	if res := a.do("GET", "/api/v1/push/vapid-public-key", adminToken, nil); res.status != 503 || !bytes.Contains(res.body, []byte("no están configuradas")) {
		t.Errorf("= %d %s", res.status, res.body)
	}
}
