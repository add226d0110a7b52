package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/optimum-bcp/optimum/alerts"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/indicators"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/metrics"
	"github.com/optimum-bcp/optimum/internal/oidc"
	"github.com/optimum-bcp/optimum/internal/scim"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const adminToken = "test-admin-token-0123456789"

type api struct {
	t     *testing.T
	srv   *httptest.Server
	db    *store.DB
	auth  *auth.Service
	login string // one-time login code, when bootstrapped without a token
	api   *httpapi.Server
}

// newAPI serves the real handler on a real SQLite database.
func newAPI(t *testing.T, bootstrap string) *api {
	t.Helper()
	a, _ := newTestAPI(t, bootstrap, nil)
	return a
}

// newTestAPI serves the real handler, the hub and the directory on a real SQLite
// database, on a clock the test moves, with cheap password hashing and, optionally, a
// changed configuration.
func newTestAPI(t *testing.T, bootstrap string, tweak func(*config.Config)) (*api, *clock) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	cfg := config.Default()
	if tweak != nil {
		tweak(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now().UTC().Truncate(time.Millisecond)}
	authn := auth.NewService(db.Auth(), clk.Now)
	authn.SetPasswordParams(auth.Params{Memory: 64, Time: 1, Threads: 1})
	code, err := authn.Bootstrap(ctx, bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	bus := broadcast.NewLocalBus()
	db.SetNotifier(func(id int64) { bus.Publish(ctx, id) })
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		t.Fatal(err)
	}
	s := &httpapi.Server{
		Config:    cfg,
		Directory: dir,
		Incidents: incident.NewService(db.Incidents(), cfg.IncidentPolicy(), dir, nil),
		Auth:      authn,
		Ready:     db.Ping,
		Static:    fstest.MapFS{"index.html": {Data: []byte("<h1>OPTIMUM</h1>")}},
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		SCIM:      &scim.Service{Directory: dir, Language: "es"}, // scim_test.go
	}
	for _, pc := range cfg.SSO.Providers { // single sign-on (sso_test.go)
		s.SSO = append(s.SSO, oidc.New(pc, cfg.OutboundGuard().Client(10*time.Second), clk.Now))
	}
	s.Desk = incident.NewDesk(s.Incidents, db.Desk(), incident.DeskOptions{PublicURL: "http://bcp.test"})
	s.Audit = db
	s.Alerts = alerts.NewService(db.Proposals(), s.Incidents, cfg.Integrations, clk.Now)
	s.Rights = db
	s.Hub = ws.New(db, bus, ws.Options{CheckOrigin: s.CheckOrigin, Audience: httpapi.StreamAudience,
		Alerted: db.Incidents().Alerted, Access: httpapi.StreamAccess, Heartbeat: time.Duration(cfg.Stream.Heartbeat)})
	s.Inbound = escalation.NewInbound(db.Escalation(), s.Incidents, nil)
	s.Webhooks = db.Deliveries()
	s.SMSBudget = db.SMSBudget()
	s.Chat = db.Chat() // team chats and webhooks (chat.go)
	s.Drills = drill.NewService(db.Drills(), s.Incidents, dir, nil, drill.Options{Now: clk.Now})
	s.Indicators = indicators.New(db.Indicators(), cfg.IndicatorOptions(nil))
	s.Metrics = metrics.New(db.Indicators(), db, metrics.Options{Connections: s.Hub.Connections, Dropped: s.Hub.Dropped}).Handler()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Hub.Run(runCtx) }()
	srv := httptest.NewServer(described(t, s, s.Handler())) // checked against the OpenAPI description (openapi_harness_test.go)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		db.Close()
	})
	return &api{t: t, srv: srv, db: db, auth: authn, login: code, api: s}, clk
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request; body may be a string (sent as is) or a value (sent as JSON).
func (a *api) do(method, path, token string, body any, header ...string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, data}
}

