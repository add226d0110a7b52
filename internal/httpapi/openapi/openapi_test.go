package openapi

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"
)

// The merged description is an OpenAPI 3.1 document that kin-openapi loads and validates
// under the 3.1 rules (JSON Schema 2020-12).
func TestTheDescriptionIsAValidOpenAPI31Document(t *testing.T) {
	data, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Fragments' paths and components are all there: one of each file.
	for _, p := range []string{"/api/v1/incidents", "/api/v1/people/{id}", "/api/v1/session", "/hooks/twilio/sms", "/api/v1/drills", "/readyz"} {
		if doc.Paths.Value(p) == nil {
			t.Errorf("path %s missing from the merged document", p)
		}
	}
	for _, s := range []string{"Problem", "Incident", "Person", "DrillRun", "PushBrowser", "LadderRecord"} {
		if doc.Components.Schemas[s] == nil {
			t.Errorf("schema %s missing from the merged document", s)
		}
	}
}

const head = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\ncomponents:\n  schemas:\n    Problem: {type: object}\n"

// Two files describing the same path, or defining the same component, or a fragment with
// more than paths and components, are refused with the file named.
func TestMergeRefusesClashes(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"same path", map[string]string{
			"a.yaml": "paths:\n  /x: {get: {responses: {'200': {description: ok}}}}\n",
			"b.yaml": "paths:\n  /x: {post: {responses: {'200': {description: ok}}}}\n",
		}, `b.yaml: path "/x" is already described`},
		{"same component as another fragment", map[string]string{
			"a.yaml": "components:\n  schemas:\n    Thing: {type: object}\n",
			"b.yaml": "components:\n  schemas:\n    Thing: {type: string}\n",
		}, `b.yaml: components.schemas "Thing" is already described`},
		{"a shared component redefined", map[string]string{
			"a.yaml": "components:\n  schemas:\n    Problem: {type: string}\n",
		}, `a.yaml: components.schemas "Problem" is already described`},
		{"another top-level key", map[string]string{
			"a.yaml": "info: {title: mine}\n",
		}, `a.yaml: a fragment holds only paths and components, not "info"`},
		{"not YAML", map[string]string{
			"a.yaml": "paths: [\n",
		}, "a.yaml"},
	} {
		fsys := fstest.MapFS{"base.yaml": {Data: []byte(head)}}
		for n, d := range c.files {
			fsys[n] = &fstest.MapFile{Data: []byte(d)}
		}
		_, err := merge(fsys)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to say %q", c.name, err, c.want)
		}
	}
}

// Fragments' paths and components land in one document, status codes as strings.
func TestMergeJoinsFragments(t *testing.T) {
	fsys := fstest.MapFS{
		"base.yaml": {Data: []byte(head)},
		"a.yaml":    {Data: []byte("paths:\n  /a: {get: {responses: {200: {description: ok}}}}\ncomponents:\n  schemas:\n    AThing: {type: object}\n")},
		"b.yaml":    {Data: []byte("paths:\n  /b: {get: {responses: {204: {description: none}}}}\n")},
	}
	doc, err := merge(fsys)
	if err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	if paths["/a"] == nil || paths["/b"] == nil {
		t.Errorf("paths = %v", paths)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	if schemas["AThing"] == nil || schemas["Problem"] == nil {
		t.Errorf("schemas = %v", schemas)
	}
	resp := paths["/b"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)
	if resp["204"] == nil {
		t.Errorf("responses = %v, want the status as a string key", resp)
	}
}
