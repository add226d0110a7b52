package drill_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

const smallOrg = "Dora Directora,dora@example.com,+525500000001,es,directors,\n" +
	"Ana Líder TI,ana@example.com,+525500000003,es,technology:lead,\n" +
	"Bob Developer,bob@example.com,+34600000004,en,technology,\n" +
	"Ed Ops Lead,ed@example.com,+34600000005,en,operations:lead,\n"

func basicPlan(name string, teams ...string) drill.Plan {
	return drill.Plan{
		Name:     name,
		Scenario: drill.Scenario{Title: "Sismo 7.1 en CDMX"},
		Teams:    teams,
		Window:   drill.Duration(30 * time.Minute),
		Criteria: []drill.Criterion{{Scope: "all", Percent: 90, Within: drill.Duration(15 * time.Minute)}},
	}
}

func (e *env) drillIncidents() []incident.Incident {
	e.t.Helper()
	yes := true
	list, err := e.incidents.List(context.Background(), incident.Filter{Drill: &yes})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func TestScheduledDrillFiresOnceAtItsCronTimeAcrossTwoNodes(t *testing.T) {
	eachBackend(t, firesOnce)
}

func firesOnce(t *testing.T, e *env) {
	e.importPeople(smallOrg)
	other := e.open("node-b")
	ctx := context.Background()
	e.at(-time.Hour)
	p := basicPlan("Lunes 10:00", "technology")
	p.Schedule = "0 0 10 * * MON" // 10:00 in Mexico City is 16:00 UTC: t0
	p.Announced = true
	plan := e.savePlan(p)
	if plan.NextRunAt == nil || !plan.NextRunAt.Equal(t0) {
		t.Fatalf("next run at %v, want %v", plan.NextRunAt, t0)
	}
	e.at(-time.Second)
	for _, n := range []*node{e.node, other} {
		if res, err := n.drills.Tick(ctx, e.clock.Now()); err != nil || res != (drill.TickResult{}) {
			t.Fatalf("tick a second early = %+v, %v", res, err)
		}
	}
	// Both nodes tick at the cron time, at once, several times.
	e.at(time.Second)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		started int
	)
	for i := range 6 {
		n := []*node{e.node, other}[i%2]
		wg.Go(func() {
			res, err := n.drills.Tick(ctx, e.clock.Now())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			started += res.Started
			mu.Unlock()
		})
	}
	wg.Wait()
	if started != 1 {
		t.Errorf("started %d runs, want 1", started)
	}
	runs, err := e.drills.Runs(ctx, plan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Status != drill.StatusRunning || runs[0].ScheduledFor == nil || !runs[0].ScheduledFor.Equal(t0) ||
		runs[0].Trigger != drill.TriggerSchedule || !runs[0].Announced {
		t.Fatalf("runs = %+v", runs)
	}
	if n := len(e.drillIncidents()); n != 1 {
		t.Errorf("%d drill incidents, want 1", n)
	}
	again, _ := e.drills.Plan(ctx, plan.ID)
	if want := t0.Add(7 * 24 * time.Hour); again.NextRunAt == nil || !again.NextRunAt.Equal(want) {
		t.Errorf("next run at %v, want %v", again.NextRunAt, want)
	}
	// The window (from the declaration, a second after the cron time) closes: one node
	// ends it, the other finds nothing to do.
	e.at(30*time.Minute + time.Second)
	var ended int
	for i := range 6 {
		n := []*node{other, e.node}[i%2]
		wg.Go(func() {
			res, err := n.drills.Tick(ctx, e.clock.Now())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			ended += res.Ended
			mu.Unlock()
		})
	}
	wg.Wait()
	if ended != 1 {
		t.Errorf("ended %d, want 1", ended)
	}
	r, _ := e.drills.Run(ctx, runs[0].ID)
	if r.Status != drill.StatusEnded {
		t.Errorf("status %s, want ended", r.Status)
	}
}

func TestScheduledFiringIsSkippedWhenThePreviousRunStillGoesOrTheTimeWasMissed(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	e.at(-time.Minute)
	p := basicPlan("Cada hora", "technology")
	p.Schedule = "0 0 * * * *"
	p.Window = drill.Duration(90 * time.Minute)
	p.Criteria = nil
	plan := e.savePlan(p)
	tick := func(d time.Duration) drill.TickResult {
		t.Helper()
		e.at(d)
		res, err := e.drills.Tick(ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := tick(0); res.Started != 1 {
		t.Fatalf("at the hour: %+v", res)
	}
	if res := tick(time.Hour); res.Skipped != 1 || res.Started != 0 {
		t.Fatalf("an hour later, the first still running: %+v", res)
	}
	if res := tick(90 * time.Minute); res.Ended != 1 {
		t.Fatalf("window closed: %+v", res)
	}
	// No node ran from 1:30 to 5:00: the 2:00 firing is reported missed, not run late.
	if res := tick(5 * time.Hour); res.Skipped != 1 || res.Started != 0 {
		t.Fatalf("after a long outage: %+v", res)
	}
	runs, _ := e.drills.Runs(ctx, plan.ID)
	var got []string
	for _, r := range runs {
		got = append(got, r.Status)
	}
	if want := []string{drill.StatusSkipped, drill.StatusSkipped, drill.StatusEnded}; !slices.Equal(got, want) {
		t.Errorf("runs = %v, want %v", got, want)
	}
	again, _ := e.drills.Plan(ctx, plan.ID)
	if want := t0.Add(6 * time.Hour); !again.NextRunAt.Equal(want) {
		t.Errorf("next run at %v, want %v", again.NextRunAt, want)
	}
}

func TestCancelStopsAllNagging(t *testing.T) {
	eachBackend(t, cancelStops)
}

func cancelStops(t *testing.T, e *env) {
	e.importPeople(smallOrg)
	ctx := context.Background()
	if err := e.ladders.Seed(ctx, e.cfg.Escalation.Ladders); err != nil {
		t.Fatal(err)
	}
	p := basicPlan("Con escalera", "technology", "operations")
	p.Ladder = "p1"
	plan := e.savePlan(p)
	run, err := e.drills.Start(manager, plan.ID, drill.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.consume()
	// The ladder nags for real: at 2 minutes the leads get their reminder SMS.
	e.at(2 * time.Minute)
	res, err := e.engine.Tick(ctx, e.clock.Now())
	if err != nil || res.Deliveries == 0 {
		t.Fatalf("tick at 2m = %+v, %v; want reminders", res, err)
	}
	e.at(3 * time.Minute)
	cancelled, err := e.drills.Cancel(manager, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cancelled.Status != drill.StatusCancelled || cancelled.EndedAt == nil {
		t.Errorf("run after cancel = %+v", cancelled)
	}
	for _, ch := range []string{"webpush", "sms", "voice"} {
		if ds := e.claim(ch); len(ds) != 0 {
			t.Errorf("%d %s deliveries still queued after cancel", len(ds), ch)
		}
	}
	e.consume()
	for _, d := range []time.Duration{4 * time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour} {
		e.at(d)
		res, err := e.engine.Tick(ctx, e.clock.Now())
		if err != nil || res.Deliveries != 0 {
			t.Errorf("escalation tick at %v after cancel = %+v, %v; want nothing sent", d, res, err)
		}
	}
	v, err := e.engine.View(ctx, run.IncidentID)
	if err != nil || v.State != escalation.StateStopped {
		t.Errorf("escalation = %+v, %v", v, err)
	}
	for _, pg := range v.Paged {
		if pg.AcknowledgedAt == nil && pg.StoppedAt == nil {
			t.Errorf("%s is still paged", pg.Name)
		}
	}
	inc, _ := e.incidents.Get(ctx, run.IncidentID)
	if inc.Status != incident.StatusCancelled {
		t.Errorf("incident status %s, want cancelled", inc.Status)
	}
	if _, err := e.drills.Cancel(manager, run.ID); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("second cancel: %v, want conflict", err)
	}
	// The window's close later changes nothing.
	e.at(time.Hour)
	if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Ended != 0 {
		t.Errorf("tick after cancel = %+v, %v", res, err)
	}
}

func TestBadInputIsRefusedAndNothingStarts(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	cases := []struct {
		name  string
		edit  func(*drill.Plan)
		field string
	}{
		{"schedule that does not parse", func(p *drill.Plan) { p.Schedule = "every monday at ten" }, "schedule"},
		{"schedule without seconds", func(p *drill.Plan) { p.Schedule = "0 10 * * MON" }, "schedule"},
		{"empty audience", func(p *drill.Plan) { p.Teams = nil }, "teams"},
		{"unknown team", func(p *drill.Plan) { p.Teams = []string{"marketing"} }, "teams[0]"},
		{"120 percent", func(p *drill.Plan) { p.Criteria[0].Percent = 120 }, "criteria[0].percent"},
		{"0 minutes", func(p *drill.Plan) { p.Criteria[0].Within = 0 }, "criteria[0].within"},
		{"beyond the window", func(p *drill.Plan) { p.Criteria[0].Within = drill.Duration(time.Hour) }, "criteria[0].within"},
		{"team not in the audience", func(p *drill.Plan) { p.Criteria[0].Scope = "team:directors" }, "criteria[0].scope"},
		{"unknown role", func(p *drill.Plan) { p.Criteria[0].Scope = "role:boss" }, "criteria[0].scope"},
		{"unknown ladder", func(p *drill.Plan) { p.Ladder = "nope" }, "ladder"},
		{"unknown channel", func(p *drill.Plan) { p.Channels = []string{"fax"} }, "channels[0]"},
		{"no title", func(p *drill.Plan) { p.Scenario.Title = " " }, "scenario.title"},
		{"window too short", func(p *drill.Plan) { p.Window = drill.Duration(time.Second) }, "window"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := basicPlan("Plan "+c.name, "technology")
			c.edit(&p)
			_, err := e.drills.SavePlan(manager, p, true)
			if optimum.ErrorCode(err) != optimum.EINVALID {
				t.Fatalf("err = %v, want invalid", err)
			}
			if !slices.ContainsFunc(optimum.ErrorFields(err), func(f optimum.FieldError) bool { return f.Field == c.field }) {
				t.Errorf("fields = %v, want %s", optimum.ErrorFields(err), c.field)
			}
		})
	}
	if ps, _ := e.drills.Plans(ctx); len(ps) != 0 {
		t.Errorf("%d plans saved, want 0", len(ps))
	}

	// A team with nobody active: the plan is fine, a run is refused.
	empty := e.savePlan(basicPlan("Continuidad", "continuity"))
	if _, err := e.drills.Start(manager, empty.ID, drill.StartOptions{}); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("start with an empty audience: %v, want invalid", err)
	}
	// Overlapping runs of one plan, or of two plans for the same team.
	tech := e.savePlan(basicPlan("TI", "technology"))
	if _, err := e.drills.Start(manager, tech.ID, drill.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.drills.Start(manager, tech.ID, drill.StartOptions{Force: true}); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("second run of the plan: %v, want conflict", err)
	}
	both := e.savePlan(basicPlan("TI y Ops", "technology", "operations"))
	if _, err := e.drills.Start(manager, both.ID, drill.StartOptions{}); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("another drill for the same team: %v, want conflict", err)
	}
	if n := len(e.drillIncidents()); n != 1 {
		t.Errorf("%d drill incidents, want 1: refusals must start nothing", n)
	}
	runs, _ := e.drills.Runs(ctx, "")
	if len(runs) != 1 {
		t.Errorf("%d runs, want 1", len(runs))
	}
	// Forced, the second plan runs alongside.
	if _, err := e.drills.Start(manager, both.ID, drill.StartOptions{Force: true}); err != nil {
		t.Errorf("forced start: %v", err)
	}
	if err := e.drills.DeletePlan(manager, tech.ID); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("delete a running plan: %v, want conflict", err)
	}
}

