package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// A filter (RFC 7644 §3.4.2.2) as Entra ID and Okta send it, and more: eq, ne, co, sw,
// ew, gt, ge, lt, le, pr; and, or, not, parentheses; value paths
// (emails[type eq "work" and value co "@"]) and Entra's form with a sub-attribute after
// the brackets (emails[type eq "work"].value eq "ana@example.com").

// filter is a parsed filter expression.
type filter interface {
	match(res map[string]any) bool
}

type andFilter struct{ l, r filter }
type orFilter struct{ l, r filter }
type notFilter struct{ f filter }

// compareFilter compares an attribute with a value; op "pr" has no value. inner, when
// set, first keeps the values of a multi-valued attribute that match it (a value path).
type compareFilter struct {
	path      attrPath
	inner     filter
	op        string
	value     any
	caseExact bool
}

// valuePathFilter is a value path alone: true when an element matches.
type valuePathFilter struct {
	path  attrPath
	inner filter
}

func (f andFilter) match(m map[string]any) bool { return f.l.match(m) && f.r.match(m) }
func (f orFilter) match(m map[string]any) bool  { return f.l.match(m) || f.r.match(m) }
func (f notFilter) match(m map[string]any) bool { return !f.f.match(m) }

func (f valuePathFilter) match(m map[string]any) bool {
	for _, el := range elements(m, f.path) {
		if em, ok := el.(map[string]any); ok && f.inner.match(em) {
			return true
		}
	}
	return false
}

func (f compareFilter) match(m map[string]any) bool {
	var values []any
	if f.inner != nil || f.path.attr.multi {
		sub := f.path.sub
		if sub == "" && len(f.path.attr.subs) > 0 {
			sub = "value" // a multi-valued attribute compares by its value
		}
		for _, el := range elements(m, f.path) {
			em, ok := el.(map[string]any)
			if !ok {
				values = append(values, el)
				continue
			}
			if f.inner != nil && !f.inner.match(em) {
				continue
			}
			if v, ok := em[sub]; ok {
				values = append(values, v)
			}
		}
	} else {
		obj := m
		if f.path.ext != "" {
			obj, _ = m[f.path.ext].(map[string]any)
		}
		v, ok := obj[f.path.attr.name]
		if ok && f.path.sub != "" {
			sm, _ := v.(map[string]any)
			v, ok = sm[f.path.sub]
		}
		if ok {
			values = append(values, v)
		}
	}
	for _, v := range values {
		if compare(v, f.op, f.value, f.caseExact) {
			return true
		}
	}
	return false
}

// elements returns the values of a multi-valued attribute of m.
func elements(m map[string]any, p attrPath) []any {
	obj := m
	if p.ext != "" {
		obj, _ = m[p.ext].(map[string]any)
	}
	list, _ := obj[p.attr.name].([]any)
	return list
}

func compare(v any, op string, want any, caseExact bool) bool {
	if op == "pr" {
		switch x := v.(type) {
		case nil:
			return false
		case string:
			return x != ""
		case []any:
			return len(x) > 0
		}
		return true
	}
	switch w := want.(type) {
	case bool:
		b, ok := v.(bool)
		switch op {
		case "eq":
			return ok && b == w
		case "ne":
			return !ok || b != w
		}
		return false
	case nil:
		switch op {
		case "eq":
			return v == nil
		case "ne":
			return v != nil
		}
		return false
	case json.Number:
		a, err1 := strconv.ParseFloat(fmt.Sprint(v), 64)
		b, err2 := w.Float64()
		if err1 != nil || err2 != nil {
			return op == "ne"
		}
		return order(op, a < b, a == b)
	}
	a, ok := v.(string)
	if !ok {
		return op == "ne"
	}
	b := want.(string)
	if !caseExact {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	switch op {
	case "co":
		return strings.Contains(a, b)
	case "sw":
		return strings.HasPrefix(a, b)
	case "ew":
		return strings.HasSuffix(a, b)
	}
	return order(op, a < b, a == b)
}

func order(op string, less, equal bool) bool {
	switch op {
	case "eq":
		return equal
	case "ne":
		return !equal
	case "gt":
		return !less && !equal
	case "ge":
		return !less
	case "lt":
		return less
	case "le":
		return less || equal
	}
	return false
}

// parseFilter parses a filter against a resource's schema; anything wrong is 400
// invalidFilter.
func parseFilter(rs resourceSchema, s string) (filter, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{rs: rs, toks: toks}
	f, err := p.or(false)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, badFilter("unexpected %q", p.toks[p.pos].text)
	}
	return f, nil
}

func badFilter(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "invalidFilter", "The filter is not valid: "+format+".", args...)
}

type token struct {
	text   string
	quoted bool // a string literal
}

func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			out = append(out, token{text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, badFilter("a string is not closed")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, badFilter("bad string %s", clipS(s[i:j+1]))
			}
			out = append(out, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()[]\"", rune(s[j])) {
				j++
			}
			// Entra's valuePath followed by ".value": "]" then ".value" lexes as a word.
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	if len(out) == 0 {
		return nil, badFilter("it is empty")
	}
	return out, nil
}

