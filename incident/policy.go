package incident

import (
	"fmt"
	"time"
)

// Policy holds the configurable rules applied at declaration.
type Policy struct {
	// Matrix maps impact, then urgency, to a priority.
	Matrix map[Level]map[Level]Priority
	// Ack and Resolve are the SLA targets per priority.
	Ack, Resolve map[Priority]time.Duration
	// Teams are the known audience teams; DefaultTeams the audience when none is given.
	Teams, DefaultTeams []string
	// Location is the time zone in which folio years turn.
	Location *time.Location
}

// Priority returns the priority of an impact and urgency.
func (p Policy) Priority(impact, urgency Level) (Priority, error) {
	pr, ok := p.Matrix[impact][urgency]
	if !ok {
		return "", fmt.Errorf("no priority for impact %q and urgency %q", impact, urgency)
	}
	return pr, nil
}

// SLA returns the deadlines of an incident of priority pr declared at t.
func (p Policy) SLA(pr Priority, t time.Time) SLA {
	return SLA{AckBy: t.Add(p.Ack[pr]), ResolveBy: t.Add(p.Resolve[pr])}
}

// FolioYear is the year, in the policy's time zone, that numbers an incident declared at t.
func (p Policy) FolioYear(t time.Time) int {
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Year()
}
