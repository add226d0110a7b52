package httpapi

import (
	"context"
	"maps"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// templatedDeclaration is the body of POST /api/v1/incidents: a declaration, optionally
// from an approved template (the catalogue managers keep at /api/v1/templates).
type templatedDeclaration struct {
	incident.Declaration
	// Template fills in what the declaration leaves empty from the template: title,
	// description and messages in both languages, services, causes, impact, urgency,
	// teams and the safety poll.
	Template string `json:"template"`
}

// fromTemplate applies the rules of declaring from a template. A lanzador (reception
// desks, security guards) declares only from a template and may add only where it
// happens (location, sites) and whether it is a drill: anything else is 403, and so is
// no template at all. Others may start from a template and change what they like.
func (s *Server) fromTemplate(ctx context.Context, body templatedDeclaration) (incident.Declaration, error) {
	d := body.Declaration
	actor, _ := optimum.ActorFrom(ctx)
	launcher := actor.Role == optimum.RoleLauncher
	if launcher {
		if body.Template == "" {
			return d, optimum.Errorf(optimum.EFORBIDDEN, "Your role declares only from an approved template: choose one (template).")
		}
		if d.Title != "" || d.Description != "" || len(d.Services)+len(d.Causes)+len(d.Teams)+len(d.Channels)+len(d.Messages) > 0 ||
			d.Impact != "" || d.Urgency != "" || d.Ladder != "" || d.SafetyPoll {
			return d, optimum.Errorf(optimum.EFORBIDDEN, "Your role declares only from an approved template: you may add the location, the sites and whether it is a drill, nothing else.")
		}
	}
	if body.Template == "" {
		return d, nil
	}
	t, err := s.Desk.Template(ctx, body.Template)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return d, optimum.Invalid("The declaration has errors.", []optimum.FieldError{{Field: "template", Message: "is not an approved template"}})
	} else if err != nil {
		return d, err
	}
	lang := "es"
	if actor.PersonID != "" {
		if p, err := s.Directory.Person(ctx, actor.PersonID); err == nil && p.Language == "en" {
			lang = "en"
		}
	}
	text := t.Texts[lang]
	if d.Title == "" {
		d.Title = text.Title
	}
	if d.Description == "" {
		d.Description = text.Description
	}
	if len(d.Services) == 0 {
		d.Services = t.Services
	}
	if len(d.Causes) == 0 {
		d.Causes = t.Causes
	}
	if d.Impact == "" {
		d.Impact = t.Impact
	}
	if d.Urgency == "" {
		d.Urgency = t.Urgency
	}
	if len(d.Teams) == 0 {
		d.Teams = t.Teams
	}
	if !d.SafetyPoll {
		d.SafetyPoll = t.SafetyPoll
	}
	if len(d.Messages) == 0 {
		d.Messages = map[string]string{}
		for l, tx := range t.Texts {
			if tx.Message != "" {
				d.Messages[l] = tx.Message
			}
		}
	} else {
		d.Messages = maps.Clone(d.Messages)
	}
	return d, nil
}
