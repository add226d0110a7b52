package oidc

import (
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
)

// A person's role is the highest role any of their groups maps to; with no mapped
// group, the default role, or a refusal.
func TestRoleIsTheHighestOfTheMappedGroups(t *testing.T) {
	roles := map[string]string{"bcp-admins": "admin", "bcp-managers": "manager", "desk": "responder", "staff": "reporter"}
	cases := []struct {
		groups      []string
		defaultRole string
		want        optimum.Role
		ok          bool
	}{
		{[]string{"staff"}, "", optimum.RoleReporter, true},
		{[]string{"staff", "bcp-managers", "desk"}, "", optimum.RoleManager, true},
		{[]string{"desk", "bcp-admins"}, "", optimum.RoleAdmin, true},
		{[]string{"marketing", "desk"}, "", optimum.RoleResponder, true},
		{[]string{"marketing"}, "", "", false},
		{nil, "", "", false},
		{[]string{"BCP-ADMINS"}, "", "", false}, // groups are compared exactly
		{[]string{"marketing"}, "reporter", optimum.RoleReporter, true},
		{[]string{"bcp-managers"}, "reporter", optimum.RoleManager, true},
	}
	for _, c := range cases {
		p := New(config.SSOProvider{ID: "corp", Roles: roles, DefaultRole: c.defaultRole}, nil, nil)
		got, ok := p.Role(c.groups)
		if got != c.want || ok != c.ok {
			t.Errorf("Role(%q) with default %q = %q, %v; want %q, %v", c.groups, c.defaultRole, got, ok, c.want, c.ok)
		}
	}
}

func TestStringListReadsAListOrOneString(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{[]any{"a", "b", 3.0, "c"}, "[a b c]"},
		{"only", "[only]"},
		{nil, "[]"},
		{map[string]any{"bcp-admin": map[string]any{"123": "org"}, "bcp-desk": map[string]any{}}, "[bcp-admin bcp-desk]"},
		{3.0, "[]"},
	} {
		got := stringList(c.in)
		if s := "[" + strings.Join(got, " ") + "]"; s != c.want {
			t.Errorf("stringList(%v) = %s, want %s", c.in, s, c.want)
		}
	}
}

func TestClaimAtFollowsADottedPathWhenNoClaimHasTheName(t *testing.T) {
	claims := map[string]any{
		"groups":                            []any{"a"},
		"realm_access":                      map[string]any{"roles": []any{"bcp-manager"}},
		"urn:zitadel:iam:org:project:roles": map[string]any{"bcp-admin": map[string]any{}},
		"x.y":                               "whole name wins",
		"x":                                 map[string]any{"y": "nested"},
	}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"groups", "[a]", true},
		{"realm_access.roles", "[bcp-manager]", true},
		{"urn:zitadel:iam:org:project:roles", "[bcp-admin]", true},
		{"x.y", "[whole name wins]", true},
		{"realm_access.missing", "[]", false},
		{"groups.roles", "[]", false},
		{"nothing", "[]", false},
	} {
		v, ok := claimAt(claims, c.name)
		if got := "[" + strings.Join(stringList(v), " ") + "]"; got != c.want || ok != c.ok {
			t.Errorf("claimAt(%q) = %s, %v; want %s, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}
