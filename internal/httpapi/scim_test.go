package httpapi_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The request shapes below are those Entra ID and Okta send (Microsoft's "Known issues
// and resolutions with SCIM 2.0 protocol compliance" and "Tutorial: Develop a sample
// SCIM endpoint"; Okta's "SCIM 2.0 protocol reference"), written by hand.

const scimType = "application/scim+json"

type scimClient struct {
	a     *api
	token string
}

func (c scimClient) do(method, path string, body string) response {
	c.a.t.Helper()
	var b any
	if body != "" {
		b = body
	}
	return c.a.do(method, "/scim/v2"+path, c.token, b, "Content-Type", scimType, "Accept", scimType)
}

// ok sends a request that must answer want, and decodes the answer.
func (c scimClient) ok(method, path, body string, want int) map[string]any {
	c.a.t.Helper()
	res := c.do(method, path, body)
	if res.status != want {
		c.a.t.Fatalf("%s %s: %d %s, want %d", method, path, res.status, res.body, want)
	}
	if ct := res.header.Get("Content-Type"); want != 204 && !strings.HasPrefix(ct, scimType) {
		c.a.t.Errorf("%s %s: Content-Type %q, want %s", method, path, ct, scimType)
	}
	var m map[string]any
	if want != 204 {
		res.json(c.a.t, &m)
	}
	return m
}

func newSCIM(t *testing.T) (*api, scimClient) {
	a := newAPI(t, adminToken)
	return a, scimClient{a: a, token: a.token(optimum.RoleSCIM)}
}

// person reads a person as the rest of the API sees them.
func (a *api) scimPerson(id string) map[string]any {
	a.t.Helper()
	res := a.do("GET", "/api/v1/people/"+id, adminToken, nil)
	if res.status != 200 {
		a.t.Fatalf("GET person %s: %d %s", id, res.status, res.body)
	}
	var p map[string]any
	res.json(a.t, &p)
	return p
}

func q(filter string) string { return "?filter=" + url.QueryEscape(filter) }

func total(m map[string]any) int { n, _ := m["totalResults"].(float64); return int(n) }

func TestSCIMEntraID(t *testing.T) { storetest.Each(t, testSCIMEntraID) }

func testSCIMEntraID(t *testing.T) {
	a, c := newSCIM(t)

	// "Test Connection": a random userName must give an empty list, not 404.
	if got := c.ok("GET", "/Users"+q(`userName eq "8c3a2b1e-0d9f-4b6a-a1e7-5b2c9f0e4d71"`), "", 200); total(got) != 0 || got["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
		t.Fatalf("test connection: %v", got)
	}
	c.ok("GET", "/ServiceProviderConfig", "", 200)

	boss := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"b1","userName":"Jefa.Ops@example.com","active":true,
		"displayName":"Marta Jefa","emails":[{"primary":true,"type":"work","value":"jefa.ops@example.com"}],"meta":{"resourceType":"User"}}`, 201)
	bossID := boss["id"].(string)

	created := c.ok("POST", "/Users", `{
		"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"Ana.Garcia@example.com","active":true,
		"addresses":[{"country":"MX","locality":"CDMX","type":"work"}],
		"displayName":"Ana García","emails":[{"primary":true,"type":"work","value":"Ana.Garcia@example.com"}],
		"meta":{"resourceType":"User"},"name":{"formatted":"Ana García","familyName":"García","givenName":"Ana"},
		"phoneNumbers":[{"type":"work","value":"+52 55 5555 0000"},{"type":"mobile","value":"+52 55 1234 5678"}],
		"preferredLanguage":"es-MX","title":"Analista",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Continuidad","employeeNumber":"1001","manager":{"value":"`+bossID+`"}}}`, 201)
	id := created["id"].(string)
	if created["userName"] != "ana.garcia@example.com" || created["active"] != true || created["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Errorf("created: %v", created)
	}
	p := a.scimPerson(id)
	want := map[string]any{"name": "Ana García", "email": "ana.garcia@example.com", "phone": "+525512345678", "language": "es", "active": true,
		"external_id": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "manager_id": bossID}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("person %s = %v, want %v", k, p[k], v)
		}
	}

	// Entra looks people up by userName, externalId and the work email.
	for _, f := range []string{`userName eq "ana.garcia@example.com"`, `userName eq "ANA.GARCIA@example.com"`,
		`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, `emails[type eq "work"].value eq "ana.garcia@example.com"`,
		`userName eq "ana.garcia@example.com" and active eq true`} {
		got := c.ok("GET", "/Users"+q(f), "", 200)
		if total(got) != 1 || got["Resources"].([]any)[0].(map[string]any)["id"] != id {
			t.Errorf("filter %s: %v", f, got)
		}
	}
	if got := c.ok("GET", "/Users"+q(`externalId eq "0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF"`), "", 200); total(got) != 0 {
		t.Errorf("externalId is case-exact: %v", got)
	}

	// PATCH as Entra sends it without the compliance flag: capitalised ops, one
	// attribute each, "Add" for a value path, the manager as a plain id.
	c.ok("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"displayName","value":"Ana García López"},
		{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+52 55 8765 4321"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Riesgos"},
		{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`, 200)
	p = a.scimPerson(id)
	if p["name"] != "Ana García López" || p["phone"] != "+525587654321" || p["manager_id"] != "" {
		t.Errorf("after PATCH: %v", p)
	}
	// With ?aadOptscim062020: lower-case ops, one path-less replace with dotted and URN keys.
	c.ok("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"name.familyName":"Ruiz","name.givenName":"Ana","preferredLanguage":"en-US",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager":"`+bossID+`"}}]}`, 200)
	p = a.scimPerson(id)
	if p["name"] != "Ana Ruiz" || p["language"] != "en" || p["manager_id"] != bossID {
		t.Errorf("after path-less PATCH: %v", p)
	}

	// A new UPN changes the email; attributes= trims the answer.
	c.ok("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"ana.ruiz@example.com"}]}`, 200)
	got := c.ok("GET", "/Users"+q(`userName eq "ana.ruiz@example.com"`)+"&attributes=userName", "", 200)
	if r := got["Resources"].([]any); len(r) != 1 || len(r[0].(map[string]any)) != 3 || a.scimPerson(id)["email"] != "ana.ruiz@example.com" {
		t.Errorf("after a new UPN (want id, schemas and userName only): %v", got)
	}

	// Deprovisioning: "active" as the string "False". The person stays, inactive.
	got = c.ok("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, 200)
	if got["active"] != false {
		t.Errorf("after deprovisioning: %v", got)
	}
	if p = a.scimPerson(id); p["active"] != false || p["name"] != "Ana Ruiz" {
		t.Errorf("deprovisioned person: %v", p)
	}
	if got := c.ok("GET", "/Users/"+id, "", 200); got["active"] != false {
		t.Errorf("GET after deprovisioning: %v", got)
	}
	// A hard delete is a deactivation too.
	c.ok("DELETE", "/Users/"+bossID, "", 204)
	if p = a.scimPerson(bossID); p["active"] != false {
		t.Errorf("deleted person: %v", p)
	}
	c.ok("PATCH", "/Users/"+bossID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`, 200)
	if p = a.scimPerson(bossID); p["active"] != true {
		t.Errorf("reactivated person: %v", p)
	}

	// Groups: created, found by displayName, fetched without members, members added and
	// removed in both of Entra's dialects.
	g := c.ok("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"Respuesta a Sismos","meta":{"resourceType":"Group"},"members":[]}`, 201)
	gid := g["id"].(string)
	if gid != "respuesta-a-sismos" {
		t.Errorf("group id %q", gid)
	}
	if got := c.ok("GET", "/Groups"+q(`displayName eq "Respuesta a Sismos"`)+"&excludedAttributes=members", "", 200); total(got) != 1 ||
		got["Resources"].([]any)[0].(map[string]any)["members"] != nil {
		t.Errorf("group by displayName: %v", got)
	}
	patch := func(body string) {
		t.Helper()
		c.ok("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+body+`]}`, 200)
	}
	patch(`{"op":"Add","path":"members","value":[{"value":"` + id + `"},{"value":"` + bossID + `"}]}`)
	if teams := a.scimPerson(id)["teams"].([]any); len(teams) != 1 || teams[0] != gid {
		t.Errorf("teams after Add: %v", teams)
	}
	if got := c.ok("GET", "/Groups/"+gid+"?excludedAttributes=members", "", 200); got["members"] != nil || got["displayName"] != "Respuesta a Sismos" {
		t.Errorf("excludedAttributes=members: %v", got)
	}
	patch(`{"op":"Remove","path":"members","value":[{"value":"` + id + `"}]}`)
	patch(`{"op":"remove","path":"members[value eq \"` + bossID + `\"]"}`)
	if got := c.ok("GET", "/Groups/"+gid, "", 200); len(got["members"].([]any)) != 0 {
		t.Errorf("members after removes: %v", got["members"])
	}
	if teams := a.scimPerson(bossID)["teams"].([]any); len(teams) != 0 {
		t.Errorf("boss teams after remove: %v", teams)
	}
	// The user shows its groups.
	patch(`{"op":"Add","path":"members","value":[{"value":"` + id + `"}]}`)
	if u := c.ok("GET", "/Users/"+id, "", 200); len(u["groups"].([]any)) != 1 {
		t.Errorf("user groups: %v", u["groups"])
	}
	// Every change is in the event log, by the scim token.
	evs, err := a.db.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range evs {
		if e.Actor != nil && e.Actor.Role == optimum.RoleSCIM {
			count[e.Type]++
		}
	}
	// 2 people created; 6 updates (Ana's three PATCHes and her deprovisioning, the boss's
	// deletion and reactivation); the team; 4 membership changes (add, 2 removes, add).
	want2 := map[string]int{"person.created": 2, "person.updated": 6, "team.created": 1, "team.members_changed": 4}
	for typ, n := range want2 {
		if count[typ] != n {
			t.Errorf("%d %s events by the scim token, want %d (all: %v)", count[typ], typ, n, count)
		}
	}
}

func TestSCIMOkta(t *testing.T) { storetest.Each(t, testSCIMOkta) }

func testSCIMOkta(t *testing.T) {
	a, c := newSCIM(t)
	var ids []string
	for _, u := range []struct{ user, given, family string }{{"luis@example.com", "Luis", "Pérez"}, {"eva@example.com", "Eva", "Soto"}, {"raul@example.com", "Raúl", "Díaz"}} {
		got := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+u.user+`",
			"name":{"givenName":"`+u.given+`","familyName":"`+u.family+`"},"emails":[{"primary":true,"value":"`+u.user+`","type":"work"}],
			"displayName":"`+u.given+` `+u.family+`","locale":"en-US","externalId":"00u`+u.given+`","groups":[],"password":"1mz050nq","active":true}`, 201)
		ids = append(ids, got["id"].(string))
	}
	luis := ids[0]
	if p := a.scimPerson(luis); p["name"] != "Luis Pérez" || p["language"] != "en" {
		t.Errorf("created: %v", p)
	}

	// Okta pages through the users with startIndex and count.
	page := c.ok("GET", "/Users?startIndex=1&count=2", "", 200)
	if total(page) != 3 || page["itemsPerPage"].(float64) != 2 || page["startIndex"].(float64) != 1 || len(page["Resources"].([]any)) != 2 {
		t.Errorf("page 1: %v", page)
	}
	page2 := c.ok("GET", "/Users?startIndex=3&count=2", "", 200)
	if total(page2) != 3 || len(page2["Resources"].([]any)) != 1 {
		t.Errorf("page 2: %v", page2)
	}
	seen := map[any]bool{}
	for _, r := range append(page["Resources"].([]any), page2["Resources"].([]any)...) {
		seen[r.(map[string]any)["id"]] = true
	}
	if len(seen) != 3 {
		t.Errorf("the pages repeat or miss users: %v", seen)
	}
	if got := c.ok("GET", "/Users?count=0", "", 200); total(got) != 3 || len(got["Resources"].([]any)) != 0 {
		t.Errorf("count=0: %v", got)
	}

	// Okta updates with PUT, the whole user.
	c.ok("PUT", "/Users/"+luis, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"`+luis+`","userName":"luis@example.com",
		"name":{"givenName":"Luis","familyName":"Pérez Gil"},"emails":[{"primary":true,"value":"luis@example.com","type":"work"}],
		"phoneNumbers":[{"value":"+34 612 345 678","type":"mobile"}],"displayName":"Luis Pérez Gil","locale":"es-ES","externalId":"00uLuis","active":true,
		"meta":{"resourceType":"User"}}`, 200)
	if p := a.scimPerson(luis); p["name"] != "Luis Pérez Gil" || p["phone"] != "+34612345678" || p["language"] != "es" {
		t.Errorf("after PUT: %v", p)
	}
	// Okta deactivates with PATCH active false, and reactivates the same way.
	c.ok("PATCH", "/Users/"+luis, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200)
	if p := a.scimPerson(luis); p["active"] != false || p["phone"] != "+34612345678" {
		t.Errorf("after deactivation: %v", p)
	}
	c.ok("PATCH", "/Users/"+luis, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`, 200)
	if p := a.scimPerson(luis); p["active"] != true {
		t.Errorf("after reactivation: %v", p)
	}

	// Push groups: create, rename, members added and removed, deleted.
	g := c.ok("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta Ops","members":[]}`, 201)
	gid := g["id"].(string)
	c.ok("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"`+gid+`","displayName":"Okta Operaciones"}}]}`, 200)
	c.ok("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+ids[0]+`","display":"luis@example.com"},{"value":"`+ids[1]+`","display":"eva@example.com"}]}]}`, 200)
	c.ok("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"`+ids[0]+`\"]"}]}`, 200)
	got := c.ok("GET", "/Groups/"+gid, "", 200)
	if got["displayName"] != "Okta Operaciones" || len(got["members"].([]any)) != 1 || got["members"].([]any)[0].(map[string]any)["value"] != ids[1] {
		t.Errorf("group: %v", got)
	}
	if got := c.ok("GET", "/Groups"+q(`members[value eq "`+ids[1]+`"]`), "", 200); total(got) != 1 {
		t.Errorf("groups of eva: %v", got)
	}
	if got := c.ok("GET", "/Groups"+q(`members[value eq "`+ids[0]+`"]`)+"&excludedAttributes=members", "", 200); total(got) != 0 {
		t.Errorf("groups of luis: %v", got)
	}
	res := a.do("GET", "/api/v1/teams", adminToken, nil)
	if !strings.Contains(string(res.body), "Okta Operaciones") {
		t.Errorf("the team is not in the directory: %s", res.body)
	}
	// PUT replaces the members.
	c.ok("PUT", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta Operaciones","members":[{"value":"`+ids[2]+`"}]}`, 200)
	if teams := a.scimPerson(ids[1])["teams"].([]any); len(teams) != 0 {
		t.Errorf("eva still in the group after PUT: %v", teams)
	}
	c.ok("DELETE", "/Groups/"+gid, "", 204)
	c.ok("GET", "/Groups/"+gid, "", 404)
	if teams := a.scimPerson(ids[2])["teams"].([]any); len(teams) != 0 {
		t.Errorf("members of a deleted group keep it: %v", teams)
	}
	// The discovery endpoints answer.
	if rt := c.ok("GET", "/ResourceTypes", "", 200); total(rt) != 2 {
		t.Errorf("resource types: %v", rt)
	}
	// User, the enterprise extension, ours (sites) and Group.
	if sc := c.ok("GET", "/Schemas", "", 200); total(sc) != 4 {
		t.Errorf("schemas: %v", sc)
	}
}

