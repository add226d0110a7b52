package scim

import (
	"net/http"
	"slices"
	"strings"
)

// patchOp is one operation of a PATCH request (RFC 7644 §3.5.2). op is lower-cased:
// Entra ID sends "Replace", "Add", "Remove".
type patchOp struct {
	op    string
	path  string
	value any
	has   bool // value was given
}

// readPatch reads a PatchOp body: {"schemas": [PatchOp URN], "Operations": [...]}.
func readPatch(w http.ResponseWriter, r *http.Request) ([]patchOp, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	var raw any
	for k, v := range body {
		switch strings.ToLower(k) {
		case "operations":
			raw = v
		case "schemas":
			list, _ := v.([]any)
			if !slices.ContainsFunc(list, func(x any) bool { s, _ := x.(string); return strings.EqualFold(s, PatchSchema) }) {
				return nil, errorf(http.StatusBadRequest, "invalidSyntax", "schemas must name %s.", PatchSchema)
			}
		default:
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q is not a member of a PATCH request.", clipS(k))
		}
	}
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "A PATCH request needs \"Operations\", an array of one or more operations.")
	}
	ops := make([]patchOp, 0, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "Operation %d is not an object.", i+1)
		}
		var o patchOp
		for k, v := range m {
			switch strings.ToLower(k) {
			case "op":
				s, _ := v.(string)
				o.op = strings.ToLower(s)
			case "path":
				s, ok := v.(string)
				if !ok {
					return nil, errorf(http.StatusBadRequest, "invalidPath", "The path of operation %d is not a string.", i+1)
				}
				o.path = strings.TrimSpace(s)
			case "value":
				o.value, o.has = v, true
			default:
				return nil, errorf(http.StatusBadRequest, "invalidSyntax", "%q is not a member of a PATCH operation.", clipS(k))
			}
		}
		switch o.op {
		case "add", "replace":
			if !o.has {
				return nil, errorf(http.StatusBadRequest, "invalidValue", "Operation %d (%s) has no value.", i+1, o.op)
			}
		case "remove":
			if o.path == "" {
				return nil, errorf(http.StatusBadRequest, "noTarget", "Operation %d (remove) has no path.", i+1)
			}
		default:
			return nil, errorf(http.StatusBadRequest, "invalidSyntax", "Operation %d: %q is not add, replace or remove.", i+1, clipS(o.op))
		}
		ops = append(ops, o)
	}
	return ops, nil
}

// patchTarget is a parsed PATCH path: an attribute, maybe a value filter on its
// elements, maybe a sub-attribute.
type patchTarget struct {
	path   attrPath
	filter filter
}

func parseTarget(rs resourceSchema, s string) (patchTarget, error) {
	var t patchTarget
	head, sub := s, ""
	if i := strings.Index(s, "["); i >= 0 {
		j := strings.LastIndex(s, "]")
		if j < i {
			return t, errorf(http.StatusBadRequest, "invalidPath", "%q has a \"[\" that is not closed.", clipS(s))
		}
		head = s[:i]
		rest := s[j+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ".") {
				return t, errorf(http.StatusBadRequest, "invalidPath", "%q is not a path.", clipS(s))
			}
			sub = rest[1:]
		}
		p, err := rs.parsePath(head, "invalidPath")
		if err != nil {
			return t, err
		}
		if !p.attr.multi || p.sub != "" {
			return t, errorf(http.StatusBadRequest, "invalidPath", "%q is not multi-valued: it takes no filter.", clipS(head))
		}
		f, err := parseValueFilter(p.attr, s[i+1:j])
		if err != nil {
			return t, err
		}
		if sub != "" {
			sc, ok := p.attr.sub(sub)
			if !ok {
				return t, errorf(http.StatusBadRequest, "invalidPath", "%q is not an attribute of %s.", clipS(sub), p.attr.name)
			}
			p.sub = sc
		}
		return patchTarget{path: p, filter: f}, nil
	}
	p, err := rs.parsePath(head, "invalidPath")
	if err != nil {
		return t, err
	}
	return patchTarget{path: p}, nil
}

// parseValueFilter parses the filter inside a path's brackets, over the sub-attributes of a.
func parseValueFilter(a attr, s string) (filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidPath", "%s", err.(*Error).Detail)
	}
	p := &parser{toks: toks, inner: &a}
	f, err := p.or(true)
	if err == nil && p.pos < len(p.toks) {
		err = badFilter("unexpected %q", p.toks[p.pos].text)
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidPath", "%s", err.(*Error).Detail)
	}
	return f, nil
}

// applyPatch applies ops to doc (a resource with canonical names), all of them or none:
// doc is changed in place, so callers pass a copy they may throw away. readOnly
// attributes may not be targeted (mutability); required ones may not be removed.
func applyPatch(rs resourceSchema, doc map[string]any, ops []patchOp, readOnly, required []string) error {
	for _, o := range ops {
		if o.path == "" {
			m, ok := o.value.(map[string]any)
			if !ok {
				return errorf(http.StatusBadRequest, "invalidValue", "An operation without a path needs an object as its value.")
			}
			for k, v := range m {
				if ext, ok := rs.extension(k); ok {
					em, ok := v.(map[string]any)
					if !ok {
						return errorf(http.StatusBadRequest, "invalidValue", "%q must be an object.", ext)
					}
					for ek, ev := range em {
						if err := applyOne(rs, doc, patchOp{op: o.op, path: ext + ":" + ek, value: ev, has: true}, readOnly, required); err != nil {
							return err
						}
					}
					continue
				}
				if strings.EqualFold(k, "id") { // Okta and Entra repeat the id: not a change
					continue
				}
				if err := applyOne(rs, doc, patchOp{op: o.op, path: k, value: v, has: true}, readOnly, required); err != nil {
					return err
				}
			}
			continue
		}
		if err := applyOne(rs, doc, o, readOnly, required); err != nil {
			return err
		}
	}
	return nil
}

