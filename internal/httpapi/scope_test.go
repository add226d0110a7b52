package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/canary"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The organisation of the scope table: the manager "mx" runs the technology team and
// the Torre Norte site (Mexico City). Ana is in both, Toño only at Torre Norte (in
// operations): both are theirs. Zoe is in operations in Madrid: not theirs.
const scopeOrg = "name,email,phone,language,teams,manager_email,sites\n" +
	"Ana Técnica,ana@example.com,+525500000101,es,technology,,torre-norte\n" +
	"Toño Operador,tono@example.com,+525500000102,es,operations,,torre-norte\n" +
	"Zoe Madrid,zoe@example.com,+34600000103,es,operations,,madrid\n"

// expectedScope is route × role × scope, written by hand from docs/security.md
// ("Roles") and docs/sites.md, not from the code: a manager limited to their teams and
// sites calling each scoped route on their resources ("X") and on others' ("Z"); an
// unscoped manager on the same ("Z" still allowed); a lanzador declaring. Statuses:
// people, drills and drill runs beyond the scope do not exist for the caller (404);
// placing someone or something beyond it, changing another team or site, importing a
// file, and changing a ladder that pages beyond it are 403 (ladders are readable by
// every responder, so hiding them would be pointless).
var expectedScope = []struct {
	who, method, path, body string
	want                    int
}{
	// The directory.
	{"mx", "GET", "/api/v1/people/{ana}", "", 200},
	{"mx", "GET", "/api/v1/people/{tono}", "", 200},
	{"mx", "GET", "/api/v1/people/{zoe}", "", 404},
	{"all", "GET", "/api/v1/people/{zoe}", "", 200},
	{"mx", "PUT", "/api/v1/people/{ana}", `{"name":"Ana Técnica","email":"ana@example.com","language":"es","teams":[{"team":"technology"}],"sites":["torre-norte"]}`, 200},
	{"mx", "PUT", "/api/v1/people/{zoe}", `{"name":"Zoe Madrid","email":"zoe@example.com","language":"es","teams":[{"team":"operations"}]}`, 404},
	{"mx", "PUT", "/api/v1/people/{ana}", `{"name":"Ana Técnica","email":"ana@example.com","language":"es","teams":[{"team":"operations"}],"sites":["madrid"]}`, 403},
	{"mx", "POST", "/api/v1/people", `{"name":"Nuevo TI","email":"nuevo@example.com","language":"es","teams":[{"team":"technology"}]}`, 201},
	{"mx", "POST", "/api/v1/people", `{"name":"Nueva Madrid","email":"nueva@example.com","language":"es","teams":[{"team":"operations"}],"sites":["madrid"]}`, 403},
	{"mx", "POST", "/api/v1/people/{zoe}/deactivate", "", 404},
	{"mx", "POST", "/api/v1/people/{tono}/deactivate", "", 200},
	{"mx", "POST", "/api/v1/people/{tono}/activate", "", 200},
	{"mx", "POST", "/api/v1/people/import", "csv", 403},
	{"all", "POST", "/api/v1/people/import", "csv", 200},
	{"mx", "PUT", "/api/v1/teams/technology", `{"name_es":"Tecnología","name_en":"Technology"}`, 200},
	{"mx", "PUT", "/api/v1/teams/operations", `{"name_es":"Operaciones","name_en":"Operations"}`, 403},
	{"mx", "PUT", "/api/v1/sites/torre-norte", `{"name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`, 200},
	{"mx", "PUT", "/api/v1/sites/madrid", `{"name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`, 403},
	{"mx", "POST", "/api/v1/sites", `{"name":"Torre Sur","city":"CDMX","time_zone":"America/Mexico_City"}`, 403},
	{"mx", "GET", "/api/v1/readiness", "", 200},
	// Drills, their runs and reports.
	{"mx", "GET", "/api/v1/drills/{drill-x}", "", 200},
	{"mx", "GET", "/api/v1/drills/{drill-z}", "", 404},
	{"all", "GET", "/api/v1/drills/{drill-z}", "", 200},
	{"mx", "PUT", "/api/v1/drills/{drill-z}", `{"name":"Evacuación Madrid","scenario":{"title":"Evacuación"},"teams":["operations"],"window":"30m"}`, 404},
	{"mx", "POST", "/api/v1/drills", `{"name":"Evacuación Torre Norte","scenario":{"title":"Evacuación"},"sites":["Torre Norte"],"window":"30m"}`, 201},
	{"mx", "POST", "/api/v1/drills", `{"name":"Evacuación CDMX y Madrid","scenario":{"title":"Evacuación"},"sites":["torre-norte","madrid"],"window":"30m"}`, 403},
	{"mx", "GET", "/api/v1/drills/{drill-z}/runs", "", 404},
	{"mx", "POST", "/api/v1/drills/{drill-z}/runs", "", 404},
	{"mx", "GET", "/api/v1/drill-runs/{run-z}/report", "", 404},
	{"mx", "GET", "/api/v1/drill-runs/{run-z}", "", 404},
	{"all", "GET", "/api/v1/drill-runs/{run-z}/report", "", 200},
	{"mx", "POST", "/api/v1/drill-runs/{run-z}/cancel", "", 404},
	{"mx", "DELETE", "/api/v1/drills/{drill-z}", "", 404},
	{"mx", "GET", "/api/v1/drill-runs/{run-z}/report.csv", "", 404},
	{"all", "GET", "/api/v1/drill-runs/{run-z}/report.csv", "", 200},
	{"mx", "GET", "/api/v1/drills/{drill-x}/runs", "", 200},
	{"mx", "GET", "/api/v1/drill-runs/{run-x}", "", 200},
	{"mx", "GET", "/api/v1/drill-runs/{run-x}/report", "", 200},
	{"mx", "GET", "/api/v1/drill-runs/{run-x}/report.csv", "", 200},
	// The canary (its audience here: the operations team, not theirs) is the
	// organisation's: 403 to read and to run for them, as for a ladder beyond them.
	{"mx", "GET", "/api/v1/canary", "", 403},
	{"mx", "POST", "/api/v1/canary/run", "", 403},
	{"all", "GET", "/api/v1/canary", "", 200},
	{"all", "POST", "/api/v1/canary/run", "", 202},
	// Ladders.
	{"mx", "PUT", "/api/v1/ladders/ladder-x", ladderBody("ladder-x", `{"team":"technology"}`), 200},
	{"mx", "PUT", "/api/v1/ladders/ladder-x", ladderBody("ladder-x", `{"team":"operations","site":"torre-norte"}`), 200},
	{"mx", "PUT", "/api/v1/ladders/ladder-x", ladderBody("ladder-x", `{"site":"madrid"}`), 403},
	{"mx", "PUT", "/api/v1/ladders/ladder-z", ladderBody("ladder-z", `{"team":"technology"}`), 403},
	{"mx", "DELETE", "/api/v1/ladders/ladder-z", "", 403},
	{"mx", "POST", "/api/v1/ladders", ladderBody("ladder-new", `{"person":"zoe@example.com"}`), 403},
	{"mx", "POST", "/api/v1/ladders", ladderBody("ladder-new", `{"person":"ana@example.com"}`), 201},
	// The lanzador: only from an approved template, adding only location, sites and drill.
	{"lanzador", "POST", "/api/v1/incidents", `{"template":"fire","location":"Recepción, piso 1","sites":["Torre Norte"]}`, 201},
	{"lanzador", "POST", "/api/v1/incidents", `{"template":"fire","title":"Otra cosa"}`, 403},
	{"lanzador", "POST", "/api/v1/incidents", `{"template":"fire","teams":["directors"]}`, 403},
	{"lanzador", "POST", "/api/v1/incidents", `{"title":"Incendio","impact":"high","urgency":"high"}`, 403},
	{"lanzador", "POST", "/api/v1/incidents", `{"template":"no-such-template"}`, 422},
	{"lanzador", "GET", "/api/v1/templates", "", 200},
	{"lanzador", "GET", "/api/v1/people", "", 403},
	{"lanzador", "POST", "/api/v1/drills", `{}`, 403},
	// Everybody else may still declare from a template and change what they like.
	{"all", "POST", "/api/v1/incidents", `{"template":"earthquake","title":"Sismo 7.1","sites":["CDMX"]}`, 201},
	// Indicators: a scoped manager reads them, limited to their teams and sites (the
	// figures are pinned by expectedScopedIndicators in indicators_sites_test.go); a
	// filter beyond the scope narrows to nothing rather than widening it. The lanzador,
	// a reporter, reads none.
	{"mx", "GET", "/api/v1/indicators", "", 200},
	{"mx", "GET", "/api/v1/indicators?site=madrid", "", 200},
	{"mx", "GET", "/api/v1/indicators/by_site.csv", "", 200},
	{"mx", "GET", "/api/v1/indicators/by_team.csv?team=operations", "", 200},
	{"all", "GET", "/api/v1/indicators?site=madrid", "", 200},
	{"lanzador", "GET", "/api/v1/indicators", "", 403},
	{"lanzador", "GET", "/api/v1/indicators/by_site.csv", "", 403},
}