// Bad input: the SCIM error, with the scimType written here by hand, and nothing changed.
func TestSCIMBadInput(t *testing.T) { storetest.Each(t, testSCIMBadInput) }

func testSCIMBadInput(t *testing.T) {
	a, c := newSCIM(t)
	ana := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.com","displayName":"Ana","phoneNumbers":[{"type":"mobile","value":"+525512345678"}]}`, 201)["id"].(string)
	luis := c.ok("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"luis@example.com","displayName":"Luis","externalId":"L1"}`, 201)["id"].(string)
	gid := c.ok("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Brigada","members":[{"value":"`+ana+`"}]}`, 201)["id"].(string)
	peopleBefore := a.do("GET", "/api/v1/people", adminToken, nil).body
	headBefore, _ := a.db.LastEventID(context.Background())
	patchOp := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"filter without value", "GET", "/Users" + q(`userName eq`), "", 400, "invalidFilter"},
		{"filter ending in and", "GET", "/Users" + q(`userName eq "a@b.c" and`), "", 400, "invalidFilter"},
		{"filter on an unknown attribute", "GET", "/Users" + q(`favoriteColor eq "red"`), "", 400, "invalidFilter"},
		{"filter with an unknown operator", "GET", "/Users" + q(`userName is "ana@example.com"`), "", 400, "invalidFilter"},
		{"filter with an open bracket", "GET", "/Users" + q(`emails[type eq "work".value eq "x"`), "", 400, "invalidFilter"},
		{"filter with an unclosed string", "GET", "/Users" + q(`userName eq "ana`), "", 400, "invalidFilter"},
		{"group filter on a user attribute", "GET", "/Groups" + q(`userName eq "ana@example.com"`), "", 400, "invalidFilter"},
		{"count not a number", "GET", "/Users?count=many", "", 400, "invalidValue"},
		{"duplicate email", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ANA@example.com","displayName":"Otra Ana"}`, 409, "uniqueness"},
		{"duplicate externalId", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"otro@example.com","externalId":"L1"}`, 409, "uniqueness"},
		{"phone of another active person", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","phoneNumbers":[{"type":"mobile","value":"+52 55 1234 5678"}]}`, 409, "uniqueness"},
		{"unknown attribute", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","favoriteColor":"red"}`, 400, "invalidSyntax"},
		{"unknown sub-attribute", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","name":{"nick":"Evi"}}`, 400, "invalidSyntax"},
		{"unknown extension attribute", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"shoeSize":"42"}}`, 400, "invalidSyntax"},
		{"not JSON", "POST", "/Users", `{"userName":`, 400, "invalidSyntax"},
		{"no userName", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"displayName":"Nadie"}`, 400, "invalidValue"},
		{"phone not E.164", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","phoneNumbers":[{"type":"mobile","value":"5512345678"}]}`, 400, "invalidValue"},
		{"bad time zone", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eva@example.com","timezone":"Mars/Olympus"}`, 400, "invalidValue"},
		{"PUT taking another's email", "PUT", "/Users/" + luis, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ana@example.com"}`, 409, "uniqueness"},
		{"PATCH taking another's phone", "PATCH", "/Users/" + luis, patchOp(`{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+525512345678"}`), 409, "uniqueness"},
		{"PATCH with an unknown op", "PATCH", "/Users/" + luis, patchOp(`{"op":"jump","path":"active","value":false}`), 400, "invalidSyntax"},
		{"PATCH without operations", "PATCH", "/Users/" + luis, patchOp(``), 400, "invalidSyntax"},
		{"PATCH of the id", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"id","value":"per_mine"}`), 400, "mutability"},
		{"PATCH of groups on a user", "PATCH", "/Users/" + luis, patchOp(`{"op":"add","path":"groups","value":[{"value":"` + gid + `"}]}`), 400, "mutability"},
		{"PATCH removing userName", "PATCH", "/Users/" + luis, patchOp(`{"op":"remove","path":"userName"}`), 400, "mutability"},
		{"PATCH of an unknown attribute", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"favoriteColor","value":"red"}`), 400, "invalidPath"},
		{"PATCH with a bad value filter", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"emails[type eq].value","value":"x@y.z"}`), 400, "invalidPath"},
		{"PATCH active not a boolean", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"active","value":"maybe"}`), 400, "invalidValue"},
		{"PATCH replacing a value nobody has", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"emails[value eq \"nobody@example.com\"].display","value":"x"}`), 400, "noTarget"},
		{"PATCH remove without path", "PATCH", "/Users/" + luis, patchOp(`{"op":"remove"}`), 400, "noTarget"},
		{"all ops or none", "PATCH", "/Users/" + luis, patchOp(`{"op":"replace","path":"displayName","value":"Cambiado"},{"op":"replace","path":"active","value":"maybe"}`), 400, "invalidValue"},
		{"group member nobody is", "PATCH", "/Groups/" + gid, patchOp(`{"op":"remove","path":"members[value eq \"per_nobody\"]"}`), 400, "noTarget"},
		{"group add of an unknown user", "PATCH", "/Groups/" + gid, patchOp(`{"op":"add","path":"members","value":[{"value":"per_nobody"}]}`), 400, "invalidValue"},
		{"group without a name", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":" "}`, 400, "invalidValue"},
		{"group name taken", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"brigada"}`, 409, "uniqueness"},
		{"group with an unknown attribute", "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Nuevo","owner":"ana"}`, 400, "invalidSyntax"},
		{"unknown user", "GET", "/Users/per_nobody", "", 404, ""},
		{"user by email, not id", "DELETE", "/Users/ana@example.com", "", 404, ""},
		{"PATCH of a user by email", "PATCH", "/Users/ana@example.com", patchOp(`{"op":"replace","path":"active","value":false}`), 404, ""},
		{"unknown group", "DELETE", "/Groups/nobody", "", 404, ""},
		{"unknown endpoint", "GET", "/Bulk", "", 404, ""},
		{"a method the resource has not", "PATCH", "/Users", patchOp(`{"op":"replace","path":"active","value":false}`), 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := c.do(tc.method, tc.path, tc.body)
			var e struct {
				Schemas  []string `json:"schemas"`
				Status   string   `json:"status"`
				ScimType string   `json:"scimType"`
				Detail   string   `json:"detail"`
			}
			if err := json.Unmarshal(res.body, &e); err != nil {
				t.Fatalf("%d %s: not JSON", res.status, res.body)
			}
			if res.status != tc.status || e.Status != strconv.Itoa(tc.status) || e.ScimType != tc.scimType || len(e.Schemas) != 1 ||
				e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Detail == "" {
				t.Errorf("got %d %s, want %d scimType %q", res.status, res.body, tc.status, tc.scimType)
			}
			if !strings.HasPrefix(res.header.Get("Content-Type"), scimType) {
				t.Errorf("Content-Type %q", res.header.Get("Content-Type"))
			}
		})
	}
	if after := a.do("GET", "/api/v1/people", adminToken, nil).body; string(after) != string(peopleBefore) {
		t.Errorf("bad input changed the directory:\nbefore %s\nafter  %s", peopleBefore, after)
	}
	if head, _ := a.db.LastEventID(context.Background()); head != headBefore {
		t.Errorf("bad input appended events: head %d, was %d", head, headBefore)
	}
}