type parser struct {
	rs   resourceSchema
	toks []token
	pos  int
	// inner is the attribute whose value filter is being parsed (inside [ ]).
	inner *attr
}

func (p *parser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *parser) or(inBrackets bool) (filter, error) {
	l, err := p.and(inBrackets)
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		r, err := p.and(inBrackets)
		if err != nil {
			return nil, err
		}
		l = orFilter{l, r}
	}
	return l, nil
}

func (p *parser) and(inBrackets bool) (filter, error) {
	l, err := p.unary(inBrackets)
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		r, err := p.unary(inBrackets)
		if err != nil {
			return nil, err
		}
		l = andFilter{l, r}
	}
	return l, nil
}

func (p *parser) unary(inBrackets bool) (filter, error) {
	if p.pos >= len(p.toks) {
		return nil, badFilter("it ends too soon")
	}
	if p.peekWord("not") {
		p.pos++
		if p.pos >= len(p.toks) || p.toks[p.pos].text != "(" || p.toks[p.pos].quoted {
			return nil, badFilter("\"not\" must be followed by \"(\"")
		}
		f, err := p.unary(inBrackets)
		if err != nil {
			return nil, err
		}
		return notFilter{f}, nil
	}
	t := p.toks[p.pos]
	if !t.quoted && t.text == "(" {
		p.pos++
		f, err := p.or(inBrackets)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].text != ")" || p.toks[p.pos].quoted {
			return nil, badFilter("a \"(\" is not closed")
		}
		p.pos++
		return f, nil
	}
	return p.attrExpr()
}

var operators = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "ge": true, "lt": true, "le": true, "pr": true}

func (p *parser) attrExpr() (filter, error) {
	t := p.toks[p.pos]
	if t.quoted || !validPathText(t.text) {
		return nil, badFilter("%q is not an attribute", clipS(t.text))
	}
	p.pos++
	var path attrPath
	if p.inner != nil {
		name, ok := p.inner.sub(t.text)
		if !ok {
			return nil, badFilter("%q is not a sub-attribute of %s", clipS(t.text), p.inner.name)
		}
		path = attrPath{attr: attr{name: name}}
	} else {
		var err error
		if path, err = p.rs.parsePath(t.text, "invalidFilter"); err != nil {
			return nil, err
		}
	}
	var inner filter
	if p.pos < len(p.toks) && !p.toks[p.pos].quoted && p.toks[p.pos].text == "[" {
		if p.inner != nil || !path.attr.multi || path.sub != "" {
			return nil, badFilter("%q cannot have a value filter", clipS(t.text))
		}
		p.pos++
		a := path.attr
		p.inner = &a
		f, err := p.or(true)
		p.inner = nil
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].text != "]" || p.toks[p.pos].quoted {
			return nil, badFilter("a \"[\" is not closed")
		}
		p.pos++
		inner = f
		// Entra: emails[type eq "work"].value eq "…"
		if p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.HasPrefix(p.toks[p.pos].text, ".") {
			sub, ok := a.sub(p.toks[p.pos].text[1:])
			if !ok {
				return nil, badFilter("%q is not a sub-attribute of %s", clipS(p.toks[p.pos].text[1:]), a.name)
			}
			path.sub = sub
			p.pos++
		} else {
			return valuePathFilter{path: path, inner: inner}, nil
		}
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].quoted || !operators[strings.ToLower(p.toks[p.pos].text)] {
		return nil, badFilter("%q must be followed by an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)", clipS(t.text))
	}
	op := strings.ToLower(p.toks[p.pos].text)
	p.pos++
	exact := path.ext == "" && (path.attr.name == "id" || path.attr.name == "externalId") && p.inner == nil
	cf := compareFilter{path: path, inner: inner, op: op, caseExact: exact}
	if op == "pr" {
		return cf, nil
	}
	if p.pos >= len(p.toks) {
		return nil, badFilter("%q %s has no value", clipS(t.text), op)
	}
	v := p.toks[p.pos]
	p.pos++
	switch {
	case v.quoted:
		cf.value = v.text
	case v.text == "true" || v.text == "false":
		cf.value = v.text == "true"
	case v.text == "null":
		cf.value = nil
	default:
		if _, err := strconv.ParseFloat(v.text, 64); err != nil {
			return nil, badFilter("%q is not a value (strings go in double quotes)", clipS(v.text))
		}
		cf.value = json.Number(v.text)
	}
	if _, isStr := cf.value.(string); !isStr && (op == "co" || op == "sw" || op == "ew") {
		return nil, badFilter("%s compares strings only", op)
	}
	return cf, nil
}

func validPathText(s string) bool {
	if s == "" || !unicode.IsLetter(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(":._-$", r)) {
			return false
		}
	}
	return true
}
