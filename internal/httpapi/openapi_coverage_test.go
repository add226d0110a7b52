package httpapi_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/httpapi/openapi/openapitest"
)

// Every route of Routes() is in the OpenAPI description, and the description has no
// operation the server does not route. Each operation states the least role that may call
// it (x-min-role), which must be the one the hand-written expectedMinRole table says, and
// an answer for errors (default: the Problem response).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	a := newAPI(t, adminToken)
	doc, _ := openapitest.Description(t)
	var routed []string
	for _, rt := range a.api.Routes() {
		routed = append(routed, rt.Pattern)
	}
	var described []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			pattern := method + " " + path
			described = append(described, pattern)
			if !slices.Contains(routed, pattern) {
				t.Errorf("%s is described but not routed: remove it from internal/httpapi/openapi", pattern)
				continue
			}
			role, _ := op.Extensions["x-min-role"].(string)
			for _, e := range expectedMinRole {
				if e.pattern == pattern && e.min != role {
					t.Errorf("%s: x-min-role is %q, the route needs %s", pattern, role, e.min)
				}
			}
			if op.Responses.Default() == nil {
				t.Errorf("%s has no default answer: add default: {$ref: '#/components/responses/Problem'}", pattern)
			}
		}
	}
	for _, p := range routed {
		if !slices.Contains(described, p) {
			t.Errorf("route %s is not in the OpenAPI description: describe it in a fragment of internal/httpapi/openapi (see its README.md)", p)
		}
	}
}

// GET /api/v1/openapi.json serves the description, to anyone, as an OpenAPI 3.1 document.
func TestOpenAPIIsServed(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("GET", "/api/v1/openapi.json", "", nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json = %d %s", res.status, res.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	res.json(t, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	for _, p := range []string{"/api/v1/incidents", "/api/v1/openapi.json", "/api/v1/people/{id}"} {
		if doc.Paths[p] == nil {
			t.Errorf("the served description lacks %s", p)
		}
	}
	if !json.Valid(res.body) {
		t.Error("not JSON")
	}
}
