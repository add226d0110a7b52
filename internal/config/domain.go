package config

import (
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/incident"
)

// IncidentPolicy is the configuration's rules for new incidents: the priority matrix, the
// SLA targets, the teams and the time zone of folio years. Call Validate first.
func (c Config) IncidentPolicy() incident.Policy {
	p := incident.Policy{
		Matrix:       map[incident.Level]map[incident.Level]incident.Priority{},
		Ack:          map[incident.Priority]time.Duration{},
		Resolve:      map[incident.Priority]time.Duration{},
		Teams:        c.TeamIDs(),
		DefaultTeams: c.Incident.DefaultTeams,
		Location:     c.Location(),
	}
	for impact, row := range c.Incident.Matrix {
		p.Matrix[incident.Level(impact)] = map[incident.Level]incident.Priority{}
		for urgency, pr := range row {
			p.Matrix[incident.Level(impact)][incident.Level(urgency)] = incident.Priority(pr)
		}
	}
	for pr, s := range c.Incident.SLA {
		p.Ack[incident.Priority(pr)] = time.Duration(s.Acknowledge)
		p.Resolve[incident.Priority(pr)] = time.Duration(s.Resolve)
	}
	return p
}

// TeamInputs are the configured teams, as the directory creates them at start.
func (c Config) TeamInputs() []contacts.TeamInput {
	out := make([]contacts.TeamInput, len(c.Teams))
	for i, t := range c.Teams {
		out[i] = contacts.TeamInput{ID: t.ID, NameES: t.Name.ES, NameEN: t.Name.EN}
	}
	return out
}
