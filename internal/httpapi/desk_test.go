package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

type problemBody struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (a *api) timelineLen(id string) int {
	a.t.Helper()
	var view struct {
		Timeline []any `json:"timeline"`
	}
	a.do("GET", "/api/v1/incidents/"+id, adminToken, nil).json(a.t, &view)
	return len(view.Timeline)
}

func TestIllegalTransitionIs409NamingTheAllowedMoves(t *testing.T) {
	storetest.Each(t, testIllegalTransitionIs409NamingTheAllowedMoves)
}

func testIllegalTransitionIs409NamingTheAllowedMoves(t *testing.T) {
	a := newAPI(t, adminToken)
	resp := a.token(optimum.RoleResponder)
	var inc incident.Incident
	a.do("POST", "/api/v1/incidents", resp, declaration()).json(t, &inc)
	before := a.timelineLen(inc.ID)

	res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", resp, map[string]string{"to": "verified"}, "Accept-Language", "en")
	var p problemBody
	res.json(t, &p)
	if res.status != 409 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") ||
		!strings.Contains(p.Detail, "acknowledged, investigating, cancelled") {
		t.Fatalf("declared → verified = %d %s %+v; want 409 naming the allowed moves", res.status, res.header.Get("Content-Type"), p)
	}
	res = a.do("POST", "/api/v1/incidents/"+inc.Folio+"/transitions", resp, map[string]string{"to": "closed", "note": "x"})
	res.json(t, &p)
	if res.status != 403 {
		t.Errorf("responder closing = %d %s, want 403 (managers only)", res.status, p.Detail)
	}
	res = a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", resp, map[string]string{"to": "investigating", "note": "revisando UPS"})
	if res.status != 200 {
		t.Fatalf("declared → investigating = %d %s", res.status, res.body)
	}
	res = a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", resp, map[string]string{"to": "declared"}, "Accept-Language", "es-MX")
	res.json(t, &p)
	if res.status != 409 || !strings.Contains(p.Detail, "resolved (resuelta)") || !strings.HasPrefix(p.Detail, "La crisis") {
		t.Errorf("investigating → declared in Spanish = %d %q", res.status, p.Detail)
	}
	if got := a.timelineLen(inc.ID); got != before+1 {
		t.Errorf("timeline has %d events, want %d: refused moves must change nothing", got, before+1)
	}
}

func TestReclassificationWithoutNoteIsRefusedAndChangesNothing(t *testing.T) {
	storetest.Each(t, testReclassificationWithoutNoteIsRefusedAndChangesNothing)
}

func testReclassificationWithoutNoteIsRefusedAndChangesNothing(t *testing.T) {
	a := newAPI(t, adminToken)
	resp := a.token(optimum.RoleResponder)
	var inc incident.Incident
	a.do("POST", "/api/v1/incidents", resp, declaration()).json(t, &inc)
	before := a.timelineLen(inc.ID)
	res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/classification", resp, map[string]string{"impact": "low", "urgency": "low"})
	var p problemBody
	res.json(t, &p)
	if res.status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "note" {
		t.Fatalf("without note = %d %+v", res.status, p)
	}
	var got incident.Incident
	a.do("GET", "/api/v1/incidents/"+inc.ID, resp, nil).json(t, &got)
	if got.Priority != inc.Priority || a.timelineLen(inc.ID) != before {
		t.Errorf("refused reclassification changed the incident: %s", got.Priority)
	}
	res = a.do("POST", "/api/v1/incidents/"+inc.ID+"/classification", resp, map[string]string{"impact": "low", "urgency": "low", "note": "solo una sala"})
	res.json(t, &got)
	if res.status != 200 || got.Priority == inc.Priority {
		t.Errorf("with note = %d, priority %s", res.status, got.Priority)
	}
}

// The requester's loop end to end over HTTP: told the folio, asked for information,
// answers, gets the solution with a link, rejects (reopens), gets a new link, accepts
// (closes); links are single use and expire.
func TestConformityLoopEndToEnd(t *testing.T) { storetest.Each(t, testConformityLoopEndToEnd) }