func (a *api) token(role optimum.Role) string {
	a.t.Helper()
	_, secret, err := a.auth.CreateToken(context.Background(), string(role)+" token", role)
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

func declaration() map[string]any {
	return map[string]any{"title": "Caída del centro de datos", "description": "Sin energía", "services": []string{"erp"}, "causes": []string{"energía"}, "impact": "critical", "urgency": "high", "location": "CDMX"}
}

func TestDeclareReadAndAcknowledge(t *testing.T) { storetest.Each(t, testDeclareReadAndAcknowledge) }

func testDeclareReadAndAcknowledge(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("POST", "/api/v1/incidents", adminToken, declaration())
	if res.status != 201 {
		t.Fatalf("declare = %d %s", res.status, res.body)
	}
	var inc struct {
		ID, Folio, Priority, Status string
		SLA                         struct {
			AckBy string `json:"ack_by"`
		}
	}
	res.json(t, &inc)
	if inc.Priority != "P1" || inc.Status != "declared" || !strings.HasPrefix(inc.Folio, "BCP-") || inc.SLA.AckBy == "" {
		t.Errorf("incident = %+v", inc)
	}
	if got := res.header.Get("Location"); got != "/api/v1/incidents/"+inc.ID {
		t.Errorf("Location = %q", got)
	}
	responder := a.token(optimum.RoleResponder)
	if res := a.do("POST", "/api/v1/incidents/"+inc.Folio+"/ack", responder, nil); res.status != 200 {
		t.Fatalf("ack = %d %s", res.status, res.body)
	}
	res = a.do("GET", "/api/v1/incidents/"+inc.Folio, adminToken, nil)
	var view struct {
		Status     string
		Timeline   []struct{ Type string }
		Recipients []struct {
			PersonID       string  `json:"person_id"`
			AcknowledgedAt *string `json:"acknowledged_at"`
		}
	}
	res.json(t, &view)
	if view.Status != "acknowledged" || len(view.Timeline) != 2 || view.Timeline[1].Type != "incident.acknowledged" {
		t.Errorf("view = %+v", view)
	}
	if len(view.Recipients) != 1 || view.Recipients[0].AcknowledgedAt == nil {
		t.Errorf("recipients = %+v", view.Recipients)
	}
	if res := a.do("GET", "/api/v1/incidents/BCP-1999-000001", adminToken, nil); res.status != 404 {
		t.Errorf("unknown folio = %d", res.status)
	}
}

// Bad input answers a 4xx problem+json that says what is wrong, stores nothing and
// broadcasts nothing.
func TestBadInputChangesNothing(t *testing.T) { storetest.Each(t, testBadInputChangesNothing) }

func testBadInputChangesNothing(t *testing.T) {
	a := newAPI(t, adminToken)
	reporter := a.token(optimum.RoleReporter)
	long := declaration()
	long["title"] = strings.Repeat("x", 201)
	unknownImpact := declaration()
	unknownImpact["impact"] = "apocalyptic"
	unknownField := declaration()
	unknownField["severity"] = "max"
	wrongType := declaration()
	wrongType["services"] = "erp"
	for _, tt := range []struct {
		name, method, path, token string
		body                      any
		header                    []string
		status                    int
		detail                    string
	}{
		{"malformed JSON", "POST", "/api/v1/incidents", adminToken, `{"title": "broken`, nil, 400, "not valid JSON"},
		{"two objects", "POST", "/api/v1/incidents", adminToken, `{"title":"a"}{"title":"b"}`, nil, 400, "single JSON object"},
		{"empty body", "POST", "/api/v1/incidents", adminToken, "", nil, 400, "empty"},
		{"unknown field", "POST", "/api/v1/incidents", adminToken, unknownField, nil, 400, "severity"},
		{"wrong type", "POST", "/api/v1/incidents", adminToken, wrongType, nil, 400, "services"},
		{"unknown impact", "POST", "/api/v1/incidents", adminToken, unknownImpact, nil, 422, "declaration has errors"},
		{"over-long title", "POST", "/api/v1/incidents", adminToken, long, nil, 422, "declaration has errors"},
		{"oversized body", "POST", "/api/v1/incidents", adminToken, `{"title":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, "larger than"},
		{"not JSON", "POST", "/api/v1/incidents", adminToken, "title=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "must be JSON"},
		{"no token", "POST", "/api/v1/incidents", "", declaration(), nil, 401, "Sign in"},
		{"wrong token", "POST", "/api/v1/incidents", "nope-nope-nope", declaration(), nil, 401, "invalid credentials"},
		{"basic auth", "POST", "/api/v1/incidents", "", declaration(), []string{"Authorization", "Basic YTpi"}, 401, "Bearer"},
		{"reporter acknowledges an incident not sent to them", "POST", "/api/v1/incidents/x/ack", reporter, nil, nil, 404, "No incident"},
		{"idempotency key too long", "POST", "/api/v1/incidents", adminToken, declaration(), []string{"Idempotency-Key", strings.Repeat("k", 201)}, 422, "Idempotency-Key"},
		{"unknown list parameter", "GET", "/api/v1/incidents?sort=x", adminToken, nil, nil, 422, "list parameters"},
		{"bad list status", "GET", "/api/v1/incidents?status=burning", adminToken, nil, nil, 422, "list parameters"},
		{"reversed time range", "GET", "/api/v1/incidents?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", adminToken, nil, nil, 422, "reversed"},
		{"unknown API path", "GET", "/api/v1/nothing", adminToken, nil, nil, 404, "no GET"},
		{"bad since", "GET", "/api/v1/stream?since=-1", adminToken, nil, nil, 422, "stream parameters"},
		{"responder creates token", "POST", "/api/v1/tokens", a.token(optimum.RoleResponder), map[string]string{"name": "x", "role": "admin"}, nil, 403, "admin"},
		{"bad token role", "POST", "/api/v1/tokens", adminToken, map[string]string{"name": "x", "role": "god"}, nil, 422, "token has errors"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// The details below are the English ones: ask for English (Spanish is the default).
			res := a.do(tt.method, tt.path, tt.token, tt.body, append([]string{"Accept-Language", "en"}, tt.header...)...)
			if res.status != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type = %q", ct)
			}
			var p struct {
				Status int
				Detail string
			}
			res.json(t, &p)
			if p.Status != tt.status || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem = %+v, want detail containing %q", p, tt.detail)
			}
		})
	}
	events, _ := a.db.EventsAfter(context.Background(), 0, 1000)
	for _, e := range events {
		if strings.HasPrefix(e.Type, "incident.") {
			t.Errorf("an incident event was appended: %+v", e)
		}
	}
	res := a.do("GET", "/api/v1/incidents", adminToken, nil)
	if string(bytes.TrimSpace(res.body)) != "[]" {
		t.Errorf("incidents stored: %s", res.body)
	}
}

func TestFieldErrorsAreListed(t *testing.T) { storetest.Each(t, testFieldErrorsAreListed) }

func testFieldErrorsAreListed(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("POST", "/api/v1/incidents", adminToken, map[string]any{"impact": "huge", "urgency": "high", "teams": []string{"marketing"}})
	var p struct {
		Errors []struct{ Field, Message string }
	}
	res.json(t, &p)
	var fields []string
	for _, e := range p.Errors {
		fields = append(fields, e.Field)
	}
	if got := strings.Join(fields, ","); got != "title,impact,teams[0]" {
		t.Errorf("fields = %s (%s)", got, res.body)
	}
}

func TestIdempotencyKeyOverHTTP(t *testing.T) { storetest.Each(t, testIdempotencyKeyOverHTTP) }

func testIdempotencyKeyOverHTTP(t *testing.T) {
	a := newAPI(t, adminToken)
	first := a.do("POST", "/api/v1/incidents", adminToken, declaration(), "Idempotency-Key", "abc")
	again := a.do("POST", "/api/v1/incidents", adminToken, declaration(), "Idempotency-Key", "abc")
	var x, y struct{ ID string }
	first.json(t, &x)
	again.json(t, &y)
	if again.status != 201 || x.ID != y.ID || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay = %d %s %q", again.status, y.ID, again.header.Get("Idempotent-Replayed"))
	}
	other := declaration()
	other["title"] = "otra"
	if res := a.do("POST", "/api/v1/incidents", adminToken, other, "Idempotency-Key", "abc"); res.status != 409 {
		t.Errorf("same key, other body = %d", res.status)
	}
}

func TestListFiltersAndPaging(t *testing.T) { storetest.Each(t, testListFiltersAndPaging) }

func testListFiltersAndPaging(t *testing.T) {
	a := newAPI(t, adminToken)
	for i := range 5 {
		d := declaration()
		d["title"] = []string{"uno", "dos", "tres", "cuatro", "cinco"}[i]
		d["drill"] = i == 4
		a.do("POST", "/api/v1/incidents", adminToken, d)
	}
	res := a.do("GET", "/api/v1/incidents?limit=2&drill=false", adminToken, nil)
	var page []struct{ Title string }
	res.json(t, &page)
	if len(page) != 2 || page[0].Title != "cuatro" {
		t.Fatalf("page 1 = %+v", page)
	}
	link := res.header.Get("Link")
	next := strings.TrimSuffix(strings.TrimPrefix(strings.Split(link, ";")[0], "<"), ">")
	res = a.do("GET", next, adminToken, nil)
	res.json(t, &page)
	if len(page) != 2 || page[0].Title != "dos" {
		t.Fatalf("page 2 (%s) = %+v", next, page)
	}
	res = a.do("GET", "/api/v1/incidents?q=TRES&status=declared,acknowledged&priority=p1", adminToken, nil)
	res.json(t, &page)
	if len(page) != 1 || page[0].Title != "tres" {
		t.Errorf("search = %+v", page)
	}
}

func TestTokensAreShownOnceAndRevocable(t *testing.T) {
	storetest.Each(t, testTokensAreShownOnceAndRevocable)
}

func testTokensAreShownOnceAndRevocable(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("POST", "/api/v1/tokens", adminToken, map[string]string{"name": "Tablero sala de crisis", "role": "responder"})
	var tok struct{ ID, Token, Role string }
	res.json(t, &tok)
	if res.status != 201 || tok.Token == "" || tok.Role != "responder" {
		t.Fatalf("create = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/me", tok.Token, nil); res.status != 200 {
		t.Errorf("new token: %d", res.status)
	}
	list := a.do("GET", "/api/v1/tokens", adminToken, nil)
	if bytes.Contains(list.body, []byte(tok.Token)) {
		t.Error("the list shows a secret")
	}
	if res := a.do("DELETE", "/api/v1/tokens/"+tok.ID, adminToken, nil); res.status != 204 {
		t.Errorf("revoke = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/me", tok.Token, nil); res.status != 401 {
		t.Errorf("revoked token: %d", res.status)
	}
}

func TestSessionCookieAndCrossOriginProtection(t *testing.T) {
	storetest.Each(t, testSessionCookieAndCrossOriginProtection)
}

func testSessionCookieAndCrossOriginProtection(t *testing.T) {
	a := newAPI(t, adminToken)
	if res := a.do("POST", "/api/v1/session", "", map[string]string{"token": "wrong"}); res.status != 401 {
		t.Fatalf("wrong token sign-in = %d", res.status)
	}
	res := a.do("POST", "/api/v1/session", "", map[string]string{"token": adminToken})
	if res.status != 200 {
		t.Fatalf("sign in = %d %s", res.status, res.body)
	}
	cookie := res.header.Get("Set-Cookie")
	if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Errorf("cookie = %q", cookie)
	}
	session := strings.Split(cookie, ";")[0]
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", session); res.status != 200 {
		t.Errorf("me with cookie = %d", res.status)
	}
	// A browser request from another site carrying the cookie is refused.
	res = a.do("POST", "/api/v1/incidents", "", declaration(), "Cookie", session, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if res.status != 403 {
		t.Errorf("cross-site declare = %d, want 403", res.status)
	}
	// …with a problem in Spanish, like every refusal.
	var p struct{ Code, Detail string }
	res.json(t, &p)
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") || p.Code != "forbidden" || !strings.Contains(p.Detail, "otro origen") {
		t.Errorf("cross-site declare answered %s %s", ct, res.body)
	}
	if res := a.do("POST", "/api/v1/incidents", "", declaration(), "Cookie", session, "Sec-Fetch-Site", "same-origin"); res.status != 201 {
		t.Errorf("same-origin declare = %d %s", res.status, res.body)
	}
	if res := a.do("DELETE", "/api/v1/session", "", nil, "Cookie", session); res.status != 204 {
		t.Errorf("sign out = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/me", "", nil, "Cookie", session); res.status != 401 {
		t.Errorf("after sign out = %d", res.status)
	}
}

// Without a bootstrap token, first start creates an admin reachable through a one-time
// link: the GET only shows a button (prefetchers cannot spend it), the POST signs in once.
func TestOneTimeLoginLink(t *testing.T) { storetest.Each(t, testOneTimeLoginLink) }

func testOneTimeLoginLink(t *testing.T) {
	a := newAPI(t, "")
	if a.login == "" {
		t.Fatal("no login code on first start")
	}
	if res := a.do("GET", "/login/"+a.login, "", nil); res.status != 200 || !bytes.Contains(res.body, []byte("<form")) {
		t.Fatalf("login page = %d", res.status)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func() *http.Response {
		res, err := client.Post(a.srv.URL+"/login/"+a.login, "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := post()
	if res.StatusCode != 303 || len(res.Cookies()) != 1 {
		t.Fatalf("login = %d %v", res.StatusCode, res.Cookies())
	}
	if me := a.do("GET", "/api/v1/me", "", nil, "Cookie", sessionCookie(res)); me.status != 200 || !bytes.Contains(me.body, []byte(`"admin"`)) {
		t.Errorf("me = %d %s", me.status, me.body)
	}
	if again := post(); again.StatusCode != 401 {
		t.Errorf("second use = %d, want 401", again.StatusCode)
	}
	if code, _ := a.auth.Bootstrap(context.Background(), ""); code != "" {
		t.Error("a second start printed another login link")
	}
}

func sessionCookie(res *http.Response) string {
	c := res.Cookies()[0]
	return c.Name + "=" + c.Value
}

func TestStreamAuthAndOrigin(t *testing.T) { storetest.Each(t, testStreamAuthAndOrigin) }

func testStreamAuthAndOrigin(t *testing.T) {
	a := newAPI(t, adminToken)
	base := "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/api/v1/stream"
	if _, res, err := websocket.DefaultDialer.Dial(base, nil); err == nil || res.StatusCode != 401 {
		t.Errorf("no token: %v", err)
	}
	h := http.Header{"Origin": {"https://evil.example"}}
	if _, res, err := websocket.DefaultDialer.Dial(base+"?token="+adminToken, h); err == nil || res.StatusCode != 403 {
		t.Errorf("foreign origin: %v", err)
	}
	h = http.Header{"Origin": {a.srv.URL}}
	c, _, err := websocket.DefaultDialer.Dial(base+"?token="+adminToken, h)
	if err != nil {
		t.Fatalf("same origin: %v", err)
	}
	defer c.Close()
	_, data, err := c.ReadMessage()
	if err != nil || !bytes.Contains(data, []byte("stream.ready")) {
		t.Fatalf("first frame %s %v", data, err)
	}
	a.do("POST", "/api/v1/incidents", adminToken, declaration())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err = c.ReadMessage()
	if err != nil || !bytes.Contains(data, []byte(`"type":"incident.declared"`)) {
		t.Fatalf("live frame %s %v", data, err)
	}
}

func TestHealthAndStatic(t *testing.T) { storetest.Each(t, testHealthAndStatic) }

func testHealthAndStatic(t *testing.T) {
	a := newAPI(t, adminToken)
	if res := a.do("GET", "/healthz", "", nil); res.status != 200 {
		t.Errorf("healthz = %d", res.status)
	}
	if res := a.do("GET", "/readyz", "", nil); res.status != 200 {
		t.Errorf("readyz = %d", res.status)
	}
	res := a.do("GET", "/", "", nil)
	if res.status != 200 || !bytes.Contains(res.body, []byte("OPTIMUM")) || res.header.Get("Content-Security-Policy") == "" {
		t.Errorf("index = %d %q", res.status, res.header.Get("Content-Security-Policy"))
	}
	if res := a.do("POST", "/", "", nil); res.status != 405 {
		t.Errorf("POST / = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/meta", adminToken, nil); res.status != 200 || !bytes.Contains(res.body, []byte("Dirección")) {
		t.Errorf("meta = %d %s", res.status, res.body)
	}
}

// A reporter's stream carries the incidents they declared, and nothing else; a responder's
// carries every incident; only managers see directory events.
func TestStreamShowsEachRoleWhatItMaySee(t *testing.T) {
	storetest.Each(t, testStreamShowsEachRoleWhatItMaySee)
}

func testStreamShowsEachRoleWhatItMaySee(t *testing.T) {
	a := newAPI(t, adminToken)
	reporter, responder, manager := a.token(optimum.RoleReporter), a.token(optimum.RoleResponder), a.token(optimum.RoleManager)
	base := "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/api/v1/stream?since=0&token="
	frames := func(token string) []string {
		c, _, err := websocket.DefaultDialer.Dial(base+token, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var types []string
		for {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, data, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Type     string
				Incident struct{ Title string }
			}
			json.Unmarshal(data, &f)
			if f.Type == "stream.ready" {
				return types
			}
			types = append(types, f.Type+":"+f.Incident.Title)
		}
	}
	mine := declaration()
	mine["title"] = "mine"
	a.do("POST", "/api/v1/incidents", reporter, mine)
	a.do("POST", "/api/v1/incidents", adminToken, declaration())
	a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Ana", "email": "ana@example.com", "language": "es"})
	if got := strings.Join(frames(reporter), ","); got != "incident.declared:mine" {
		t.Errorf("reporter sees %s", got)
	}
	if got := frames(responder); len(got) != 2 {
		t.Errorf("responder sees %v", got)
	}
	var list []struct{ ID, Title string }
	a.do("GET", "/api/v1/incidents", reporter, nil).json(t, &list)
	if len(list) != 1 || list[0].Title != "mine" {
		t.Errorf("reporter lists %+v", list)
	}
	a.do("GET", "/api/v1/incidents", responder, nil).json(t, &list)
	if len(list) != 2 {
		t.Fatalf("responder lists %+v", list)
	}
	other := list[0].ID
	if list[0].Title == "mine" {
		other = list[1].ID
	}
	if res := a.do("GET", "/api/v1/incidents/"+other, reporter, nil); res.status != 404 {
		t.Errorf("reporter reads another's incident: %d", res.status)
	}
	if got := strings.Join(frames(manager), ","); !strings.Contains(got, "person.created") {
		t.Errorf("manager sees %s", got)
	}
}
