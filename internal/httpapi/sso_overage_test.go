package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/oidc/oidctest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Entra ID's groups overage (docs/sso.md): a person in more groups than fit in a token
// gets "_claim_names.groups" (or "hasgroups": true) instead of "groups"; their groups are
// read from Microsoft Graph (a fake on loopback here, which accepts only the access token
// the provider issued for this sign-in), and their role follows them.
func TestSSOGroupsOverageReadsTheGroupsFromGraph(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		op := oidctest.Start(t)
		graph := op.StartGraph(t)
		a := ssoAPI(t, op, func(c *config.Config) { c.SSO.Providers[0].GraphURL = graph.URL })

		op.SignIn(oidctest.User{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: yes(), Name: "Ana Ruiz",
			GroupsOverage: []string{"g-0001", "bcp-managers", "g-0250"}})
		b := newBrowser(t, "")
		if _, res := b.signIn(a); res.status != http.StatusSeeOther {
			t.Fatalf("callback = %d %s", res.status, res.body)
		}
		if status, me := b.me(a); status != 200 || me.Role != optimum.RoleManager {
			t.Fatalf("me = %d %+v, want a manager (bcp-managers, from Graph)", status, me)
		}
		if n := graph.Requests(); n != 1 {
			t.Errorf("Graph answered %d times, want 1", n)
		}

		// The implicit flow's shape, "hasgroups": true: Graph too.
		op.SignIn(oidctest.User{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: yes(), Name: "Ana Ruiz",
			GroupsOverage: []string{"bcp-admins"}, HasGroups: true})
		b2 := newBrowser(t, "")
		if _, res := b2.signIn(a); res.status != http.StatusSeeOther {
			t.Fatalf("callback (hasgroups) = %d %s", res.status, res.body)
		}
		if _, me := b2.me(a); me.Role != optimum.RoleAdmin {
			t.Errorf("with hasgroups: role %s, want admin", me.Role)
		}

		// A token with its groups in it does not ask Graph.
		op.SignIn(oidctest.User{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: yes(), Name: "Ana Ruiz", Groups: []string{"everyone"}})
		if _, res := newBrowser(t, "").signIn(a); res.status != http.StatusSeeOther {
			t.Fatalf("callback (groups in the token) = %d %s", res.status, res.body)
		}
		if n := graph.Requests(); n != 2 {
			t.Errorf("Graph answered %d times, want 2 (not for a token with its groups)", n)
		}
	})
}

// When Graph cannot give the groups (it refuses the token's permissions, or is not
// there), the sign-in is refused with its own page and nothing is created; groups from
// Graph that map to no role are the ordinary "no access" refusal.
func TestSSOGroupsOverageRefusedWhenGraphFails(t *testing.T) {
	overage := oidctest.User{Subject: "sub-eva", Email: "eva@example.com", EmailVerified: yes(), Name: "Eva", GroupsOverage: []string{"bcp-managers"}}
	op := oidctest.Start(t)
	graph := op.StartGraph(t)
	graphURL := graph.URL
	a := ssoAPI(t, op, func(c *config.Config) { c.SSO.Providers[0].GraphURL = graphURL })
	for _, c := range []struct {
		name   string
		user   oidctest.User
		fail   int
		lang   string
		status int
		reason string
		page   string
	}{
		{"Graph refuses the permission", overage, http.StatusForbidden, "", 502, "groups_unavailable", "No pudimos leer tus grupos"},
		{"Graph fails, in English", overage, http.StatusServiceUnavailable, "en", 502, "groups_unavailable", "We could not read your groups"},
		{"Graph's groups map to no role", oidctest.User{Subject: "sub-eva", Email: "eva@example.com", EmailVerified: yes(), GroupsOverage: []string{"g-0001"}},
			0, "", 403, "groups", "Tu cuenta no tiene acceso a OPTIMUM BCP"},
	} {
		t.Run(c.name, func(t *testing.T) {
			op.SignIn(c.user)
			graph.Fail(c.fail)
			b := newBrowser(t, c.lang)
			_, res := b.signIn(a)
			if res.status != c.status || res.header.Get("X-Optimum-Sign-In-Refused") != c.reason || !strings.Contains(string(res.body), c.page) {
				t.Fatalf("callback = %d (%s) %s, want %d %s with %q", res.status, res.header.Get("X-Optimum-Sign-In-Refused"), res.body, c.status, c.reason, c.page)
			}
			if status, _ := b.me(a); status != 401 {
				t.Fatalf("me = %d after a refused sign-in, want 401", status)
			}
			if n := len(a.users()); n != 0 {
				t.Fatalf("%d users after a refused sign-in, want none", n)
			}
			if ev := a.userEvents(); len(ev) != 0 {
				t.Fatalf("user events %v after a refused sign-in, want none", ev)
			}
		})
	}
	// A Graph nobody listens at: refused the same way.
	graph.Fail(0)
	b := newBrowser(t, "")
	op.SignIn(overage)
	a2 := ssoAPI(t, op, func(c *config.Config) { c.SSO.Providers[0].GraphURL = "http://127.0.0.1:1/v1.0" })
	if _, res := b.signIn(a2); res.status != 502 || res.header.Get("X-Optimum-Sign-In-Refused") != "groups_unavailable" {
		t.Fatalf("unreachable Graph: %d %s", res.status, res.body)
	}
	if n := len(a2.users()); n != 0 {
		t.Fatalf("%d users after a refused sign-in, want none", n)
	}
	// Graph answering again lets her in.
	if _, res := newBrowser(t, "").signIn(a); res.status != http.StatusSeeOther {
		t.Fatalf("good sign-in after the refusals = %d %s", res.status, res.body)
	}
}