func applyOne(rs resourceSchema, doc map[string]any, o patchOp, readOnly, required []string) error {
	t, err := parseTarget(rs, o.path)
	if err != nil {
		return err
	}
	a := t.path.attr
	if t.path.ext == "" && slices.Contains(readOnly, a.name) {
		return errorf(http.StatusBadRequest, "mutability", "%s cannot be changed.", a.name)
	}
	if o.op == "remove" && t.path.ext == "" && t.path.sub == "" && t.filter == nil && slices.Contains(required, a.name) {
		return errorf(http.StatusBadRequest, "mutability", "%s is required: it cannot be removed.", a.name)
	}
	obj := doc
	if t.path.ext != "" {
		m, ok := doc[t.path.ext].(map[string]any)
		if !ok {
			if o.op == "remove" {
				return nil
			}
			m = map[string]any{}
			doc[t.path.ext] = m
		}
		obj = m
	}
	if a.multi {
		return applyMulti(obj, t, o)
	}
	if t.path.sub != "" {
		if o.op == "remove" {
			if m, ok := obj[a.name].(map[string]any); ok {
				delete(m, t.path.sub)
			}
			return nil
		}
		m, ok := obj[a.name].(map[string]any)
		if !ok {
			m = map[string]any{}
			obj[a.name] = m
		}
		m[t.path.sub] = o.value
		return nil
	}
	switch o.op {
	case "remove":
		delete(obj, a.name)
	case "add", "replace":
		v, err := canonicalValue(a, o.value)
		if err != nil {
			return err
		}
		if old, ok := obj[a.name].(map[string]any); ok && o.op == "add" {
			if nv, ok := v.(map[string]any); ok { // add merges into a complex attribute
				for k, x := range nv {
					old[k] = x
				}
				return nil
			}
		}
		obj[a.name] = v
	}
	return nil
}

// applyMulti applies an operation to a multi-valued attribute.
func applyMulti(obj map[string]any, t patchTarget, o patchOp) error {
	a := t.path.attr
	list, _ := obj[a.name].([]any)
	values := func() ([]any, error) {
		v := o.value
		if _, isList := v.([]any); !isList {
			v = []any{v}
		}
		cv, err := canonicalValue(a, v)
		if err != nil {
			return nil, err
		}
		return cv.([]any), nil
	}
	if t.filter == nil && t.path.sub == "" {
		switch o.op {
		case "replace":
			v, err := values()
			if err != nil {
				return err
			}
			obj[a.name] = v
		case "add":
			v, err := values()
			if err != nil {
				return err
			}
			for _, x := range v {
				if !slices.ContainsFunc(list, func(y any) bool { return sameValue(x, y) }) {
					list = append(list, x)
				}
			}
			obj[a.name] = list
		case "remove":
			if !o.has { // the whole attribute
				delete(obj, a.name)
				return nil
			}
			v, err := values() // old Entra: remove these values
			if err != nil {
				return err
			}
			obj[a.name] = slices.DeleteFunc(list, func(y any) bool {
				return slices.ContainsFunc(v, func(x any) bool { return sameValue(x, y) })
			})
		}
		return nil
	}
	matched := false
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok || (t.filter != nil && !t.filter.match(m)) {
			continue
		}
		matched = true
		switch {
		case o.op == "remove" && t.path.sub == "":
			list[i] = nil
		case o.op == "remove":
			delete(m, t.path.sub)
		case t.path.sub != "":
			m[t.path.sub] = o.value
		default:
			nv, ok := o.value.(map[string]any)
			if !ok {
				return errorf(http.StatusBadRequest, "invalidValue", "The value for %s must be an object.", o.path)
			}
			cv, err := canonicalValue(attr{name: a.name, subs: a.subs}, nv)
			if err != nil {
				return err
			}
			for k, x := range cv.(map[string]any) {
				m[k] = x
			}
		}
	}
	if o.op == "remove" {
		obj[a.name] = slices.DeleteFunc(list, func(x any) bool { return x == nil })
		return nil
	}
	if matched {
		return nil
	}
	// Nothing matched: Entra ID adds emails[type eq "work"].value this way, so an
	// element of that type is created. Any other filter has no target.
	typ, ok := typeOf(t.filter)
	if !ok {
		return errorf(http.StatusBadRequest, "noTarget", "%s matches no value.", clipS(o.path))
	}
	el := map[string]any{"type": typ}
	if t.path.sub != "" {
		el[t.path.sub] = o.value
	} else if nv, ok := o.value.(map[string]any); ok {
		for k, x := range nv {
			el[k] = x
		}
	}
	obj[a.name] = append(list, el)
	return nil
}

// typeOf returns X when f is `type eq "X"`.
func typeOf(f filter) (string, bool) { return eqValue(f, "type") }

// eqValue returns X when f is `name eq "X"`.
func eqValue(f filter, name string) (string, bool) {
	c, ok := f.(compareFilter)
	if !ok || c.op != "eq" || c.path.attr.name != name {
		return "", false
	}
	s, ok := c.value.(string)
	return s, ok
}

// sameValue reports whether two elements of a multi-valued attribute have one value.
func sameValue(x, y any) bool {
	xm, _ := x.(map[string]any)
	ym, _ := y.(map[string]any)
	if xm == nil || ym == nil {
		return x == y
	}
	return xm["value"] != nil && xm["value"] == ym["value"]
}