func ladderBody(id, target string) string {
	return `{"id":"` + id + `","name":{"es":"Escalera","en":"Ladder"},"steps":[{"targets":[` + target + `],` +
		`"reminders":[{"after":"0s","channels":["sms"]}],"wait":"5m"}]}`
}

func TestScopedRolesTable(t *testing.T) { storetest.Each(t, testScopedRolesTable) }

func testScopedRolesTable(t *testing.T) {
	a := newAPI(t, adminToken)
	a.api.Ladders = escalation.NewLadders(a.db.Escalation(), nil)
	for _, st := range []string{
		`{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`,
		`{"id":"madrid","name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`,
	} {
		if res := a.do("POST", "/api/v1/sites", adminToken, st); res.status != 200 {
			t.Fatalf("site: %d %s", res.status, res.body)
		}
	}
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(scopeOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	var created struct {
		Token string `json:"token"`
	}
	res := a.do("POST", "/api/v1/tokens", adminToken, map[string]any{"name": "Gerente CDMX", "role": "manager",
		"scope": map[string]any{"teams": []string{"technology"}, "sites": []string{"torre-norte"}}})
	if res.status != 201 {
		t.Fatalf("scoped token: %d %s", res.status, res.body)
	}
	res.json(t, &created)
	tokens := map[string]string{"mx": created.Token, "all": a.token(optimum.RoleManager), "lanzador": a.token(optimum.RoleLauncher)}

	ids := map[string]string{}
	for _, email := range []string{"ana", "tono", "zoe"} {
		var p struct{ ID string }
		a.do("GET", "/api/v1/people/"+email+"@example.com", adminToken, nil).json(t, &p)
		ids[email] = p.ID
	}
	for key, teams := range map[string]string{"drill-x": "technology", "drill-z": "operations"} {
		var p struct{ ID string }
		res := a.do("POST", "/api/v1/drills", adminToken, `{"name":"`+key+`","scenario":{"title":"Simulacro"},"teams":["`+teams+`"],"window":"30m"}`)
		if res.status != 201 {
			t.Fatalf("drill %s: %d %s", key, res.status, res.body)
		}
		res.json(t, &p)
		ids[key] = p.ID
	}
	for _, key := range []string{"x", "z"} {
		var run struct{ ID string }
		if res := a.do("POST", "/api/v1/drills/"+ids["drill-"+key]+"/runs", adminToken, nil); res.status != 201 {
			t.Fatalf("run: %d %s", res.status, res.body)
		} else {
			res.json(t, &run)
		}
		ids["run-"+key] = run.ID
	}
	canaryRuns := 0
	a.api.Canary = &httpapi.Canary{Team: "operations", Schedule: "0 0 * * * *", Channels: []string{"sms"},
		Runs:    func(context.Context, int) ([]canary.Run, error) { return []canary.Run{}, nil },
		Trigger: func() bool { canaryRuns++; return true }}
	for _, id := range []string{"ladder-x", "ladder-z"} {
		target := `{"team":"technology"}`
		if id == "ladder-z" {
			target = `{"team":"operations"}`
		}
		if res := a.do("POST", "/api/v1/ladders", adminToken, ladderBody(id, target)); res.status != 201 {
			t.Fatalf("ladder %s: %d %s", id, res.status, res.body)
		}
	}

	for _, c := range expectedScope {
		path := c.path
		for k, v := range ids {
			path = strings.ReplaceAll(path, "{"+k+"}", v)
		}
		var res response
		if c.body == "csv" {
			res = a.upload(path, tokens[c.who], "text/csv", []byte("name,email,phone,language,teams,manager_email\nLuis,luis@example.com,,es,technology,\n"))
		} else if c.body == "" {
			res = a.do(c.method, path, tokens[c.who], nil)
		} else {
			res = a.do(c.method, path, tokens[c.who], c.body)
		}
		if res.status != c.want {
			t.Errorf("%s %s %s as %s: got %d, want %d: %s", c.method, c.path, c.body, c.who, res.status, c.want, res.body)
		}
	}

	// What the scoped manager lists: their people only (Luis, imported by the other
	// manager into technology, is theirs too), and the readiness of their people.
	var people []struct{ Email string }
	a.do("GET", "/api/v1/people", tokens["mx"], nil).json(t, &people)
	var emails []string
	for _, p := range people {
		emails = append(emails, p.Email)
	}
	if got, want := strings.Join(emails, " "), "ana@example.com luis@example.com nuevo@example.com tono@example.com"; got != want {
		t.Errorf("the scoped manager lists %q, want %q", got, want)
	}
	var rd struct {
		Overall struct{ People int }
		Teams   []struct{ Team string }
		Sites   []struct{ Site string }
	}
	a.do("GET", "/api/v1/readiness", tokens["mx"], nil).json(t, &rd)
	if rd.Overall.People != 4 || len(rd.Teams) != 1 || rd.Teams[0].Team != "technology" || len(rd.Sites) != 1 || rd.Sites[0].Site != "torre-norte" {
		t.Errorf("scoped readiness: %+v", rd)
	}
	var drills []struct{ ID string }
	a.do("GET", "/api/v1/drills", tokens["mx"], nil).json(t, &drills)
	for _, d := range drills {
		if d.ID == ids["drill-z"] {
			t.Errorf("the scoped manager lists the Madrid drill")
		}
	}
	// They list their drill's run, not Madrid's; its report names only their people.
	var runs []struct{ ID string }
	a.do("GET", "/api/v1/drill-runs", tokens["mx"], nil).json(t, &runs)
	if len(runs) != 1 || runs[0].ID != ids["run-x"] {
		t.Errorf("the scoped manager lists the runs %+v, want only %s", runs, ids["run-x"])
	}
	var mine struct{ People []struct{ Name string } }
	a.do("GET", "/api/v1/drill-runs/"+ids["run-x"]+"/report", tokens["mx"], nil).json(t, &mine)
	if len(mine.People) != 1 || mine.People[0].Name != "Ana Técnica" {
		t.Errorf("the technology drill's people: %+v, want Ana only", mine.People)
	}
	// Only the unscoped manager's request ran the canary; a canary for a person of
	// theirs is theirs to read and run.
	if canaryRuns != 1 {
		t.Errorf("canary runs triggered: %d, want 1", canaryRuns)
	}
	a.api.Canary.Team, a.api.Canary.Person = "", "ana@example.com"
	if res := a.do("GET", "/api/v1/canary", tokens["mx"], nil); res.status != 200 {
		t.Errorf("a canary to Ana, as her manager: %d %s", res.status, res.body)
	}
	a.api.Canary.Person = "zoe@example.com"
	if res := a.do("POST", "/api/v1/canary/run", tokens["mx"], nil); res.status != 403 || canaryRuns != 1 {
		t.Errorf("a canary to Zoe, as a manager of Mexico City: %d %s (runs %d)", res.status, res.body, canaryRuns)
	}
	// The Madrid drill's report has its figures per site (docs/sites.md).
	var rep struct {
		Sites []struct {
			Key      string
			Targeted int
		}
	}
	a.do("GET", "/api/v1/drill-runs/"+ids["run-z"]+"/report", tokens["all"], nil).json(t, &rep)
	if len(rep.Sites) != 2 || rep.Sites[0].Key != "madrid" || rep.Sites[0].Targeted != 1 || rep.Sites[1].Key != "torre-norte" || rep.Sites[1].Targeted != 1 {
		t.Errorf("the operations drill's sites: %+v (want Zoe at madrid, Toño at torre-norte)", rep.Sites)
	}
	// The lanzador's incident is the template's, at the site.
	var incs []struct {
		Title    string
		Sites    []string
		Location string
	}
	a.do("GET", "/api/v1/incidents", tokens["lanzador"], nil).json(t, &incs)
	if len(incs) != 1 || incs[0].Location != "Recepción, piso 1" || len(incs[0].Sites) != 1 || !strings.Contains(strings.ToLower(incs[0].Title), "incendio") {
		t.Errorf("the lanzador's incidents: %+v", incs)
	}
}

// A user's scope is set by an admin (PATCH /api/v1/users/{id}) and applies from the
// user's next request, like a new role: the same manager sees Madrid's Zoe before and
// not after; {} lifts it; a malformed scope is 422 and changes nothing.
func TestUserScopeAppliesOnTheNextRequest(t *testing.T) {
	storetest.Each(t, testUserScopeAppliesOnTheNextRequest)
}

func testUserScopeAppliesOnTheNextRequest(t *testing.T) {
	a := newTestAPIGenerous(t)
	if res := a.do("POST", "/api/v1/sites", adminToken, `{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`); res.status != 200 {
		t.Fatalf("site: %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/sites", adminToken, `{"id":"madrid","name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`); res.status != 200 {
		t.Fatalf("site: %d %s", res.status, res.body)
	}
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(scopeOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	id := a.createUser("gerente@example.com", optimum.RoleManager)
	cookie := a.session("gerente@example.com", password)
	get := func() int { return a.do("GET", "/api/v1/people/zoe@example.com", "", nil, "Cookie", cookie).status }
	if got := get(); got != 200 {
		t.Fatalf("unscoped: %d", got)
	}
	if res := a.do("PATCH", "/api/v1/users/"+id, adminToken, `{"scope":{"teams":["Not An Id"]}}`); res.status != 422 || !strings.Contains(string(res.body), "scope.teams[0]") {
		t.Errorf("bad scope: %d %s", res.status, res.body)
	}
	if got := get(); got != 200 {
		t.Errorf("a refused scope limited the user: %d", got)
	}
	res := a.do("PATCH", "/api/v1/users/"+id, adminToken, `{"scope":{"sites":["torre-norte"]}}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"scope":{"sites":["torre-norte"]}`) {
		t.Fatalf("scope: %d %s", res.status, res.body)
	}
	if got := get(); got != 404 {
		t.Errorf("scoped to Torre Norte, Zoe of Madrid: %d, want 404", got)
	}
	if got := a.do("GET", "/api/v1/people/tono@example.com", "", nil, "Cookie", cookie).status; got != 200 {
		t.Errorf("scoped to Torre Norte, Toño of Torre Norte: %d, want 200", got)
	}
	if res := a.do("PATCH", "/api/v1/users/"+id, adminToken, `{"scope":{}}`); res.status != 200 || strings.Contains(string(res.body), `"scope"`) {
		t.Errorf("lifting the scope: %d %s", res.status, res.body)
	}
	if got := get(); got != 200 {
		t.Errorf("scope lifted: %d, want 200", got)
	}
}

func newTestAPIGenerous(t *testing.T) *api {
	t.Helper()
	a, _ := newTestAPI(t, adminToken, generous)
	return a
}
