package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
)

var roles = []optimum.Role{optimum.RoleReporter, optimum.RoleResponder, optimum.RoleManager, optimum.RoleAdmin}

// Every route × every role (and anonymous): below the route's role the answer is 401
// (no credentials) or 403 (not allowed); at or above it, never. Routes come from the same
// list Handler registers, so a new route is walked without editing this test.
func TestAuthorizationOfEveryRoute(t *testing.T) {
	a := newAPI(t, adminToken)
	tokens := map[optimum.Role]string{optimum.RoleAdmin: adminToken}
	for _, r := range roles[:3] {
		tokens[r] = a.token(r)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	routes := a.api.Routes()
	if len(routes) < 40 {
		t.Fatalf("only %d routes listed", len(routes))
	}
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = param.ReplaceAllString(path, "x")
		if method == "DELETE" && path == "/api/v1/session" {
			continue // signs out; covered elsewhere
		}
		t.Run(rt.Pattern, func(t *testing.T) {
			res := a.do(method, path, "", "{}")
			if rt.Min == "" {
				// A public route may refuse a bad link code (401) or, for a webhook, a missing
				// provider signature (403), never the lack of a session.
				if (res.status == 403 && !strings.HasPrefix(path, "/hooks/")) || (res.status == 401 && strings.Contains(string(res.body), "Sign in")) {
					t.Errorf("public route: anonymous got %d %s", res.status, res.body)
				}
				return
			}
			if res.status != 401 {
				t.Errorf("anonymous got %d, want 401", res.status)
			}
			for _, role := range roles {
				res := a.do(method, path, tokens[role], "{}")
				denied := res.status == 401 || res.status == 403
				if allowed := role.AtLeast(rt.Min); allowed == denied {
					t.Errorf("%s (needs %s) got %d: %s", role, rt.Min, res.status, res.body)
				}
			}
		})
	}
}