// Only scim tokens reach /scim/v2, and they reach nothing else; OPTIMUM_SCIM_TOKEN is one.
func TestSCIMTokenReachesSCIMOnly(t *testing.T) {
	const envToken = "scim-env-token-0123456789abcdef0123456789"
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) { c.SCIM.Token = envToken })
	scimTok := a.token(optimum.RoleSCIM)
	for _, tok := range []string{scimTok, envToken} {
		if res := a.do("GET", "/scim/v2/Users", tok, nil); res.status != 200 {
			t.Errorf("scim token: %d %s", res.status, res.body)
		}
		for _, path := range []string{"/api/v1/people", "/api/v1/me", "/api/v1/teams", "/api/v1/tokens", "/api/v1/incidents"} {
			if res := a.do("GET", path, tok, nil); res.status != 403 && res.status != 401 {
				t.Errorf("scim token on %s: %d, want 401 or 403", path, res.status)
			}
		}
		if res := a.do("POST", "/api/v1/incidents", tok, declaration()); res.status != 403 && res.status != 401 {
			t.Errorf("scim token declares: %d", res.status)
		}
	}
	for _, tok := range []string{adminToken, a.token(optimum.RoleManager), ""} {
		res := a.do("GET", "/scim/v2/Users", tok, nil)
		var e map[string]any
		res.json(t, &e)
		if (res.status != 401 && res.status != 403) || e["schemas"].([]any)[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
			t.Errorf("token %q on SCIM: %d %s", tok, res.status, res.body)
		}
	}
	if res := a.do("GET", "/scim/v2/Users", "not-the-token", nil); res.status != 401 {
		t.Errorf("wrong token: %d", res.status)
	}
	// Tokens may have the role scim; users may not.
	if res := a.do("POST", "/api/v1/users", adminToken, map[string]any{"email": "x@example.com", "name": "X", "role": "scim"}); res.status != 422 && res.status != 400 {
		t.Errorf("user with role scim: %d %s", res.status, res.body)
	}
}
