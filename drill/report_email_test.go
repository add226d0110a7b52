package drill_test

import (
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
)

// Email is a channel of the drill report: its figures, each person's line, and why
// someone was not reached (an address the server refused; an address but a plan without
// email; no address at all).
func TestDrillReportCountsEmail(t *testing.T) {
	start := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	sent := start.Add(5 * time.Second)
	team := []contacts.Membership{{Team: "technology", Role: "member"}}
	run := func(channels []string) drill.Run {
		return drill.Run{ID: "drr_1", Status: drill.StatusEnded, StartedAt: &start, EndsAt: &end, EndedAt: &end,
			Plan: drill.Plan{Name: "Email", Teams: []string{"technology"}, Channels: channels, Window: drill.Duration(30 * time.Minute)}}
	}
	f := drill.Facts{
		Targets: []drill.Target{
			{PersonID: "ana", Name: "Ana", HasEmail: true, Memberships: team},
			{PersonID: "bob", Name: "Bob", HasEmail: true, Memberships: team},
			{PersonID: "eve", Name: "Eve", Memberships: team},
		},
		Deliveries: []drill.DeliveryFact{
			{PersonID: "ana", Channel: "email", Status: "sent", ReachedAt: &sent},
			{PersonID: "bob", Channel: "email", Status: "failed", Error: "email to bob@example.com via mail: the server answered 550 5.1.1"},
		},
		Acks: []drill.AckFact{{PersonID: "ana", Channel: "link", At: start.Add(time.Minute)}},
	}
	rep := drill.Compute(run(nil), f, end)
	var email *drill.Figures
	for i := range rep.Channels {
		if rep.Channels[i].Key == "email" {
			email = &rep.Channels[i]
		}
	}
	if email == nil || email.Targeted != 2 || email.Reached != 1 || email.Acknowledged != 1 {
		t.Fatalf("email figures = %+v (all channels %+v), want 2 targeted, 1 reached, 1 acknowledged", email, rep.Channels)
	}
	lines := map[string]drill.PersonLine{}
	for _, p := range rep.People {
		lines[p.PersonID] = p
	}
	if c := lines["ana"].Channels; len(c) != 1 || c[0].Channel != "email" || c[0].Status != "sent" || lines["ana"].State != "acknowledged" {
		t.Errorf("Ana's line = %+v", lines["ana"])
	}
	why := map[string]drill.Unreached{}
	for _, u := range rep.Unreached {
		why[u.PersonID] = u
	}
	if u := why["bob"]; u.Reason != "delivery_failed" || u.Error != "email to bob@example.com via mail: the server answered 550 5.1.1" {
		t.Errorf("Bob unreached = %+v, want failed with the server's answer", u)
	}
	if u := why["eve"]; u.Reason != "no_channel" {
		t.Errorf("Eve unreached = %+v, want no_channel", u)
	}

	// Without an SMTP server no email goes out: an address alone reaches nobody.
	f.Deliveries = nil
	rep = drill.Compute(run(nil), f, end)
	for _, u := range rep.Unreached {
		if u.Reason != "no_channel" {
			t.Errorf("%s without email deliveries = %+v, want no_channel", u.Name, u)
		}
	}
	for _, c := range rep.Channels {
		if c.Key == "email" {
			t.Errorf("email figures without any email sent: %+v", c)
		}
	}

	// A plan that names email: Bob has an address and nothing was sent yet.
	rep = drill.Compute(run([]string{"email"}), f, end)
	for _, u := range rep.Unreached {
		if want := map[string]string{"ana": "pending", "bob": "pending", "eve": "no_channel"}[u.PersonID]; u.Reason != want {
			t.Errorf("%s with an email plan = %+v, want %s", u.Name, u, want)
		}
	}
}
