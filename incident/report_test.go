package incident_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// A timeline built by hand: declared at 15:00 (P1: acknowledge within 5 min, resolve
// within 4 h), acknowledged at 15:07 (late), escalated at 15:05, two updates, resolved
// at 16:00, reopened at 16:30, resolved again at 17:10 and closed at 18:00.
func TestReportFiguresMatchAHandBuiltTimeline(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 22, h, m, 0, 0, time.UTC) }
	inc := incident.Incident{ID: "inc_1", Folio: "BCP-2026-000007", Title: "Caída del CPD", Priority: "P1",
		Impact: incident.Critical, Urgency: incident.High, Status: incident.StatusClosed, CreatedAt: at(15, 0),
		SLA: incident.SLA{AckBy: at(15, 5), ResolveBy: at(19, 0)}, Services: []string{"erp"}, Audience: 12}
	actor := &optimum.Actor{ID: "tok_a", Name: "Ana"}
	ev := func(typ string, when time.Time, data map[string]any) optimum.Event {
		b, _ := json.Marshal(data)
		return optimum.Event{Type: typ, At: when, Actor: actor, Data: b}
	}
	events := []optimum.Event{
		ev(incident.EventDeclared, at(15, 0), nil),
		ev("incident.escalated", at(15, 5), map[string]any{"kind": "hierarchical", "to": "direccion", "reason": "sin acuse"}),
		ev(incident.EventAcknowledged, at(15, 7), map[string]any{"channel": "sms"}),
		ev(incident.EventAcknowledged, at(15, 9), map[string]any{"channel": "web"}),
		ev(incident.EventTransitioned, at(15, 10), map[string]any{"from": "acknowledged", "to": "investigating"}),
		ev(incident.EventUpdatePosted, at(15, 30), map[string]any{"known": "UPS en batería", "doing": "planta"}),
		ev(incident.EventUpdatePosted, at(15, 45), map[string]any{"known": "planta arrancó"}),
		ev(incident.EventTransitioned, at(16, 0), map[string]any{"from": "investigating", "to": "resolved", "note": "planta"}),
		ev(incident.EventTransitioned, at(16, 30), map[string]any{"from": "resolved", "to": "reopened", "note": "sigue sin luz"}),
		ev(incident.EventTransitioned, at(17, 10), map[string]any{"from": "reopened", "to": "resolved", "note": "breaker"}),
		ev(incident.EventTransitioned, at(17, 50), map[string]any{"from": "resolved", "to": "verified"}),
		ev(incident.EventTransitioned, at(18, 0), map[string]any{"from": "verified", "to": "closed"}),
	}
	figures := []incident.ChannelFigures{{Channel: "sms", Total: 12, Delivered: 10, Failed: 2}}
	r := incident.BuildReport(inc, events, figures, at(20, 0))

	if got := *r.TimeToAcknowledge.Seconds; got != 7*60 || *r.TimeToAcknowledge.Met || r.TimeToAcknowledge.TargetSeconds != 300 {
		t.Errorf("time to acknowledge = %ds met %v target %d; want 420s, missed, 300", got, *r.TimeToAcknowledge.Met, r.TimeToAcknowledge.TargetSeconds)
	}
	if got := *r.TimeToResolve.Seconds; got != 2*3600+10*60 || !*r.TimeToResolve.Met || r.TimeToResolve.TargetSeconds != 4*3600 {
		t.Errorf("time to resolve = %ds met %v; want 7800s (the last resolution), met", got, *r.TimeToResolve.Met)
	}
	if r.Acknowledgements != 2 || r.Escalations != 1 || r.Updates != 2 || r.Reopenings != 1 {
		t.Errorf("acks %d escalations %d updates %d reopenings %d; want 2 1 2 1", r.Acknowledgements, r.Escalations, r.Updates, r.Reopenings)
	}
	var kinds []string
	for _, e := range r.Timeline {
		kinds = append(kinds, e.Kind)
	}
	want := "declared escalated acknowledged investigating update update resolved reopened resolved verified closed"
	if strings.Join(kinds, " ") != want {
		t.Errorf("timeline %v\nwant      %s", kinds, want)
	}
	md := r.Markdown("es")
	for _, s := range []string{"# Informe posterior a la crisis: BCP-2026-000007", "7m0s (objetivo 5m0s, incumplido)", "2h10m0s (objetivo 4h0m0s, cumplido)", "| sms | 12 | 0 | 0 | 10 | 2 | 0 |", "## Factores contribuyentes"} {
		if !strings.Contains(md, s) {
			t.Errorf("markdown lacks %q:\n%s", s, md)
		}
	}
	if !strings.Contains(md, "| reabierta | Ana | sigue sin luz |") || !strings.Contains(md, "Estado: cerrada.") {
		t.Errorf("markdown not in Spanish:\n%s", md)
	}
	// Investigating without an acknowledgement owns it: that is the acknowledgement.
	worked := incident.BuildReport(inc, []optimum.Event{events[0], ev(incident.EventTransitioned, at(15, 3), map[string]any{"to": "investigating"})}, nil, at(15, 10))
	if s := worked.TimeToAcknowledge.Seconds; s == nil || *s != 180 || !*worked.TimeToAcknowledge.Met {
		t.Errorf("investigating at 15:03 = %+v, want acknowledged in 180 s, met", worked.TimeToAcknowledge)
	}
	// Not yet acknowledged and past the deadline: missed, with no time.
	open := incident.BuildReport(inc, events[:2], nil, at(15, 6))
	if open.TimeToAcknowledge.Seconds != nil || open.TimeToAcknowledge.Met == nil || *open.TimeToAcknowledge.Met {
		t.Errorf("unacknowledged past the deadline = %+v, want missed", open.TimeToAcknowledge)
	}
	if open.TimeToResolve.Met != nil {
		t.Errorf("unresolved before the deadline = %+v, want pending", open.TimeToResolve)
	}
}
