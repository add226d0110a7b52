package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/chat/chattest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The drill report says, per team of the drill, whether its chat channels got the alert,
// when, and what the service answered or the error: ops' Teams channel (Workflows
// answers 202) and its Slack channel (chat.postMessage answers ok with the message's
// ts), sec's Teams channel that answers 410 (failed, the reason), and legal, which has
// no channel. The incident's posts carry the team too (the incident page groups them).
func TestDrillReportSaysWhatEachTeamChatGot(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { drillReportTeamChats(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		drillReportTeamChats(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func drillReportTeamChats(t *testing.T, extra map[string]string) {
	fake := chattest.New()
	defer fake.Close()
	fake.AddSlackBot("xoxb-ops-bot", "C0OPS")
	fake.AnswerAlways("/teams/sec", http.StatusGone)
	_, api := startChatServer(t, fake, extra)
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Luz Mar,luz@example.com,+52 55 1111 2222,es,legal:lead,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	var opsTeams, opsSlack, sec created
	api.call("POST", "/api/v1/chat-channels", `{"team":"ops","kind":"teams","name":"Ops en Teams","url":"`+fake.URL+`/teams/ops"}`, 201, &opsTeams)
	api.call("POST", "/api/v1/chat-channels", `{"team":"ops","kind":"slack","name":"Ops en Slack","token":"xoxb-ops-bot","channel":"C0OPS","language":"en"}`, 201, &opsSlack)
	api.call("POST", "/api/v1/chat-channels", `{"team":"sec","kind":"teams","name":"Seguridad","url":"`+fake.URL+`/teams/sec"}`, 201, &sec)

	api.call("POST", "/api/v1/drills", `{"name":"Chats","scenario":{"title":"Corte de red"},"teams":["ops","sec","legal"],
		"window":"15m","criteria":[{"scope":"all","percent":50,"within":"10m"}]}`, 201, nil)
	var run struct {
		ID    string `json:"id"`
		Folio string `json:"folio"`
	}
	api.call("POST", "/api/v1/drills/chats/runs", "", 201, &run)

	type post struct {
		Subscription string     `json:"subscription"`
		Kind         string     `json:"kind"`
		Name         string     `json:"name"`
		Title        string     `json:"title"`
		Status       string     `json:"status"`
		QueuedAt     time.Time  `json:"queued_at"`
		SentAt       *time.Time `json:"sent_at"`
		Answer       string     `json:"answer"`
		Error        string     `json:"error"`
	}
	type teamChat struct {
		Team     string `json:"team"`
		Channels []post `json:"channels"`
	}
	var rep struct {
		Header struct {
			Folio string `json:"folio"`
		} `json:"header"`
		TeamChats []teamChat `json:"team_chats"`
	}
	settled := func(p post) bool { return p.Status == "sent" || p.Status == "failed" }
	eventually(t, "the report's team chats settled", func() bool {
		api.call("GET", "/api/v1/drill-runs/"+run.ID+"/report", "", 200, &rep)
		return len(rep.TeamChats) == 3 && len(rep.TeamChats[0].Channels) == 2 && len(rep.TeamChats[1].Channels) == 1 &&
			settled(rep.TeamChats[0].Channels[0]) && settled(rep.TeamChats[0].Channels[1]) && settled(rep.TeamChats[1].Channels[0])
	})
	// What each team's channel got, written out: the teams in the plan's order, a team's
	// channels by name.
	want := []struct {
		team   string
		subs   []string
		status []string
		answer []string // the service's answer, or a part of the error
		title  []string // how the alert's title starts, in the channel's language
	}{
		{"ops", []string{opsSlack.ID, opsTeams.ID}, []string{"sent", "sent"},
			[]string{"slack answered ok (channel C0OPS, message 1700000000.000100)", "the endpoint answered 202 Accepted"},
			[]string{"DRILL · Alert P", "SIMULACRO · Alerta P"}},
		{"sec", []string{sec.ID}, []string{"failed"}, []string{"the endpoint answered 410 Gone"}, []string{"SIMULACRO · Alerta P"}},
		{"legal", nil, nil, nil, nil},
	}
	for i, w := range want {
		got := rep.TeamChats[i]
		if got.Team != w.team || len(got.Channels) != len(w.subs) {
			t.Fatalf("team chat %d = %+v, want team %s with %d channels", i, got, w.team, len(w.subs))
		}
		for j, c := range got.Channels {
			if c.Subscription != w.subs[j] || c.Status != w.status[j] {
				t.Errorf("%s channel %d = %+v, want %s %s", w.team, j, c, w.subs[j], w.status[j])
			}
			if !strings.HasPrefix(c.Title, w.title[j]) || !strings.Contains(c.Title, rep.Header.Folio) {
				t.Errorf("%s channel %d got %q, not the drill's alert", w.team, j, c.Title)
			}
			switch c.Status {
			case "sent":
				if c.Answer != w.answer[j] || c.SentAt == nil || c.SentAt.Before(c.QueuedAt) || c.Error != "" {
					t.Errorf("%s channel %d = %+v, want sent after it was queued, answered %q", w.team, j, c, w.answer[j])
				}
			case "failed":
				if !strings.Contains(c.Error, w.answer[j]) || !strings.Contains(c.Answer, w.answer[j]) || c.SentAt != nil {
					t.Errorf("%s channel %d = %+v, want failed with %q", w.team, j, c, w.answer[j])
				}
			}
		}
	}

	// The incident's posts name the team of each channel.
	var posts []struct {
		Subscription string `json:"subscription"`
		Team         string `json:"team"`
	}
	api.call("GET", "/api/v1/incidents/"+rep.Header.Folio+"/chat-posts", "", 200, &posts)
	teamOf := map[string]string{}
	for _, p := range posts {
		teamOf[p.Subscription] = p.Team
	}
	if teamOf[opsTeams.ID] != "ops" || teamOf[opsSlack.ID] != "ops" || teamOf[sec.ID] != "sec" {
		b, _ := json.Marshal(posts)
		t.Errorf("the incident's posts by team: %v\n%s", teamOf, b)
	}
}
