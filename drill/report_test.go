package drill_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/indicators"
)

// The organisation of the 200-person drill:
//
//	directors   10: 0-1 lead, 2-9 member; phone and a browser each.
//	technology  90: 0-4 lead, 5-79 member, 80-89 backup; 0-29 also have a browser;
//	                80-84 have no phone and no browser.
//	operations 100: 0-4 lead, 5-89 member, 90-99 backup; 90-94 replied STOP;
//	                the SMS to 95-99 fail ("invalid number").
//
// Scripted acknowledgements (from the start):
//
//	directors  i = 0..9  at (i+1) min, by link
//	technology i = 0..59 at (i+1)·30 s, by SMS (even i) or push (odd i)
//	operations i = 0..69 at 20 min, 70..79 at 40 min (after the 30 min window), web
func orgOf200() string {
	var b strings.Builder
	role := func(i, leads, backupFrom int) string {
		switch {
		case i < leads:
			return ":lead"
		case i >= backupFrom:
			return ":backup"
		}
		return ""
	}
	for i := range 10 {
		fmt.Fprintf(&b, "Director %03d,%s,+5255100%05d,es,directors%s,\n", i, email("dir", i), i, role(i, 2, 99))
	}
	for i := range 90 {
		phone := fmt.Sprintf("+5255200%05d", i)
		if i >= 80 && i < 85 {
			phone = ""
		}
		fmt.Fprintf(&b, "Tecnología %03d,%s,%s,es,technology%s,\n", i, email("tec", i), phone, role(i, 5, 80))
	}
	for i := range 100 {
		fmt.Fprintf(&b, "Operaciones %03d,%s,+5255300%05d,en,operations%s,\n", i, email("ops", i), i, role(i, 5, 90))
	}
	return b.String()
}

func TestReportOfADrillOf200PeopleMatchesTheScript(t *testing.T) {
	eachBackend(t, reportOf200)
}

