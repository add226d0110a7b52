package config

import (
	"time"

	"github.com/optimum-bcp/optimum/escalation"
)

// Escalation configures the ladders and the engine that climbs them.
type Escalation struct {
	// Tick is the cron spec (seconds first) on which the engine looks for due work.
	Tick string `yaml:"tick"`
	// Lease is how long a node owns a claimed step or reminder before another may take it.
	Lease Duration `yaml:"lease"`
	// SLATeam is told when an incident's ack_by or resolve_by passes; SLAJump also pages
	// the next step at once when ack_by passes with nobody owning it.
	SLATeam string `yaml:"sla_team"`
	SLAJump bool   `yaml:"sla_jump"`
	// DirectorsTeam is where a hierarchical escalation goes when nobody has a manager.
	DirectorsTeam string `yaml:"directors_team"`
	// ChannelGap is how long after one channel a person who chose an order of channels
	// is reached on the next (escalation.Options.ChannelGap); 0 for all at once.
	ChannelGap Duration `yaml:"channel_gap"`
	// Ladders are stored at start; a ladder edited in the app since is kept.
	Ladders []escalation.Ladder `yaml:"ladders"`
}

func d(v time.Duration) escalation.Duration { return escalation.Duration(v) }

func leads() []escalation.Target {
	return []escalation.Target{{Team: "technology", Roles: []string{"lead"}}, {Team: "operations", Roles: []string{"lead"}}}
}

func defaultEscalation() Escalation {
	alert := []string{"webpush", "sms", "email"}
	return Escalation{
		Tick:          escalation.DefaultTick,
		Lease:         Duration(30 * time.Second),
		SLATeam:       "continuity",
		SLAJump:       true,
		DirectorsTeam: "directors",
		ChannelGap:    Duration(escalation.DefaultChannelGap),
		Ladders: []escalation.Ladder{
			{
				ID: "p1", Name: escalation.Names{ES: "Crisis P1", EN: "P1 crisis"}, Priorities: []string{"P1"}, Repeat: 1,
				Steps: []escalation.Step{
					{Targets: leads(), Owned: "any", Wait: d(5 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}, {After: d(2 * time.Minute), Channels: []string{"sms"}}, {After: d(4 * time.Minute), Channels: []string{"voice"}}}},
					{Targets: []escalation.Target{{Team: "continuity"}}, Owned: "any", Wait: d(5 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}, {After: d(2 * time.Minute), Channels: []string{"voice"}}}},
					{Targets: []escalation.Target{{Team: "directors"}}, Owned: "any", Wait: d(10 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: []string{"webpush", "sms", "voice", "email"}}, {After: d(3 * time.Minute), Channels: []string{"voice"}}}},
				},
			},
			{
				ID: "p2", Name: escalation.Names{ES: "Incidente P2", EN: "P2 incident"}, Priorities: []string{"P2"},
				Steps: []escalation.Step{
					{Targets: leads(), Owned: "any", Wait: d(15 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}, {After: d(5 * time.Minute), Channels: []string{"sms"}}, {After: d(10 * time.Minute), Channels: []string{"voice"}}}},
					{Targets: []escalation.Target{{Team: "continuity"}}, Owned: "any", Wait: d(15 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}, {After: d(10 * time.Minute), Channels: []string{"voice"}}}},
					{Targets: []escalation.Target{{Team: "directors"}}, Owned: "any", Wait: d(30 * time.Minute), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}}},
				},
			},
			{
				ID: "standard", Name: escalation.Names{ES: "Estándar P3-P5", EN: "Standard P3-P5"}, Priorities: []string{"P3", "P4", "P5"},
				Steps: []escalation.Step{
					{Targets: leads(), Owned: "any", Wait: d(time.Hour), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}, {After: d(30 * time.Minute), Channels: []string{"sms"}}}},
					{Targets: []escalation.Target{{Team: "continuity"}}, Owned: "any", Wait: d(2 * time.Hour), Reminders: []escalation.Reminder{
						{After: 0, Channels: alert}}},
				},
			},
		},
	}
}

func (e Escalation) validate(p *problems, teams map[string]bool) {
	if err := escalation.ParseSpec(e.Tick); err != nil {
		p.add("escalation.tick", "%v", err)
	}
	if e.Lease < Duration(5*time.Second) || e.Lease > Duration(10*time.Minute) {
		p.add("escalation.lease", "must be from 5s to 10m")
	}
	if e.ChannelGap < 0 || e.ChannelGap > Duration(5*time.Minute) {
		p.add("escalation.channel_gap", "must be from 0s to 5m")
	}
	if e.SLATeam != "" && !teams[e.SLATeam] {
		p.add("escalation.sla_team", "%q is not one of the teams", e.SLATeam)
	}
	if e.DirectorsTeam == "" || !teams[e.DirectorsTeam] {
		p.add("escalation.directors_team", "%q is not one of the teams", e.DirectorsTeam)
	}
	known := func(team string, _ []string) (int, bool) { return -1, teams[team] }
	for _, f := range escalation.ValidateLadders(e.Ladders, known) {
		p.add("escalation."+f.Field, "%s", f.Message)
	}
}
