package scim

import (
	"net/http"
	"slices"
	"strings"
)

// attr is an attribute of a resource's schema, as far as this provider knows it: its
// canonical name, its sub-attributes when complex, and whether it is multi-valued.
type attr struct {
	name  string
	subs  []string
	multi bool
}

// resourceSchema is the attributes of a resource type, core and extension.
type resourceSchema struct {
	urn        string // of the core schema
	core       []attr
	extensions map[string][]attr // by schema URN
}

var multiSubs = []string{"value", "display", "type", "primary", "$ref"}

var userSchema = resourceSchema{
	urn: UserSchema,
	core: []attr{
		{name: "schemas", multi: true}, {name: "id"}, {name: "externalId"},
		{name: "meta", subs: []string{"resourceType", "created", "lastModified", "location", "version"}},
		{name: "userName"},
		{name: "name", subs: []string{"formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"}},
		{name: "displayName"}, {name: "nickName"}, {name: "profileUrl"}, {name: "title"}, {name: "userType"},
		{name: "preferredLanguage"}, {name: "locale"}, {name: "timezone"}, {name: "active"}, {name: "password"},
		{name: "emails", subs: multiSubs, multi: true}, {name: "phoneNumbers", subs: multiSubs, multi: true},
		{name: "ims", subs: multiSubs, multi: true}, {name: "photos", subs: multiSubs, multi: true},
		{name: "addresses", subs: []string{"formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"}, multi: true},
		{name: "groups", subs: multiSubs, multi: true}, {name: "entitlements", subs: multiSubs, multi: true},
		{name: "roles", subs: multiSubs, multi: true}, {name: "x509Certificates", subs: multiSubs, multi: true},
	},
	extensions: map[string][]attr{
		EnterpriseSchema: {
			{name: "employeeNumber"}, {name: "costCenter"}, {name: "organization"}, {name: "division"}, {name: "department"},
			{name: "manager", subs: []string{"value", "$ref", "displayName"}},
		},
		// sites: [{value: a site's id or name, primary}], the primary first; primarySite:
		// one site, for a provider that maps a single string (Entra ID's custom
		// attributes), put first among the sites.
		OptimumSchema: {
			{name: "sites", subs: []string{"value", "display", "primary"}, multi: true},
			{name: "primarySite"},
		},
	},
}

var groupSchema = resourceSchema{
	urn: GroupSchema,
	core: []attr{
		{name: "schemas", multi: true}, {name: "id"}, {name: "externalId"},
		{name: "meta", subs: []string{"resourceType", "created", "lastModified", "location", "version"}},
		{name: "displayName"}, {name: "members", subs: multiSubs, multi: true},
	},
}

// find returns the attribute named name (any case) of the core schema, or of the
// extension ext when ext is not "".
func (rs resourceSchema) find(ext, name string) (attr, bool) {
	list := rs.core
	if ext != "" {
		list = rs.extensions[ext]
	}
	for _, a := range list {
		if strings.EqualFold(a.name, name) {
			return a, true
		}
	}
	return attr{}, false
}

// extension returns the canonical URN of the extension named (any case) by urn.
func (rs resourceSchema) extension(urn string) (string, bool) {
	for u := range rs.extensions {
		if strings.EqualFold(u, urn) {
			return u, true
		}
	}
	return "", false
}

func (a attr) sub(name string) (string, bool) {
	for _, s := range a.subs {
		if strings.EqualFold(s, name) {
			return s, true
		}
	}
	return "", false
}

// attrPath is a resolved attribute path: an optional extension URN, the attribute and
// an optional sub-attribute, in their canonical spelling.
type attrPath struct {
	ext  string
	attr attr
	sub  string
}

// parsePath resolves "userName", "name.givenName", "emails.value",
// "urn:…:enterprise:2.0:User:manager" or "urn:…:enterprise:2.0:User:manager.value".
// An unknown attribute is an error of the given scimType (invalidFilter in a filter,
// invalidPath in a PATCH).
func (rs resourceSchema) parsePath(s, errType string) (attrPath, error) {
	var p attrPath
	rest := s
	if strings.HasPrefix(strings.ToLower(s), "urn:") {
		i := strings.LastIndex(s, ":")
		urn, ok := rs.extension(s[:i])
		if !ok {
			if strings.EqualFold(s[:i], rs.urn) {
				rest = s[i+1:]
			} else {
				return p, errorf(http.StatusBadRequest, errType, "%q names an unknown schema.", clipS(s))
			}
		} else {
			p.ext, rest = urn, s[i+1:]
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	a, ok := rs.find(p.ext, name)
	if !ok {
		return p, errorf(http.StatusBadRequest, errType, "%q is not an attribute of this resource.", clipS(s))
	}
	p.attr = a
	if hasSub {
		sc, ok := a.sub(sub)
		if !ok {
			return p, errorf(http.StatusBadRequest, errType, "%q is not an attribute of this resource.", clipS(s))
		}
		p.sub = sc
	}
	return p, nil
}

// canonical checks a resource body's attributes against the schema and returns it with
// every name in its canonical spelling. An attribute the schema does not have is 400
// invalidSyntax: an identity provider sending one is mapped wrongly, and a silent drop
// would hide it.
func (rs resourceSchema) canonical(body map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range body {
		if urn, ok := rs.extension(k); ok {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q must be an object.", urn)
			}
			ext := map[string]any{}
			for ek, ev := range m {
				a, ok := rs.find(urn, ek)
				if !ok {
					return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q is not an attribute of %s.", clipS(ek), urn)
				}
				cv, err := canonicalValue(a, ev)
				if err != nil {
					return nil, err
				}
				ext[a.name] = cv
			}
			out[urn] = ext
			continue
		}
		a, ok := rs.find("", k)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q is not an attribute of this resource.", clipS(k))
		}
		cv, err := canonicalValue(a, v)
		if err != nil {
			return nil, err
		}
		out[a.name] = cv
	}
	return out, nil
}

func canonicalValue(a attr, v any) (any, error) {
	if len(a.subs) == 0 || v == nil {
		return v, nil
	}
	obj := func(x any) (map[string]any, error) {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q must hold objects.", a.name)
		}
		out := map[string]any{}
		for k, sv := range m {
			name, ok := a.sub(k)
			if !ok {
				return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q is not an attribute of %s.", clipS(k), a.name)
			}
			out[name] = sv
		}
		return out, nil
	}
	if !a.multi {
		if str, ok := v.(string); ok && slices.Contains(a.subs, "value") {
			v = map[string]any{"value": str} // Entra: "manager": "<id>"
		}
		return obj(v)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q must be an array.", a.name)
	}
	out := make([]any, 0, len(list))
	for _, x := range list {
		if str, ok := x.(string); ok && slices.Contains(a.subs, "value") {
			x = map[string]any{"value": str} // Okta's string arrays: ["torre-norte"]
		}
		m, err := obj(x)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func clipS(s string) string {
	if len(s) <= 60 {
		return s
	}
	return s[:60] + "…"
}
