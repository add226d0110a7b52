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
)

var roleRank = map[Role]int{RoleReporter: 1, RoleResponder: 2, RoleManager: 3, RoleAdmin: 4}

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
