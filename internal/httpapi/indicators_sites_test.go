package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The organisation of the indicators by site: the scope table's people (scopeOrg: Ana
// in technology at Torre Norte, Toño in operations at Torre Norte, Zoe in operations in
// Madrid) and three sites, two of them in CDMX. Five real incidents:
//
//	I1 to the site "Torre Norte" (by name): Ana and Toño; Ana acknowledges.
//	I2 to the site madrid: Zoe.
//	I3 to the city "CDMX": everyone at Torre Norte and Torre Sur: Ana and Toño.
//	I4 to the team operations: Toño and Zoe.
//	I5 to the team technology: Ana.
//
// and one drill to madrid that no figure may count.
type siteFigures struct {
	site                                   string
	incidents, recipients, acknowledged, n int // n: incidents with a time to acknowledge
}

// expectedScopedIndicators is viewer × filter → figures, written by hand from
// docs/sites.md ("Indicators by site") and docs/security.md ("Roles"): an incident to a
// city is at each site of it; a viewer limited to teams and sites counts only the
// incidents declared to them, and sees only their rows; a filter narrows within the
// scope, never beyond it.
var expectedScopedIndicators = []struct {
	who, query string
	declared   int
	bySite     []siteFigures
	byTeam     []string // team:incidents
}{
	{"admin", "", 5, []siteFigures{{"madrid", 1, 1, 0, 0}, {"torre-norte", 2, 4, 1, 1}, {"torre-sur", 1, 2, 0, 0}}, []string{"operations:1", "technology:1"}},
	{"admin", "site=torre-sur", 1, []siteFigures{{"torre-norte", 1, 2, 0, 0}, {"torre-sur", 1, 2, 0, 0}}, nil},
	{"admin", "site=CDMX", 2, []siteFigures{{"torre-norte", 2, 4, 1, 1}, {"torre-sur", 1, 2, 0, 0}}, nil},
	{"admin", "site=Torre%20Norte", 2, []siteFigures{{"torre-norte", 2, 4, 1, 1}, {"torre-sur", 1, 2, 0, 0}}, nil},
	{"admin", "site=madrid", 1, []siteFigures{{"madrid", 1, 1, 0, 0}}, nil},
	{"admin", "team=operations", 1, nil, []string{"operations:1"}},
	// Limited to technology and Torre Norte: I1, I3 and I5.
	{"mx", "", 3, []siteFigures{{"torre-norte", 2, 4, 1, 1}}, []string{"technology:1"}},
	{"mx", "site=CDMX", 2, []siteFigures{{"torre-norte", 2, 4, 1, 1}}, nil},
	{"mx", "site=madrid", 0, nil, nil},
	{"mx", "team=operations", 0, nil, nil},
	// A responder limited to Madrid: I2 only (I4 went to operations, not to Madrid).
	{"madrid", "", 1, []siteFigures{{"madrid", 1, 1, 0, 0}}, nil},
	{"madrid", "site=torre-norte", 0, nil, nil},
}

func TestIndicatorsBySiteAndScope(t *testing.T) { storetest.Each(t, testIndicatorsBySiteAndScope) }