func testConformityLoopEndToEnd(t *testing.T) {
	a, clk := newTestAPI(t, adminToken, nil)
	// The desk on the test's clock, so links expire when the test says.
	a.api.Incidents = incident.NewService(a.db.Incidents(), a.api.Config.IncidentPolicy(), a.api.Directory, clk.Now)
	a.api.Desk = incident.NewDesk(a.api.Incidents, a.db.Desk(), incident.DeskOptions{PublicURL: "http://bcp.test", ConformityTTL: time.Hour})
	reporter := a.token(optimum.RoleReporter)
	resp := a.token(optimum.RoleResponder)
	var inc incident.Incident
	if res := a.do("POST", "/api/v1/incidents", reporter, declaration()); res.status != 201 {
		t.Fatalf("declare = %d %s", res.status, res.body)
	} else {
		res.json(t, &inc)
	}
	messages := func() []incident.Message {
		t.Helper()
		var ms []incident.Message
		res := a.do("GET", "/api/v1/incidents/"+inc.ID+"/messages", reporter, nil)
		if res.status != 200 {
			t.Fatalf("messages = %d %s", res.status, res.body)
		}
		res.json(t, &ms)
		return ms
	}
	if ms := messages(); len(ms) != 1 || ms[0].Kind != "folio" || !strings.Contains(ms[0].Text, inc.Folio) {
		t.Fatalf("after declaring: %+v, want the folio", ms)
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/questions", resp, map[string]string{"question": "¿Qué piso?"}); res.status != 201 {
		t.Fatalf("ask = %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/answers", reporter, map[string]string{"answer": "Piso 3, sala B"}); res.status != 201 {
		t.Fatalf("answer = %d %s", res.status, res.body)
	}
	var view struct {
		Timeline []optimum.Event `json:"timeline"`
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, resp, nil).json(t, &view)
	if !hasEvent(view.Timeline, incident.EventInfoProvided, "Piso 3, sala B") {
		t.Errorf("the answer is not on the timeline")
	}
	move := func(to, note string) {
		t.Helper()
		if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", resp, map[string]string{"to": to, "note": note}); res.status != 200 {
			t.Fatalf("→ %s = %d %s", to, res.status, res.body)
		}
	}
	move("investigating", "")
	move("resolved", "Se reinició el UPS")
	link := lastLink(t, a, inc.ID, reporter, resp)
	if res := a.do("GET", link, "", nil); res.status != 200 || !strings.Contains(string(res.body), "Se reinició el UPS") {
		t.Fatalf("GET link = %d %s", res.status, res.body)
	}
	// A rejection needs a comment; without it nothing changes and the link still works.
	if res := a.do("POST", link, "", map[string]string{"decision": "reject"}); res.status != 422 {
		t.Fatalf("reject without comment = %d %s", res.status, res.body)
	}
	res := a.formPost(link, url.Values{"decision": {"reject"}, "comment": {"Sigue sin luz en el piso 3"}})
	if res.status != 200 || !strings.Contains(string(res.body), "Reabrimos") {
		t.Fatalf("reject = %d %s", res.status, res.body)
	}
	var got incident.Incident
	a.do("GET", "/api/v1/incidents/"+inc.ID, resp, nil).json(t, &got)
	if got.Status != incident.StatusReopened || got.Conformity != "" {
		t.Fatalf("after rejection: %s", got.Status)
	}
	before := a.timelineLen(inc.ID)
	if res := a.do("POST", link, "", map[string]string{"decision": "accept"}, "Accept-Language", "en"); res.status != 409 || !strings.Contains(string(res.body), "already used") {
		t.Errorf("reused link = %d %s, want 409", res.status, res.body)
	}
	if a.timelineLen(inc.ID) != before {
		t.Error("a reused link changed the timeline")
	}

	move("resolved", "Se cambió el breaker del piso 3")
	link2 := lastLink(t, a, inc.ID, reporter, resp)
	if link2 == link {
		t.Fatal("the second resolution reused the first link")
	}
	// Each send (SMS, push, the app) gets a link of its own; all work until one is used.
	sibling := lastLink(t, a, inc.ID, reporter, resp)
	if sibling == link2 {
		t.Fatal("two sends got the same link")
	}
	if res := a.do("GET", sibling, "", nil); res.status != 200 {
		t.Fatalf("the second link of the request = %d %s", res.status, res.body)
	}
	res = a.do("POST", link2, "", map[string]string{"decision": "accept", "comment": "Todo bien"}, "Accept", "application/json")
	res.json(t, &got)
	if res.status != 200 || got.Status != incident.StatusClosed || got.Conformity != incident.ConformityAccepted {
		t.Fatalf("accept = %d %s %s", res.status, got.Status, got.Conformity)
	}
	if res := a.do("POST", sibling, "", map[string]string{"decision": "reject", "comment": "no"}, "Accept-Language", "en"); res.status != 409 || !strings.Contains(string(res.body), "already used") {
		t.Errorf("the other link of an answered request = %d %s, want 409", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/conformity-link", reporter, nil); res.status != 409 {
		t.Errorf("a link for a closed incident = %d %s, want 409", res.status, res.body)
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, resp, nil).json(t, &view)
	if !hasEvent(view.Timeline, incident.EventTransitioned, `"to":"verified"`) || !hasEvent(view.Timeline, incident.EventTransitioned, `"to":"closed"`) {
		t.Error("acceptance did not go through verified to closed on the timeline")
	}

	// An expired link: a new incident, resolved, the clock moved past the link's life.
	var inc2 incident.Incident
	a.do("POST", "/api/v1/incidents", reporter, declaration()).json(t, &inc2)
	inc = inc2
	move("investigating", "")
	move("resolved", "Listo")
	link3 := lastLink(t, a, inc.ID, reporter, resp)
	move("reopened", "otra vez")
	move("resolved", "Ahora sí")
	link4 := lastLink(t, a, inc.ID, reporter, resp)
	clk.Advance(time.Hour)
	before = a.timelineLen(inc.ID)
	if res := a.do("POST", link4, "", map[string]string{"decision": "accept"}, "Accept-Language", "en"); res.status != 409 || !strings.Contains(string(res.body), "expired") {
		t.Errorf("expired link = %d %s, want 409 expired", res.status, res.body)
	}
	if res := a.do("GET", link3, "", nil); res.status != 409 {
		t.Errorf("superseded link = %d, want 409", res.status)
	}
	if res := a.do("GET", "/c/not-a-real-token", "", nil); res.status != 404 {
		t.Errorf("unknown link = %d, want 404", res.status)
	}
	// A person tapping the link of a closed incident in a browser reads that it is
	// closed, in Spanish, on a page.
	if res := a.do("GET", link, "", nil, "Accept", "text/html"); res.status != 409 || !strings.Contains(string(res.body), "Esta crisis ya se cerró") {
		t.Errorf("used link in a browser = %d %s", res.status, res.body)
	}
	if a.timelineLen(inc.ID) != before {
		t.Error("an expired link changed the timeline")
	}
}

// lastLink is what the requester's "Dar mi conformidad" button does: the newest
// conformity message is answerable for them and holds no link (none is stored), so they
// ask for a link of their own. Nobody else gets one, and nobody reads one in a message.
func lastLink(t *testing.T, a *api, incID, requester, other string) string {
	t.Helper()
	var ms []struct {
		incident.Message
		Answerable bool `json:"answerable"`
	}
	a.do("GET", "/api/v1/incidents/"+incID+"/messages", requester, nil).json(t, &ms)
	last := -1
	for i, m := range ms {
		if strings.Contains(m.Text, "/c/") || m.URL != "" {
			t.Errorf("a message shows a conformity link: %+v", m)
		}
		if m.Kind == incident.MessageConformity {
			last = i
		}
	}
	if last < 0 || !ms[last].Answerable || !strings.Contains(ms[last].Text, "[enlace]") {
		t.Fatalf("no answerable conformity request in %+v", ms)
	}
	var seen []struct {
		incident.Message
		Answerable bool `json:"answerable"`
	}
	a.do("GET", "/api/v1/incidents/"+incID+"/messages", other, nil).json(t, &seen)
	for _, m := range seen {
		if m.Answerable || m.URL != "" || strings.Contains(m.Text, "/c/") {
			t.Errorf("a responder sees the requester's link or button: %+v", m)
		}
	}
	if res := a.do("POST", "/api/v1/incidents/"+incID+"/conformity-link", other, nil); res.status != 403 {
		t.Errorf("a responder asked for the requester's link: %d %s, want 403", res.status, res.body)
	}
	res := a.do("POST", "/api/v1/incidents/"+incID+"/conformity-link", requester, nil)
	var got struct{ URL string }
	res.json(t, &got)
	u, err := url.Parse(got.URL)
	if res.status != 201 || err != nil || !strings.HasPrefix(u.Path, "/c/") || len(u.Path) != len("/c/")+32 || strings.Contains(u.Path, "{") {
		t.Fatalf("conformity link = %d %s", res.status, res.body)
	}
	return u.Path
}

func hasEvent(ev []optimum.Event, typ, contains string) bool {
	for _, e := range ev {
		if e.Type == typ && strings.Contains(string(e.Data), contains) {
			return true
		}
	}
	return false
}

func (a *api) formPost(path string, form url.Values) response {
	a.t.Helper()
	return a.do("POST", path, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
}

func TestSearchBadInputIsAClear4xx(t *testing.T) { storetest.Each(t, testSearchBadInputIsAClear4xx) }

func testSearchBadInputIsAClear4xx(t *testing.T) {
	a := newAPI(t, adminToken)
	resp := a.token(optimum.RoleResponder)
	for name, q := range map[string]string{
		"10,000 characters": strings.Repeat("inundación ", 1000)[:10000],
		"punctuation only":  "¡¿?!.,;:-()[]{}«»\"'",
		"stop words only":   "de la the of",
	} {
		res := a.do("GET", "/api/v1/incidents/similar?q="+url.QueryEscape(q), resp, nil)
		var p problemBody
		res.json(t, &p)
		if res.status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "q" {
			t.Errorf("%s: %d %+v, want 422 on q", name, res.status, p)
		}
	}
	if res := a.do("GET", "/api/v1/incidents/similar?q=agua&limit=0", resp, nil); res.status != 422 {
		t.Errorf("limit=0: %d", res.status)
	}
	if res := a.do("GET", "/api/v1/incidents/similar?q=agua&color=red", resp, nil); res.status != 422 {
		t.Errorf("unknown parameter: %d", res.status)
	}
}

func TestUpdatesTemplatesAndReportOverHTTP(t *testing.T) {
	storetest.Each(t, testUpdatesTemplatesAndReportOverHTTP)
}

func testUpdatesTemplatesAndReportOverHTTP(t *testing.T) {
	a := newAPI(t, adminToken)
	resp, mgr := a.token(optimum.RoleResponder), a.token(optimum.RoleManager)
	var inc incident.Incident
	a.do("POST", "/api/v1/incidents", resp, declaration()).json(t, &inc)
	next := time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)
	res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/updates", resp, map[string]any{"known": "El UPS aguanta 20 min", "doing": "Arrancando planta", "next_update_at": next})
	var got incident.Incident
	res.json(t, &got)
	if res.status != 201 || got.NextUpdateAt == nil || got.Updates != 1 {
		t.Fatalf("update = %d %s", res.status, res.body)
	}
	var view struct {
		Timeline []optimum.Event `json:"timeline"`
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, resp, nil).json(t, &view)
	if !hasEvent(view.Timeline, incident.EventUpdatePosted, "El UPS aguanta 20 min") {
		t.Error("the update is not in the event log (the live boards' stream)")
	}
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/updates", resp, map[string]any{"known": "x", "next_update_at": past}); res.status != 422 {
		t.Errorf("next update in the past = %d", res.status)
	}

	var ts []incident.Template
	a.do("GET", "/api/v1/templates", resp, nil).json(t, &ts)
	if len(ts) < 7 || ts[0].Texts["es"].Title == "" || ts[0].Texts["en"].Title == "" {
		t.Fatalf("templates = %d", len(ts))
	}
	fire := ts[5]
	fire.Texts["es"] = incident.TemplateText{Name: "Incendio", Title: "Incendio en planta ", Description: "Humo", Message: "Evacúa"}
	if res := a.do("PUT", "/api/v1/templates/fire", resp, fire); res.status != 403 {
		t.Errorf("responder editing = %d, want 403", res.status)
	}
	if res := a.do("PUT", "/api/v1/templates/fire", mgr, fire); res.status != 200 {
		t.Fatalf("manager editing = %d %s", res.status, res.body)
	}
	var one incident.Template
	a.do("GET", "/api/v1/templates/fire", resp, nil).json(t, &one)
	if one.Texts["es"].Title != "Incendio en planta " || one.BuiltIn {
		t.Errorf("edited template = %+v", one)
	}
	delete(fire.Texts, "en")
	if res := a.do("PUT", "/api/v1/templates/fire", mgr, fire); res.status != 422 {
		t.Errorf("without English = %d, want 422", res.status)
	}

	var rep incident.Report
	if res := a.do("GET", "/api/v1/incidents/"+inc.ID+"/report", resp, nil); res.status != 200 {
		t.Fatalf("report = %d %s", res.status, res.body)
	} else {
		res.json(t, &rep)
	}
	if rep.Updates != 1 || rep.Timeline[0].Kind != "declared" || rep.TimeToAcknowledge.TargetSeconds != 300 {
		t.Errorf("report = %+v", rep)
	}
	md := a.do("GET", "/api/v1/incidents/"+inc.ID+"/report.md", resp, nil)
	if md.status != 200 || !strings.HasPrefix(md.header.Get("Content-Type"), "text/markdown") || !strings.Contains(string(md.body), "# Informe posterior a la crisis: "+inc.Folio) {
		t.Errorf("markdown = %d %s", md.status, md.body)
	}
	page := a.do("GET", "/api/v1/incidents/"+inc.ID+"/report.html", resp, nil, "Accept-Language", "en")
	if page.status != 200 || !strings.Contains(string(page.body), "Post-incident report") {
		t.Errorf("page = %d", page.status)
	}
}
