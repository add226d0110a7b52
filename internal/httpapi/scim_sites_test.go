package httpapi_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const optimumUser = "urn:ietf:params:scim:schemas:extension:optimum:2.0:User"

// sitesOfPerson reads the person's sites as the rest of the API sees them, primary first.
func (a *api) sitesOfPerson(id string) []string {
	a.t.Helper()
	var p struct {
		Sites       []string `json:"sites"`
		PrimarySite string   `json:"primary_site"`
	}
	res := a.do("GET", "/api/v1/people/"+id, adminToken, nil)
	res.json(a.t, &p)
	if len(p.Sites) > 0 && p.PrimarySite != p.Sites[0] {
		a.t.Errorf("primary_site %q is not the first of %v", p.PrimarySite, p.Sites)
	}
	return p.Sites
}

// scimSites reads a User's sites from our extension as "id" or "id*" (primary).
func scimSites(t *testing.T, u map[string]any) []string {
	t.Helper()
	out := []string{}
	ext, _ := u[optimumUser].(map[string]any)
	list, _ := ext["sites"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		v := m["value"].(string)
		if m["primary"] == true {
			v += "*"
		}
		out = append(out, v)
	}
	return out
}

// The SCIM User carries the person's sites in our extension (docs/scim.md, "Sites"):
// Okta sends them as an array, whole, in POST, PUT and PATCH replace; Entra ID maps one
// string attribute, primarySite, added or replaced by PATCH; a value filter removes one.
// Each change is what the directory then shows.
func TestSCIMCarriesSites(t *testing.T) { storetest.Each(t, testSCIMCarriesSites) }

