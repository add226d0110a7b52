package httpapi_test

import (
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
)

// Every list parameter of every list endpoint takes at most 50 values (repeated keys and
// comma-separated items together): 33,000 of them used to reach the database and fail
// with a 500 ("too many SQL variables"). Past the bound the answer is a 422 naming the
// parameter and the limit, in Spanish or English, and the problems listed are capped.
func TestListParametersAreBounded(t *testing.T) {
	a := newAPI(t, adminToken)
	reporter := a.token(optimum.RoleReporter)
	many := func(key, value string, n int) string { // key=v,v,v…
		return key + "=" + strings.TrimSuffix(strings.Repeat(value+",", n), ",")
	}
	repeated := func(key, value string, n int) string { // key=v&key=v…
		return strings.TrimSuffix(strings.Repeat(key+"="+value+"&", n), "&")
	}
	for _, tc := range []struct {
		path, query, field string
	}{
		{"/api/v1/incidents", many("priority", "P1", 33000), "priority"},
		{"/api/v1/incidents", repeated("priority", "P2", 51), "priority"},
		{"/api/v1/incidents", many("status", "declared", 51), "status"},
		{"/api/v1/people", many("team", "technology", 33000), "team"},
		{"/api/v1/people", repeated("role", "lead", 51), "role"},
		{"/api/v1/indicators", repeated("priority", "P1", 10000), "priority"},
		{"/api/v1/incidents/similar", many("services", "erp", 51), "services"},
		{"/api/v1/incidents/similar", many("causes", "x", 51), "causes"},
		{"/api/v1/readiness", many("teams", "technology", 51), "teams"},
		{"/api/v1/audience/preview", many("teams", "technology", 51), "teams"},
	} {
		for lang, want := range map[string]string{"es": "como máximo 50", "en": "at most 50"} {
			token := adminToken
			if tc.path == "/api/v1/incidents" {
				token = reporter // the review's attacker was a reporter
			}
			res := a.do("GET", tc.path+"?"+tc.query, token, nil, "Accept-Language", lang)
			var p struct {
				Errors []optimum.FieldError
			}
			res.json(t, &p)
			if res.status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != tc.field || !strings.Contains(p.Errors[0].Message, want) {
				t.Errorf("%s ?%s… (%s) = %d %.300s", tc.path, tc.query[:20], lang, res.status, res.body)
			}
		}
	}
	// Exactly 50 values is fine.
	for _, path := range []string{"/api/v1/incidents?" + many("priority", "P1", 50), "/api/v1/people?" + many("team", "technology", 50),
		"/api/v1/readiness?" + repeated("teams", "technology", 50)} {
		if res := a.do("GET", path, adminToken, nil); res.status != 200 {
			t.Errorf("%.60s… = %d %.300s", path, res.status, res.body)
		}
	}
	// Thousands of unknown parameters: 20 problems listed and the rest counted.
	var q []string
	for i := range 3000 {
		q = append(q, "x"+strings.Repeat("y", i%7)+string(rune('a'+i%26))+strings.Repeat("z", i/26)+"=1")
	}
	res := a.do("GET", "/api/v1/incidents?"+strings.Join(q, "&"), adminToken, nil, "Accept-Language", "en")
	var p struct{ Errors []optimum.FieldError }
	res.json(t, &p)
	if res.status != 422 || len(p.Errors) != 21 || p.Errors[20].Field != "query" || !strings.Contains(p.Errors[20].Message, "more problems") {
		t.Errorf("unknown parameters = %d, %d problems, last %+v", res.status, len(p.Errors), p.Errors[len(p.Errors)-1])
	}
}