func TestAStartLeftByADeadNodeIsFinishedByAnotherWithTheSameIncident(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	plan := e.savePlan(basicPlan("TI", "technology"))
	// Node "dead" claimed a run and declared its incident, then died before recording it.
	actor, _ := optimum.ActorFrom(manager)
	r := drill.Run{ID: "drr_dead", PlanID: plan.ID, Plan: plan, Status: drill.StatusStarting, Trigger: drill.TriggerManual,
		StartedBy: actor, CreatedAt: t0}
	if err := e.db.Drills().CreateRun(ctx, r, "dead", t0.Add(30*time.Second)); err != nil {
		t.Fatal(err)
	}
	inc, _, err := e.incidents.Declare(manager, incident.Declaration{Title: "Sismo 7.1 en CDMX", Impact: "critical", Urgency: "critical",
		Teams: []string{"technology"}, Drill: true}, "drill:drr_dead")
	if err != nil {
		t.Fatal(err)
	}
	e.at(10 * time.Second)
	if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Started != 0 {
		t.Fatalf("tick while the dead node's lease holds = %+v, %v", res, err)
	}
	if _, err := e.drills.Start(manager, plan.ID, drill.StartOptions{}); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("start while the claim holds: %v, want conflict", err)
	}
	e.at(31 * time.Second)
	if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Started != 1 {
		t.Fatalf("tick after the lease = %+v, %v", res, err)
	}
	got, _ := e.drills.Run(ctx, "drr_dead")
	if got.Status != drill.StatusRunning || got.IncidentID != inc.ID {
		t.Errorf("run = %s on %s, want running on %s", got.Status, got.IncidentID, inc.ID)
	}
	if n := len(e.drillIncidents()); n != 1 {
		t.Errorf("%d drill incidents, want 1", n)
	}
	rep, err := e.drills.Report(ctx, "drr_dead")
	if err != nil || rep.Overall.Targeted != 2 {
		t.Errorf("report targets %d, %v; want the 2 technology people", rep.Overall.Targeted, err)
	}
}

