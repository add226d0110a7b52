package drill_test

import (
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
)

// The evacuation drill of Torre Norte, by hand: four people, three at Torre Norte (one
// of them also in Madrid), one only in Madrid. Two of Torre Norte acknowledge, the Madrid
// one too. Per site: Torre Norte 3 targeted, 2 acknowledged; Madrid 2 targeted, 2
// acknowledged (Beto counts at both of his sites).
func TestReportHasFiguresPerSite(t *testing.T) {
	start := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	end := start.Add(30 * time.Minute)
	r := drill.Run{ID: "drr_sites", Status: drill.StatusEnded, StartedAt: &start, EndsAt: &end, EndedAt: &end,
		Plan: drill.Plan{Name: "Evacuación", Sites: []string{"torre-norte", "madrid"}, Window: drill.Duration(30 * time.Minute)}}
	target := func(id string, sites ...string) drill.Target {
		return drill.Target{PersonID: id, Name: id, HasPhone: true, Memberships: []contacts.Membership{}, Sites: sites}
	}
	f := drill.Facts{Targets: []drill.Target{
		target("ana", "torre-norte"), target("beto", "torre-norte", "madrid"), target("caro", "torre-norte"), target("dani", "madrid"),
	}}
	for _, id := range []string{"ana", "beto", "dani"} {
		f.Acks = append(f.Acks, drill.AckFact{PersonID: id, Channel: "link", At: start.Add(5 * time.Minute)})
	}
	rep := drill.Compute(r, f, end)
	got := map[string][2]int{}
	var order []string
	for _, g := range rep.Sites {
		got[g.Key] = [2]int{g.Targeted, g.Acknowledged}
		order = append(order, g.Key)
	}
	want := map[string][2]int{"torre-norte": {3, 2}, "madrid": {2, 2}}
	if len(got) != 2 || got["torre-norte"] != want["torre-norte"] || got["madrid"] != want["madrid"] {
		t.Errorf("per site = %v, want %v", got, want)
	}
	if len(order) == 2 && order[0] != "madrid" {
		t.Errorf("sites in order %v, want by id", order)
	}
}
