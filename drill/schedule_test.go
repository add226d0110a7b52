package drill_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/drill"
)

func TestShortestInterval(t *testing.T) {
	from := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC) // a Monday
	for _, tc := range []struct {
		spec string
		want time.Duration
	}{
		{"@every 1s", time.Second},
		{"* * * * * *", time.Second},
		{"0 * * * * *", time.Minute},
		{"0 */30 * * * *", 30 * time.Minute},
		{"0 0 * * * *", time.Hour},
		{"0 0 10 * * MON", 7 * 24 * time.Hour},
		{"0 0 10,11 * * MON", time.Hour},
		{"0 0,5 10 * * FRI", 5 * time.Minute},
		{"* * * 1 1 *", time.Second}, // every second of New Year's Day, a month away
		{"@daily", 24 * time.Hour},
	} {
		s, err := drill.ParseSchedule(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		if got := drill.ShortestInterval(s, from); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.spec, got, tc.want)
		}
	}
}

// A schedule firing more often than the configured minimum (one hour by default) is
// refused on the field schedule, and nothing is saved: "@every 1s" would page whole
// teams every second.
func TestFrequentSchedulesAreRefused(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	for _, tc := range []struct {
		spec string
		ok   bool
	}{
		{"@every 1s", false},
		{"@every 59m", false},
		{"* * * * * *", false},
		{"0 */30 * * * *", false},
		{"0 0,5 10 * * FRI", false},
		{"0 0 * * * *", true}, // hourly: exactly the minimum
		{"0 0 10 * * MON", true},
		{"@every 1h", true},
	} {
		p := basicPlan("Plan "+tc.spec, "technology")
		p.Schedule = tc.spec
		_, err := e.drills.SavePlan(manager, p, true)
		if tc.ok {
			if err != nil {
				t.Errorf("%q refused: %v", tc.spec, err)
			}
			continue
		}
		f := optimum.ErrorFields(err)
		if optimum.ErrorCode(err) != optimum.EINVALID || len(f) != 1 || f[0].Field != "schedule" {
			t.Errorf("%q: err = %v, want invalid on schedule", tc.spec, err)
		}
	}
	plans, _ := e.drills.Plans(context.Background())
	if len(plans) != 3 {
		t.Errorf("%d plans saved, want the 3 allowed", len(plans))
	}

	// A stricter minimum, as configured by drills.min_interval.
	daily := drill.NewService(e.node.db.Drills(), e.incidents, e.dir, e.engine, drill.Options{MinInterval: 24 * time.Hour, Now: e.clock.Now})
	p := basicPlan("Hourly", "technology")
	p.Schedule = "0 0 * * * *"
	if _, err := daily.SavePlan(manager, p, true); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("hourly with a daily minimum: %v", err)
	}
}

// A plan saved while a shorter minimum was allowed (before drills.min_interval existed,
// or before it was raised) does not page every minute: its next firing is recorded as
// skipped, saying why, and it is not scheduled again until someone edits it.
func TestFrequentPlanSavedBeforeIsSkippedOnce(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	lax := drill.NewService(e.node.db.Drills(), e.incidents, e.dir, e.engine, drill.Options{MinInterval: time.Minute, Now: e.clock.Now})
	p := basicPlan("Every minute", "technology")
	p.Schedule = "0 * * * * *"
	saved, err := lax.SavePlan(manager, p, true)
	if err != nil || saved.NextRunAt == nil {
		t.Fatalf("save with a 1-minute minimum: %+v %v", saved, err)
	}
	e.at(time.Minute)
	res, err := e.drills.Tick(ctx, e.clock.Now())
	if err != nil || res.Started != 0 || res.Skipped != 1 {
		t.Fatalf("first tick = %+v, %v; want one skipped firing", res, err)
	}
	runs, _ := e.drills.Runs(ctx, saved.ID)
	if len(runs) != 1 || runs[0].Status != drill.StatusSkipped || !strings.Contains(runs[0].Reason, "too frequent") {
		t.Errorf("runs = %+v", runs)
	}
	for i := 2; i <= 5; i++ {
		e.at(time.Duration(i) * time.Minute)
		if res, err := e.drills.Tick(ctx, e.clock.Now()); err != nil || res.Started+res.Skipped != 0 {
			t.Errorf("tick %d = %+v, %v; want nothing", i, res, err)
		}
	}
	if got, _ := e.drills.Plan(ctx, saved.ID); got.NextRunAt != nil {
		t.Errorf("next run at %v, want none", got.NextRunAt)
	}
	if len(e.drillIncidents()) != 0 {
		t.Error("a drill was declared")
	}
}