func TestTheReportComparesARunWithThePreviousRunsOfItsPlan(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	plan := e.savePlan(basicPlan("TI", "technology"))
	people := e.people()
	first, err := e.drills.Start(manager, plan.ID, drill.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.at(time.Minute)
	e.ack(first.IncidentID, people["ana@example.com"], "web")
	e.at(2 * time.Minute)
	if _, err := e.drills.Cancel(manager, first.ID); err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour)
	second, err := e.drills.Start(manager, plan.ID, drill.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e.at(time.Hour + time.Minute)
	e.ack(second.IncidentID, people["ana@example.com"], "web")
	e.ack(second.IncidentID, people["bob@example.com"], "sms")
	e.at(2 * time.Hour)
	if _, err := e.drills.Tick(ctx, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	rep, err := e.drills.Report(ctx, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Trend {
		got = append(got, fmt.Sprintf("%s %s %v %d/%d", p.RunID, p.Status, p.ConfirmRate, p.CriteriaMet, p.Criteria))
	}
	want := []string{first.ID + " cancelled 0.5 0/1", second.ID + " ended 1 1/1"}
	if !slices.Equal(got, want) {
		t.Errorf("trend = %v, want %v", got, want)
	}
	// The first run's report does not look ahead.
	if rep, _ := e.drills.Report(ctx, first.ID); len(rep.Trend) != 1 {
		t.Errorf("first run's trend = %+v", rep.Trend)
	}
}

func TestARandomizedScheduleAnnouncesTheWeekButNotTheTime(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	sunday := t0.Add(-28 * time.Hour) // Sunday 06:00 in Mexico City
	e.clock.Set(sunday)
	p := basicPlan("Semana de simulacro", "technology")
	p.Schedule = "0 0 9 * * MON" // Monday 9:00 in Mexico City: 15:00 UTC
	p.Randomize = drill.Duration(104 * time.Hour)
	plan := e.savePlan(p)
	monday := time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)
	at := plan.NextRunAt
	if at == nil || at.Before(monday) || !at.Before(monday.Add(104*time.Hour)) {
		t.Fatalf("next run at %v, want within the work week from %v", at, monday)
	}
	other := p
	other.Name = "Otra semana"
	o := e.savePlan(other)
	if o.NextRunAt.Equal(*at) {
		t.Errorf("two plans drew the same moment %v", at)
	}
	if err := e.drills.DeletePlan(manager, o.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at.Add(-time.Second))
	if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Started != 0 {
		t.Fatalf("a second early: %+v, %v", res, err)
	}
	e.clock.Set(*at)
	if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Started != 1 {
		t.Fatalf("at the drawn moment: %+v, %v", res, err)
	}
	again, _ := e.drills.Plan(ctx, plan.ID)
	week := monday.Add(7 * 24 * time.Hour)
	if n := again.NextRunAt; n == nil || n.Before(week) || !n.Before(week.Add(104*time.Hour)) {
		t.Errorf("following run at %v, want within the next work week", n)
	}
	bad := basicPlan("Sin programación", "technology")
	bad.Randomize = drill.Duration(time.Hour)
	if _, err := e.drills.SavePlan(manager, bad, true); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("randomize without a schedule: %v", err)
	}
}
