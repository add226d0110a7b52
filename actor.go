package optimum

import "context"

// Role is what an actor may do. Roles are ordered: each includes the rights of those below.
type Role string

// The roles, from the most to the least powerful.
const (
	RoleAdmin     Role = "admin"     // everything, including tokens and users
	RoleManager   Role = "manager"   // continuity manager: directory, ladders, drills, reports
	RoleResponder Role = "responder" // receives, acknowledges and works incidents
	RoleReporter  Role = "reporter"  // declares and follows what they declared
	// RoleLauncher ("lanzador": reception desks, security guards) is a reporter who may
	// declare only from an approved template (docs/security.md, "Roles").
	RoleLauncher Role = "lanzador"
)

var roleRank = map[Role]int{RoleLauncher: 1, RoleReporter: 1, RoleResponder: 2, RoleManager: 3, RoleAdmin: 4}

// Machine roles stand outside the order above: a token of one may call its own routes
// only, and no person's role includes it. Only tokens have them, never users.
const (
	RoleSCIM        Role = "scim"        // an identity provider's provisioning (SCIM, /scim/v2)
	RoleIntegration Role = "integration" // a monitoring system sending alerts (/api/v1/integrations/…)
)

var machineRoles = map[Role]bool{RoleSCIM: true, RoleIntegration: true}

// Valid reports whether r is one of the known roles of people (users and tokens).
func (r Role) Valid() bool { return roleRank[r] > 0 }

// ValidForToken reports whether an API token may have the role: a person's role, or a
// machine role.
func (r Role) ValidForToken() bool { return r.Valid() || machineRoles[r] }

// AtLeast reports whether r includes the rights of min. A machine role includes only
// itself.
func (r Role) AtLeast(min Role) bool {
	if machineRoles[min] || machineRoles[r] {
		return r == min
	}
	return roleRank[r] >= roleRank[min] && roleRank[min] > 0
}

// Actor is who performs an action: a signed-in user, an API token, a person acting through
// a capability link, or the system itself. It is recorded on every event.
type Actor struct {
	ID       string `json:"id"`                  // stable id, e.g. "tok_…", "usr_…", "system"
	Name     string `json:"name"`                // display name
	Role     Role   `json:"role,omitempty"`      // what it may do
	PersonID string `json:"person_id,omitempty"` // the directory person behind it, if any
	// Scope, when set, limits the directory, drills, ladders and reports the actor may
	// touch to these teams and sites (a manager of the Mexico City sites).
	Scope *Scope `json:"scope,omitempty"`
}

// Scope is the teams and sites (ids) a user or token is limited to. A person is in scope
// when they are in one of the teams or at one of the sites.
type Scope struct {
	Teams []string `json:"teams,omitempty"`
	Sites []string `json:"sites,omitempty"`
}

// Limits reports whether the scope limits anything: a nil or empty scope does not.
func (s *Scope) Limits() bool { return s != nil && len(s.Teams)+len(s.Sites) > 0 }

// Limited returns the actor's scope when it limits anything, else nil (admins are never
// limited).
func (a Actor) Limited() *Scope {
	if a.Role == RoleAdmin || !a.Scope.Limits() {
		return nil
	}
	return a.Scope
}

// System is the actor for changes the server makes by itself (escalations, timeouts).
var System = Actor{ID: "system", Name: "OPTIMUM", Role: RoleAdmin}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the context, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
