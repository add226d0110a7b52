// Package openapi holds the OpenAPI 3.1 description of the HTTP API, served at
// GET /api/v1/openapi.json and checked by the API tests: internal/httpapi's test harness
// validates every request it sends and every answer it gets against it, so a handler that
// drifts from the description fails a test.
//
// The description is written as fragment files, one per area of the API, so that a new
// feature adds its own file without touching the others:
//
//   - base.yaml holds the document's head (openapi, info, servers, security schemes) and
//     the shared components every fragment may use by $ref: the Problem schema and the
//     Problem response (#/components/responses/Problem, the default answer of every
//     operation), the ID path parameter (#/components/parameters/ID) and the Token path
//     parameter (#/components/parameters/Token).
//   - every other *.yaml file is a fragment holding only "paths" and, optionally,
//     "components" (schemas, responses, parameters, requestBodies, headers).
//
// JSON merges them into one document. A path, or a component name, defined by two files
// is an error, so each fragment names its own components with its area's prefix
// (Incident…, Person…, Drill…). Shared names (no prefix) live only in base.yaml.
//
// To describe a new route: add (or extend) your area's fragment with the path, its
// operation, a requestBody with additionalProperties: false when the handler refuses
// unknown fields, every answer it gives with its content type, and
// `default: {$ref: '#/components/responses/Problem'}`. The coverage test in
// internal/httpapi fails on a route of Routes() that no fragment describes.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed *.yaml
var files embed.FS

// base is the fragment holding the document's head and the shared components.
const base = "base.yaml"

// JSON returns the merged description as JSON, built once.
var JSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := merge(files)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// merge reads base.yaml, then adds every other fragment's paths and components, refusing
// a path or a component defined twice and any other top-level key in a fragment.
func merge(fsys fs.FS) (map[string]any, error) {
	doc, err := readYAML(fsys, base)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	paths := subMap(doc, "paths")
	components := subMap(doc, "components")
	for _, name := range names {
		if name == base {
			continue
		}
		frag, err := readYAML(fsys, name)
		if err != nil {
			return nil, err
		}
		for key, v := range frag {
			switch key {
			case "paths":
				if err := addAll(paths, v, name, "path"); err != nil {
					return nil, err
				}
			case "components":
				kinds, ok := v.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("openapi: %s: components is not a map", name)
				}
				for kind, entries := range kinds {
					if err := addAll(subMap(components, kind), entries, name, "components."+kind); err != nil {
						return nil, err
					}
				}
			default:
				return nil, fmt.Errorf("openapi: %s: a fragment holds only paths and components, not %q", name, key)
			}
		}
	}
	return doc, nil
}

func addAll(into map[string]any, v any, file, what string) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("openapi: %s: %s is not a map", file, what)
	}
	for k, e := range m {
		if _, dup := into[k]; dup {
			return fmt.Errorf("openapi: %s: %s %q is already described by another file", file, what, k)
		}
		into[k] = e
	}
	return nil
}

// subMap returns m[key] as a map, creating it when absent.
func subMap(m map[string]any, key string) map[string]any {
	if s, ok := m[key].(map[string]any); ok {
		return s
	}
	s := map[string]any{}
	m[key] = s
	return s
}

func readYAML(fsys fs.FS, name string) (map[string]any, error) {
	data, err := fs.ReadFile(fsys, path.Clean(name))
	if err != nil {
		return nil, err
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", name, err)
	}
	m, ok := stringKeys(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("openapi: %s: not a map", name)
	}
	return m, nil
}

// stringKeys turns YAML's non-string keys (status codes such as 200) into strings, as JSON
// needs them.
func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
		return t
	}
	return v
}
