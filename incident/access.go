package incident

import (
	"context"

	"github.com/optimum-bcp/optimum"
)

// Access is what an actor may do with one incident. It is the one visibility rule of
// incidents: the API, the web app's list and the live stream all ask it.
type Access struct {
	// Manage: the whole incident with its timeline, recipients and the management
	// views. Responders and above, and the reporter who declared it.
	Manage bool
	// Answer: the incident itself and the actor's own acknowledgement or safety-poll
	// answer, because the alert was sent to them (they are in its audience or a ladder
	// step paged them), whatever their role.
	Answer bool
}

// Sees reports whether the actor may see the incident at all.
func (a Access) Sees() bool { return a.Manage || a.Answer }

// AccessOf returns what the actor may do with the incident.
func (s *Service) AccessOf(ctx context.Context, actor optimum.Actor, inc Incident) (Access, error) {
	var a Access
	a.Manage = actor.Role.AtLeast(optimum.RoleResponder) || (actor.ID != "" && inc.Reporter.ID == actor.ID)
	if actor.PersonID == "" {
		return a, nil
	}
	in, err := s.store.InAudience(ctx, inc.ID, actor.PersonID)
	a.Answer = in
	return a, err
}