func testSCIMCarriesSites(t *testing.T) {
	a, c := newSCIM(t)
	for _, st := range []string{
		`{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`,
		`{"id":"madrid","name":"Oficina Madrid","city":"Madrid","time_zone":"Europe/Madrid"}`,
		`{"id":"monterrey","name":"Planta Monterrey","city":"Monterrey","time_zone":"America/Monterrey"}`,
	} {
		if res := a.do("POST", "/api/v1/sites", adminToken, st); res.status != 200 {
			t.Fatalf("site: %d %s", res.status, res.body)
		}
	}
	patch := func(id, ops string) map[string]any {
		t.Helper()
		return c.ok("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`, 200)
	}
	check := func(when, id string, u map[string]any, wantPerson []string, wantSCIM []string) {
		t.Helper()
		if got := a.sitesOfPerson(id); !slices.Equal(got, wantPerson) {
			t.Errorf("%s: the person's sites %v, want %v", when, got, wantPerson)
		}
		if got := scimSites(t, u); !slices.Equal(got, wantSCIM) {
			t.Errorf("%s: the User's sites %v, want %v", when, got, wantSCIM)
		}
		again := c.ok("GET", "/Users/"+id, "", 200)
		if got := scimSites(t, again); !slices.Equal(got, wantSCIM) {
			t.Errorf("%s: GET shows the sites %v, want %v", when, got, wantSCIM)
		}
	}

	// Okta: a POST with the extension, sites by name or id, the primary marked.
	u := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","`+optimumUser+`"],
		"userName":"ana@example.com","name":{"givenName":"Ana","familyName":"Sitios"},
		"`+optimumUser+`":{"sites":[{"value":"madrid"},{"value":"Torre Norte","primary":true}]}}`, 201)
	id := u["id"].(string)
	if schemas := u["schemas"].([]any); !slices.Contains(schemas, any(optimumUser)) {
		t.Errorf("schemas %v lack our extension", schemas)
	}
	if ext := u[optimumUser].(map[string]any); ext["primarySite"] != "torre-norte" {
		t.Errorf("primarySite = %v", ext["primarySite"])
	}
	check("Okta POST", id, u, []string{"torre-norte", "madrid"}, []string{"torre-norte*", "madrid"})

	// The filter Okta and Entra may use to find the people of a site.
	if got := c.ok("GET", "/Users"+q(optimumUser+`:sites.value eq "madrid"`), "", 200); total(got) != 1 {
		t.Errorf("filter by site: %v", got)
	}

	// Okta: PUT with a string array (its custom string-array attributes): the first is primary.
	u = c.ok("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","`+optimumUser+`"],
		"userName":"ana@example.com","displayName":"Ana Sitios","`+optimumUser+`":{"sites":["monterrey","madrid"]}}`, 200)
	check("Okta PUT", id, u, []string{"monterrey", "madrid"}, []string{"monterrey*", "madrid"})

	// A PUT without our extension keeps the sites (as it keeps the teams).
	u = c.ok("PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.com","displayName":"Ana Sitios"}`, 200)
	check("PUT without the extension", id, u, []string{"monterrey", "madrid"}, []string{"monterrey*", "madrid"})

	// Entra ID: its custom attribute is one string, primarySite, sent by PATCH Add/Replace.
	u = patch(id, `{"op":"Add","path":"`+optimumUser+`:primarySite","value":"Torre Norte"}`)
	check("Entra primarySite", id, u, []string{"torre-norte", "monterrey", "madrid"}, []string{"torre-norte*", "monterrey", "madrid"})
	u = patch(id, `{"op":"Replace","path":"`+optimumUser+`:primarySite","value":"madrid"}`)
	check("Entra primarySite again", id, u, []string{"madrid", "torre-norte", "monterrey"}, []string{"madrid*", "torre-norte", "monterrey"})

	// A value filter removes one site; Okta's replace of the whole list, with a path and without.
	u = patch(id, `{"op":"remove","path":"`+optimumUser+`:sites[value eq \"monterrey\"]"}`)
	check("remove by filter", id, u, []string{"madrid", "torre-norte"}, []string{"madrid*", "torre-norte"})
	u = patch(id, `{"op":"replace","path":"`+optimumUser+`:sites","value":[{"value":"monterrey","primary":true}]}`)
	check("Okta replace", id, u, []string{"monterrey"}, []string{"monterrey*"})
	u = patch(id, `{"op":"replace","value":{"`+optimumUser+`":{"sites":[{"value":"torre-norte","primary":true},{"value":"madrid"}]}}}`)
	check("Okta replace without a path", id, u, []string{"torre-norte", "madrid"}, []string{"torre-norte*", "madrid"})

	// Removing the attribute leaves the person at no site.
	u = patch(id, `{"op":"remove","path":"`+optimumUser+`:sites"}`)
	check("remove", id, u, []string{}, []string{})
	if _, has := u[optimumUser]; has {
		t.Errorf("a person at no site still has the extension: %v", u[optimumUser])
	}
}

// Bad sites are refused in SCIM's error format with scimType invalidValue (an unknown
// attribute of the extension: invalidSyntax), and change nothing.
func TestSCIMBadSites(t *testing.T) { storetest.Each(t, testSCIMBadSites) }

func testSCIMBadSites(t *testing.T) {
	a, c := newSCIM(t)
	if res := a.do("POST", "/api/v1/sites", adminToken, `{"id":"torre-norte","name":"Torre Norte","city":"CDMX","time_zone":"America/Mexico_City"}`); res.status != 200 {
		t.Fatalf("site: %d %s", res.status, res.body)
	}
	id := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.com",
		"`+optimumUser+`":{"sites":[{"value":"torre-norte","primary":true}]}}`, 201)["id"].(string)
	peopleBefore := a.do("GET", "/api/v1/people", adminToken, nil).body
	headBefore, _ := a.db.LastEventID(context.Background())
	patchOp := func(op string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"POST at an unknown site", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","` + optimumUser + `":{"sites":[{"value":"Atlantis","primary":true}]}}`, 400, "invalidValue"},
		{"PUT at an unknown site", "PUT", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.com","` + optimumUser + `":{"sites":["torre-norte","atlantis"]}}`, 400, "invalidValue"},
		{"Entra primarySite unknown", "PATCH", "/Users/" + id, patchOp(`{"op":"Replace","path":"` + optimumUser + `:primarySite","value":"Atlantis"}`), 400, "invalidValue"},
		{"primarySite not a string", "PATCH", "/Users/" + id, patchOp(`{"op":"Replace","path":"` + optimumUser + `:primarySite","value":7}`), 400, "invalidValue"},
		{"two primaries", "PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"` + optimumUser + `:sites","value":[{"value":"torre-norte","primary":true},{"value":"torre-norte","primary":true}]}`), 400, "invalidValue"},
		{"a site twice", "PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"` + optimumUser + `:sites","value":["torre-norte","Torre Norte"]}`), 400, "invalidValue"},
		{"a site without a value", "PATCH", "/Users/" + id, patchOp(`{"op":"add","path":"` + optimumUser + `:sites","value":[{"primary":true}]}`), 400, "invalidValue"},
		{"an unknown attribute of our extension", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","` + optimumUser + `":{"building":"B"}}`, 400, "invalidSyntax"},
		{"an unknown path in our extension", "PATCH", "/Users/" + id, patchOp(`{"op":"replace","path":"` + optimumUser + `:building","value":"B"}`), 400, "invalidPath"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := c.do(tc.method, tc.path, tc.body)
			var e struct {
				Schemas  []string `json:"schemas"`
				ScimType string   `json:"scimType"`
				Detail   string   `json:"detail"`
			}
			if err := json.Unmarshal(res.body, &e); err != nil {
				t.Fatalf("%d %s: not JSON", res.status, res.body)
			}
			if res.status != tc.status || e.ScimType != tc.scimType || len(e.Schemas) != 1 || e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Detail == "" {
				t.Errorf("got %d %s, want %d scimType %q", res.status, res.body, tc.status, tc.scimType)
			}
		})
	}
	if after := a.do("GET", "/api/v1/people", adminToken, nil).body; string(after) != string(peopleBefore) {
		t.Errorf("bad sites changed the directory:\nbefore %s\nafter  %s", peopleBefore, after)
	}
	if head, _ := a.db.LastEventID(context.Background()); head != headBefore {
		t.Errorf("bad sites appended events: head %d, was %d", head, headBefore)
	}
}

// /Schemas describes our extension and /ResourceTypes names it for User.
func TestSCIMDescribesTheSitesExtension(t *testing.T) {
	_, c := newSCIM(t)
	schemas := c.ok("GET", "/Schemas", "", 200)
	var found map[string]any
	for _, x := range schemas["Resources"].([]any) {
		if m := x.(map[string]any); m["id"] == optimumUser {
			found = m
		}
	}
	if found == nil {
		t.Fatalf("/Schemas lacks %s: %v", optimumUser, schemas)
	}
	var names []string
	for _, x := range found["attributes"].([]any) {
		m := x.(map[string]any)
		names = append(names, m["name"].(string))
		if m["name"] == "sites" && (m["multiValued"] != true || m["type"] != "complex") {
			t.Errorf("sites: %v", m)
		}
	}
	if strings.Join(names, " ") != "sites primarySite" {
		t.Errorf("the extension's attributes: %v", names)
	}
	types := c.ok("GET", "/ResourceTypes", "", 200)
	body, _ := json.Marshal(types)
	if !strings.Contains(string(body), `{"required":false,"schema":"`+optimumUser+`"}`) {
		t.Errorf("/ResourceTypes does not name the extension: %s", body)
	}
}
