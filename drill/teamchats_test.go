package drill_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/drill"
)

// The report lists the drill's teams in the plan's order, each with the alert's post to
// each of its chat channels (or none), then any other team whose channel got a post (a
// functional escalation to it). Expected values written out by hand.
func TestReportTeamChatsPerTeam(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	sent := start.Add(2 * time.Second)
	run := drill.Run{ID: "drr_1", Plan: drill.Plan{ID: "p", Name: "P", Teams: []string{"ops", "sec", "legal"}}, StartedAt: &start}
	facts := drill.Facts{Chats: []drill.ChatFact{
		{Team: "finance", Subscription: "chs_4", Kind: "slack", Name: "Finanzas", Title: "SIMULACRO · Escalado a tu equipo P2", Status: "sent",
			QueuedAt: start.Add(time.Minute), SentAt: &sent, Answer: "slack answered ok"},
		{Team: "ops", Subscription: "chs_1", Kind: "teams", Name: "Ops", Title: "SIMULACRO · Alerta P2", Status: "sent",
			QueuedAt: start, SentAt: &sent, Answer: "the endpoint answered 202 Accepted"},
		{Team: "sec", Subscription: "chs_2", Kind: "teams", Name: "Sec", Title: "SIMULACRO · Alerta P2", Status: "failed",
			QueuedAt: start, Answer: "the endpoint answered 410 Gone", Error: "the address no longer exists: the endpoint answered 410 Gone"},
		{Team: "ops", Subscription: "chs_3", Kind: "slack", Name: "Ops Slack", Title: "DRILL · Alert P2", Status: "queued", QueuedAt: start},
	}}
	got := drill.Compute(run, facts, start.Add(time.Hour)).TeamChats
	want := []drill.TeamChat{
		{Team: "ops", Channels: []drill.TeamChatPost{
			{Subscription: "chs_1", Kind: "teams", Name: "Ops", Title: "SIMULACRO · Alerta P2", Status: "sent", QueuedAt: start, SentAt: &sent,
				Answer: "the endpoint answered 202 Accepted"},
			{Subscription: "chs_3", Kind: "slack", Name: "Ops Slack", Title: "DRILL · Alert P2", Status: "queued", QueuedAt: start},
		}},
		{Team: "sec", Channels: []drill.TeamChatPost{
			{Subscription: "chs_2", Kind: "teams", Name: "Sec", Title: "SIMULACRO · Alerta P2", Status: "failed", QueuedAt: start,
				Answer: "the endpoint answered 410 Gone", Error: "the address no longer exists: the endpoint answered 410 Gone"},
		}},
		{Team: "legal", Channels: []drill.TeamChatPost{}},
		{Team: "finance", Channels: []drill.TeamChatPost{
			{Subscription: "chs_4", Kind: "slack", Name: "Finanzas", Title: "SIMULACRO · Escalado a tu equipo P2", Status: "sent",
				QueuedAt: start.Add(time.Minute), SentAt: &sent, Answer: "slack answered ok"},
		}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("team chats =\n%+v\nwant\n%+v", got, want)
	}
	// No chat facts: every team of the drill, none with a channel; never null in JSON.
	if got := drill.Compute(run, drill.Facts{}, start).TeamChats; !reflect.DeepEqual(got, []drill.TeamChat{
		{Team: "ops", Channels: []drill.TeamChatPost{}}, {Team: "sec", Channels: []drill.TeamChatPost{}}, {Team: "legal", Channels: []drill.TeamChatPost{}}}) {
		t.Errorf("without posts: %+v", got)
	}
}