func reportOf200(t *testing.T, e *env) {
	ctx := context.Background()
	e.importPeople(orgOf200())
	people := e.people()
	for i := range 10 {
		e.subscribe(people[email("dir", i)].ID, fmt.Sprintf("dir-%d", i))
	}
	for i := range 30 {
		e.subscribe(people[email("tec", i)].ID, fmt.Sprintf("tec-%d", i))
	}
	for i := 90; i < 95; i++ {
		stop := t0.Add(-time.Hour)
		if err := e.db.Escalation().SetSMSOptOut(ctx, people[email("ops", i)].ID, &stop); err != nil {
			t.Fatal(err)
		}
	}
	e.at(-24 * time.Hour)
	plan := e.savePlan(drill.Plan{
		Name:     "Sismo CDMX",
		Scenario: drill.Scenario{Title: "Sismo 7.1 en CDMX ({date})", Description: "Confirma que estás a salvo.", TitleEN: "7.1 earthquake in Mexico City"},
		Teams:    []string{"directors", "technology", "operations"},
		Channels: []string{"webpush", "sms"},
		Window:   drill.Duration(30 * time.Minute),
		Criteria: []drill.Criterion{
			{Scope: "team:directors", Percent: 100, Within: drill.Duration(15 * time.Minute)},
			{Scope: "all", Percent: 90, Within: drill.Duration(30 * time.Minute)},
			{Scope: "role:lead", Percent: 100, Within: drill.Duration(10 * time.Minute)},
		},
	})

	e.at(0)
	run, err := e.drills.Start(manager, plan.ID, drill.StartOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != drill.StatusRunning || run.Folio == "" || !run.StartedAt.Equal(t0) || !run.EndsAt.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("run = %+v", run)
	}
	inc, err := e.incidents.Get(ctx, run.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	if !inc.Drill || inc.Title != "Sismo 7.1 en CDMX (2026-12-07)" || !slices.Equal(inc.Channels, []string{"webpush", "sms"}) {
		t.Fatalf("incident = drill %v, title %q, channels %v", inc.Drill, inc.Title, inc.Channels)
	}
	e.consume()

	// The dispatcher's part, done by hand: push is sent to everyone with a browser, SMS
	// to every phone that did not opt out, and fails for operations 95-99.
	e.at(5 * time.Second)
	pushes := e.claim("webpush")
	for _, d := range pushes {
		if !strings.HasPrefix(d.Title, "SIMULACRO") {
			t.Errorf("push title %q does not say SIMULACRO first", d.Title)
		}
		if err := e.db.Deliveries().Sent(ctx, d.DeliveryID, d.Attempts, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if len(pushes) != 40 {
		t.Errorf("%d pushes, want 40", len(pushes))
	}
	e.at(10 * time.Second)
	sms := e.claim("sms")
	failing := map[string]bool{}
	for i := 95; i < 100; i++ {
		failing[people[email("ops", i)].ID] = true
	}
	for _, d := range sms {
		lang := "es"
		if strings.HasPrefix(d.To, "+5255300") {
			lang = "en"
		}
		if want := map[string]string{"es": "SIMULACRO", "en": "DRILL"}[lang]; !strings.HasPrefix(d.Text, want) {
			t.Errorf("SMS %q does not start with %s", d.Text, want)
		}
		if failing[d.Recipient] {
			err = e.db.Deliveries().Failed(ctx, d.DeliveryID, d.Attempts, e.clock.Now(), "21211: invalid 'To' number", false)
		} else {
			err = e.db.Deliveries().Sent(ctx, d.DeliveryID, d.Attempts, e.clock.Now())
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(sms) != 190 {
		t.Errorf("%d SMS, want 190 (200 less 5 without a phone, 5 who replied STOP)", len(sms))
	}

	// Acknowledgements at their scripted times, in time order.
	type ack struct {
		at      time.Duration
		email   string
		channel string
	}
	var script []ack
	for i := range 10 {
		script = append(script, ack{time.Duration(i+1) * time.Minute, email("dir", i), "link"})
	}
	for i := range 60 {
		ch := "sms"
		if i%2 == 1 {
			ch = "webpush"
		}
		script = append(script, ack{time.Duration(i+1) * 30 * time.Second, email("tec", i), ch})
	}
	for i := range 80 {
		at := 20 * time.Minute
		if i >= 70 {
			at = 40 * time.Minute
		}
		script = append(script, ack{at, email("ops", i), "web"})
	}
	slices.SortStableFunc(script, func(a, b ack) int { return int(a.at - b.at) })
	ended := false
	for _, a := range script {
		if !ended && a.at > 30*time.Minute {
			// The window closes before the late ones: the run ends itself.
			e.at(30 * time.Minute)
			res, err := e.drills.Tick(ctx, e.clock.Now())
			if err != nil || res.Ended != 1 {
				t.Fatalf("tick at the window's end = %+v, %v", res, err)
			}
			ended = true
		}
		e.at(a.at)
		e.ack(run.IncidentID, people[a.email], a.channel)
	}
	e.consume()

	e.at(time.Hour)
	rep, err := e.drills.Report(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	end := t0.Add(30 * time.Minute)
	h := rep.Header
	if h.Plan != "Sismo CDMX" || h.Scenario != "Sismo 7.1 en CDMX (2026-12-07)" || h.Status != drill.StatusEnded || h.Announced ||
		!slices.Equal(h.Teams, []string{"directors", "technology", "operations"}) || !h.StartedAt.Equal(t0) ||
		!h.EndsAt.Equal(end) || h.EndedAt == nil || !h.EndedAt.Equal(end) || h.Trigger != drill.TriggerManual {
		t.Errorf("header = %+v", h)
	}

	verdicts := []drill.Verdict{
		{Targeted: 10, Needed: 10, InTime: 10, Rate: 1, Result: drill.Met, Due: t0.Add(15 * time.Minute)},
		{Targeted: 200, Needed: 180, InTime: 140, Rate: 0.7, Result: drill.NotMet, Due: t0.Add(30 * time.Minute)},
		{Targeted: 12, Needed: 12, InTime: 7, Rate: 7.0 / 12, Result: drill.NotMet, Due: t0.Add(10 * time.Minute)},
	}
	if len(rep.Criteria) != 3 {
		t.Fatalf("%d verdicts", len(rep.Criteria))
	}
	for i, want := range verdicts {
		got := rep.Criteria[i]
		want.Criterion = plan.Criteria[i]
		if !reflect.DeepEqual(got, want) {
			t.Errorf("criterion %d:\n got %+v\nwant %+v", i, got, want)
		}
	}

	sec := func(v float64) *float64 { return &v }
	fig := func(key string, targeted, reached, acked int, med, p90, max *float64) drill.Figures {
		return drill.Figures{Key: key, Targeted: targeted, Reached: reached, Acknowledged: acked,
			ReachRate: float64(reached) / float64(targeted), ConfirmRate: float64(acked) / float64(targeted),
			AckMedian: med, AckP90: p90, AckMax: max}
	}
	check := func(what string, got, want []drill.Figures) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %d rows, want %d: %+v", what, len(got), len(want), got)
			return
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("%s %s:\n got %s\nwant %s", what, want[i].Key, show(got[i]), show(want[i]))
			}
		}
	}
	check("overall", []drill.Figures{rep.Overall}, []drill.Figures{fig("all", 200, 185, 150, sec(1200), sec(1650), sec(2400))})
	if rep.Overall.ReachRate != 0.925 || rep.Overall.ConfirmRate != 0.75 {
		t.Errorf("overall rates %v %v, want 0.925 0.75", rep.Overall.ReachRate, rep.Overall.ConfirmRate)
	}
	check("team", rep.Teams, []drill.Figures{
		fig("directors", 10, 10, 10, sec(300), sec(540), sec(600)),
		fig("technology", 90, 85, 60, sec(900), sec(1620), sec(1800)),
		fig("operations", 100, 90, 80, sec(1200), sec(2400), sec(2400)),
	})
	check("role", rep.Roles, []drill.Figures{
		fig("lead", 12, 12, 12, sec(120), sec(1200), sec(1200)),
		fig("member", 168, 168, 138, sec(1200), sec(1710), sec(2400)),
		fig("backup", 20, 5, 0, nil, nil, nil),
	})
	check("channel", rep.Channels, []drill.Figures{
		fig("webpush", 40, 40, 40, sec(420), sec(780), sec(900)),
		fig("sms", 190, 185, 150, sec(1200), sec(1650), sec(2400)),
	})
	ackFig := func(key string, n int, med, p90, max float64) drill.Figures {
		r := float64(n) / 200
		return drill.Figures{Key: key, Targeted: 200, Reached: n, Acknowledged: n, ReachRate: r, ConfirmRate: r, AckMedian: &med, AckP90: &p90, AckMax: &max}
	}
	check("ack channel", rep.AckChannels, []drill.Figures{
		ackFig("link", 10, 300, 540, 600),
		ackFig("sms", 30, 870, 1590, 1770),
		ackFig("web", 80, 1200, 2400, 2400),
		ackFig("webpush", 30, 900, 1620, 1800),
	})

	// Late: operations leads 0-4 missed the leads' 10 minutes; operations 70-79
	// acknowledged after the window (and after everyone's 30 minutes).
	var late []string
	for _, l := range rep.Late {
		late = append(late, fmt.Sprintf("%s@%v window=%v %v", l.Name, l.Seconds, l.AfterWindow, l.Criteria))
	}
	var wantLate []string
	for i := range 5 {
		wantLate = append(wantLate, fmt.Sprintf("Operaciones %03d@1200 window=false [2]", i))
	}
	for i := 70; i < 80; i++ {
		wantLate = append(wantLate, fmt.Sprintf("Operaciones %03d@2400 window=true [1]", i))
	}
	if !slices.Equal(late, wantLate) {
		t.Errorf("late =\n%s\nwant\n%s", strings.Join(late, "\n"), strings.Join(wantLate, "\n"))
	}

	var unreached []string
	for _, u := range rep.Unreached {
		unreached = append(unreached, u.Name+": "+u.Reason+" "+u.Error)
	}
	slices.Sort(unreached)
	var wantUnreached []string
	for i := 90; i < 95; i++ {
		wantUnreached = append(wantUnreached, fmt.Sprintf("Operaciones %03d: sms_opted_out ", i))
	}
	for i := 95; i < 100; i++ {
		wantUnreached = append(wantUnreached, fmt.Sprintf("Operaciones %03d: delivery_failed 21211: invalid 'To' number", i))
	}
	for i := 80; i < 85; i++ {
		wantUnreached = append(wantUnreached, fmt.Sprintf("Tecnología %03d: no_channel ", i))
	}
	if !slices.Equal(unreached, wantUnreached) {
		t.Errorf("unreached =\n%s\nwant\n%s", strings.Join(unreached, "\n"), strings.Join(wantUnreached, "\n"))
	}

	// The board's lines agree: 150 acknowledged, 35 reached and pending, 15 unreached.
	states := map[string]int{}
	for _, p := range rep.People {
		states[p.State]++
	}
	if want := map[string]int{"acknowledged": 150, "reached": 35, "unreached": 15}; !reflect.DeepEqual(states, want) {
		t.Errorf("board states = %v, want %v", states, want)
	}

	// Directory fixes: the 5 failing numbers, the 5 people without any channel, and the
	// 150 others reachable only on an unverified phone.
	actions := map[string]int{}
	for _, a := range rep.Hygiene {
		actions[a.Action]++
		if a.Action == drill.ActionFixNumber && (!strings.HasPrefix(a.Name, "Operaciones 09") || a.Detail != "21211: invalid 'To' number") {
			t.Errorf("fix number: %+v", a)
		}
	}
	if want := map[string]int{drill.ActionFixNumber: 5, drill.ActionAddChannel: 5, drill.ActionVerifyChannel: 150}; !reflect.DeepEqual(actions, want) {
		t.Errorf("hygiene = %v, want %v", actions, want)
	}
	if len(rep.Trend) != 1 || rep.Trend[0].RunID != run.ID || rep.Trend[0].ReachRate != 0.925 || rep.Trend[0].ConfirmRate != 0.75 ||
		rep.Trend[0].CriteriaMet != 1 || rep.Trend[0].Criteria != 3 {
		t.Errorf("trend = %+v", rep.Trend)
	}

	// The CSV carries the same figures.
	var csv strings.Builder
	if err := drill.WriteCSV(&csv, rep); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"overall,all,200,185,150,0.9250,0.7500,1200,1650,2400",
		"team,directors,10,10,10,1.0000,1.0000,300,540,600",
		"role,backup,20,5,0,0.2500,0.0000,,,",
		"channel,sms,190,185,150,0.9737,0.7895,1200,1650,2400",
		"criterion,all 90% within 30m0s,200,180,140,0.7000,not_met,,,",
		"hygiene,Operaciones 095,fix_number,21211: invalid 'To' number,,," + people[email("ops", 95)].ID + ",,,",
		"trend," + run.ID + ",200,2026-12-07T16:00:00Z,ended,0.9250,0.7500,1200,1/3,",
	} {
		if !strings.Contains(csv.String(), line+"\n") {
			t.Errorf("CSV lacks %q:\n%s", line, csv.String())
		}
	}

	// The drill stays out of the real figures: a list of real incidents does not show it.
	real := false
	list, err := e.incidents.List(ctx, incidentFilter(&real))
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("real incidents = %d, want 0", len(list))
	}
	// Nor do the indicators: no incident, recipient, delivery or open item.
	ind, err := indicators.New(e.db.Indicators(), e.cfg.IndicatorOptions(e.clock.Now)).
		Compute(ctx, indicators.Query{From: t0.Add(-time.Hour), To: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if ind.Summary.Declared != 0 || ind.Summary.Recipients != 0 || ind.Summary.Acknowledged != 0 || len(ind.Open) != 0 {
		t.Errorf("the drill leaked into the indicators: %+v, open %v", ind.Summary, ind.Open)
	}
	for _, c := range ind.Channels {
		if c.Total != 0 {
			t.Errorf("drill deliveries counted in the channel indicators: %+v", c)
		}
	}
	v, err := e.engine.View(ctx, run.IncidentID)
	if err != nil || v == nil || v.State != escalation.StateStopped {
		t.Errorf("escalation after the window = %+v, %v; want stopped", v, err)
	}
}

func show(f drill.Figures) string {
	p := func(v *float64) string {
		if v == nil {
			return "nil"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("{%s t=%d r=%d a=%d rr=%v cr=%v med=%s p90=%s max=%s}", f.Key, f.Targeted, f.Reached, f.Acknowledged, f.ReachRate, f.ConfirmRate, p(f.AckMedian), p(f.AckP90), p(f.AckMax))
}

func (e *env) subscribe(personID, name string) {
	e.t.Helper()
	sub := webpush.Subscription{Endpoint: "https://push.example.com/" + name, Keys: webpush.BrowserKeys{P256dh: "BP" + name, Auth: "auth-" + name}}
	if _, _, err := e.db.Push().Save(context.Background(), personID, sub, "test"); err != nil {
		e.t.Fatal(err)
	}
}
