package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/optimum-bcp/optimum"
)

var scopeID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// maxScopeItems is how many teams and how many sites a scope may name.
const maxScopeItems = 50

// CheckScope returns the problems of a scope: team and site ids (lower-case letters,
// digits, '-' and '_'), at most 50 of each, none twice. It does not look the ids up in
// the directory: a scope naming a team that does not exist yet limits to nobody.
func CheckScope(s *optimum.Scope) []optimum.FieldError {
	var f []optimum.FieldError
	for _, l := range []struct {
		field string
		ids   []string
	}{{"scope.teams", s.Teams}, {"scope.sites", s.Sites}} {
		if len(l.ids) > maxScopeItems {
			f = append(f, optimum.FieldError{Field: l.field, Message: fmt.Sprintf("has %d items, at most %d", len(l.ids), maxScopeItems)})
			continue
		}
		for i, id := range l.ids {
			switch {
			case !scopeID.MatchString(id):
				f = append(f, optimum.FieldError{Field: fmt.Sprintf("%s[%d]", l.field, i), Message: fmt.Sprintf("%q is not a team or site id", truncate(id, 40))})
			case slices.Contains(l.ids[:i], id):
				f = append(f, optimum.FieldError{Field: fmt.Sprintf("%s[%d]", l.field, i), Message: fmt.Sprintf("%q is listed twice", id)})
			}
		}
	}
	return f
}

func encodeScope(s *optimum.Scope) string {
	if !s.Limits() {
		return ""
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// CreateScopedToken creates a token limited to the teams and sites of scope (nil or
// empty: no limit) and returns its secret, the only time it is shown.
func (s *Service) CreateScopedToken(ctx context.Context, name string, role optimum.Role, scope *optimum.Scope) (Token, string, error) {
	if !scope.Limits() {
		return s.CreateToken(ctx, name, role)
	}
	name, f := checkName(name, nil)
	f = checkRole(role, f)
	f = append(f, CheckScope(scope)...)
	if role == optimum.RoleAdmin {
		f = append(f, optimum.FieldError{Field: "scope", Message: "an admin cannot be limited to teams or sites"})
	}
	if err := optimum.Invalid("The token has errors.", f); err != nil {
		return Token{}, "", err
	}
	return s.createScopedToken(ctx, name, role, scope, NewSecret("obcp_"))
}