func testIndicatorsBySiteAndScope(t *testing.T) {
	a := newTestAPIGenerous(t)
	for _, st := range []string{
		`{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`,
		`{"id":"torre-sur","name":"Torre Sur","city":"CDMX","time_zone":"America/Mexico_City"}`,
		`{"id":"madrid","name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`,
	} {
		if res := a.do("POST", "/api/v1/sites", adminToken, st); res.status != 200 {
			t.Fatalf("site: %d %s", res.status, res.body)
		}
	}
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(scopeOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	declare := func(teams, sites []string, drill bool) string {
		t.Helper()
		d := declaration()
		d["teams"], d["sites"], d["drill"] = teams, sites, drill
		res := a.do("POST", "/api/v1/incidents", adminToken, d)
		if res.status != 201 {
			t.Fatalf("declare %v %v: %d %s", teams, sites, res.status, res.body)
		}
		var inc struct{ ID string }
		res.json(t, &inc)
		return inc.ID
	}
	none := []string{}
	i1 := declare(none, []string{"Torre Norte"}, false)
	declare(none, []string{"madrid"}, false)
	declare(none, []string{"CDMX"}, false)
	declare([]string{"operations"}, nil, false)
	declare([]string{"technology"}, nil, false)
	declare(none, []string{"madrid"}, true)
	a.createUser("ana@example.com", "responder")
	if res := a.do("POST", "/api/v1/incidents/"+i1+"/ack", "", nil, "Cookie", a.session("ana@example.com", password)); res.status != 200 {
		t.Fatalf("Ana's ack: %d %s", res.status, res.body)
	}
	scopedToken := func(name, role string, scope map[string]any) string {
		var out struct{ Token string }
		res := a.do("POST", "/api/v1/tokens", adminToken, map[string]any{"name": name, "role": role, "scope": scope})
		if res.status != 201 {
			t.Fatalf("token %s: %d %s", name, res.status, res.body)
		}
		res.json(t, &out)
		return out.Token
	}
	tokens := map[string]string{
		"admin":  adminToken,
		"mx":     scopedToken("Gerente CDMX", "manager", map[string]any{"teams": []string{"technology"}, "sites": []string{"torre-norte"}}),
		"madrid": scopedToken("Guardia Madrid", "responder", map[string]any{"sites": []string{"madrid"}}),
	}

	for _, c := range expectedScopedIndicators {
		t.Run(c.who+"?"+c.query, func(t *testing.T) {
			res := a.do("GET", "/api/v1/indicators?"+c.query, tokens[c.who], nil)
			if res.status != 200 {
				t.Fatalf("= %d %s", res.status, res.body)
			}
			var rep struct {
				Summary struct{ Declared int }
				Open    []struct{ ID string }
				BySite  []struct {
					Site, Name   string
					Incidents    int
					Recipients   int
					Acknowledged int
					TimeToAck    struct{ Count int } `json:"time_to_ack"`
				} `json:"by_site"`
				ByTeam []struct {
					Team      string
					Incidents int
				} `json:"by_team"`
			}
			res.json(t, &rep)
			if rep.Summary.Declared != c.declared || len(rep.Open) != c.declared {
				t.Errorf("declared %d, open %d, want %d", rep.Summary.Declared, len(rep.Open), c.declared)
			}
			var sites []siteFigures
			for _, s := range rep.BySite {
				sites = append(sites, siteFigures{s.Site, s.Incidents, s.Recipients, s.Acknowledged, s.TimeToAck.Count})
			}
			if fmt.Sprint(sites) != fmt.Sprint(c.bySite) {
				t.Errorf("by site %v, want %v", sites, c.bySite)
			}
			var teams []string
			for _, tm := range rep.ByTeam {
				teams = append(teams, fmt.Sprintf("%s:%d", tm.Team, tm.Incidents))
			}
			if fmt.Sprint(teams) != fmt.Sprint(c.byTeam) {
				t.Errorf("by team %v, want %v", teams, c.byTeam)
			}
		})
	}

	// The CSV of the per-site table: the same rows, with the site's name and city.
	res := a.do("GET", "/api/v1/indicators/by_site.csv", tokens["mx"], nil)
	rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if res.status != 200 || err != nil {
		t.Fatalf("by_site.csv = %d %v %s", res.status, err, res.body)
	}
	if got := len(rows); got != 2 || strings.Join(rows[0][:6], ",") != "site,name,city,incidents,recipients,acknowledged" ||
		strings.Join(rows[1][:6], ",") != "torre-norte,Torre Norte,CDMX,2,4,1" {
		t.Errorf("by_site.csv as the scoped manager: %q", rows)
	}
	res = a.do("GET", "/api/v1/indicators/by_site.csv", adminToken, nil)
	if rows, _ := csv.NewReader(bytes.NewReader(res.body)).ReadAll(); len(rows) != 4 || rows[1][0] != "madrid" || rows[3][0] != "torre-sur" {
		t.Errorf("by_site.csv as admin: %q", rows)
	}
}

// A site is taken out of use with active:false (forms stop offering it, its people keep
// it) and back with active:true; a change without active keeps it as it is. The people
// of a site are listed with ?site=.
func TestSitesRetireAndListTheirPeople(t *testing.T) {
	storetest.Each(t, testSitesRetireAndListTheirPeople)
}

func testSitesRetireAndListTheirPeople(t *testing.T) {
	a := newAPI(t, adminToken)
	manager := a.token("manager")
	for _, st := range []string{
		`{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`,
		`{"id":"madrid","name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`,
	} {
		if res := a.do("POST", "/api/v1/sites", manager, st); res.status != 200 {
			t.Fatalf("site: %d %s", res.status, res.body)
		}
	}
	if res := a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(scopeOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	metaSites := func() string {
		var m struct{ Sites []struct{ ID string } }
		a.do("GET", "/api/v1/meta", manager, nil).json(t, &m)
		var ids []string
		for _, s := range m.Sites {
			ids = append(ids, s.ID)
		}
		return strings.Join(ids, ",")
	}
	res := a.do("PUT", "/api/v1/sites/madrid", manager, `{"name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid","active":false}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"active":false`) || !strings.Contains(string(res.body), `"people":1`) {
		t.Fatalf("retire: %d %s", res.status, res.body)
	}
	if got := metaSites(); got != "torre-norte" {
		t.Errorf("meta offers %q, want only torre-norte", got)
	}
	res = a.do("PUT", "/api/v1/sites/madrid", manager, `{"name":"Oficina Madrid Centro","city":"Madrid","time_zone":"Europe/Madrid"}`)
	if res.status != 200 || !strings.Contains(string(res.body), `"active":false`) {
		t.Errorf("a change without active: %d %s, want it still retired", res.status, res.body)
	}
	if res := a.do("PUT", "/api/v1/sites/madrid", manager, `{"name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid","active":"no"}`); res.status != 400 && res.status != 422 {
		t.Errorf("active not a boolean: %d %s", res.status, res.body)
	}
	if res := a.do("PUT", "/api/v1/sites/madrid", manager, `{"name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid","active":true}`); res.status != 200 {
		t.Errorf("back in use: %d %s", res.status, res.body)
	}
	if got := metaSites(); got != "madrid,torre-norte" {
		t.Errorf("meta offers %q, want both", got)
	}
	var people []struct{ Email string }
	a.do("GET", "/api/v1/people?site=torre-norte", a.token("responder"), nil).json(t, &people)
	if len(people) != 2 || people[0].Email != "ana@example.com" || people[1].Email != "tono@example.com" {
		t.Errorf("people of torre-norte: %+v", people)
	}
}
