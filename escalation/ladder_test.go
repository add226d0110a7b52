package escalation_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/escalation"
)

func TestTheLadderIsChosenByNameThenServiceAndPriorityThenPriority(t *testing.T) {
	ls := []escalation.Ladder{
		{ID: "night"}, // a catch-all: only when nothing more specific fits
		{ID: "payments-any", Services: []string{"payments"}},
		{ID: "p1", Priorities: []string{"P1"}},
		{ID: "payments-p1", Priorities: []string{"P1", "P2"}, Services: []string{"payments"}},
		{ID: "standard", Priorities: []string{"P3", "P4", "P5"}},
	}
	for _, c := range []struct {
		named, priority string
		services        []string
		want            string
	}{
		{"", "P1", nil, "p1"},
		{"", "P1", []string{"email", "payments"}, "payments-p1"},
		{"", "P2", []string{"payments"}, "payments-p1"},
		{"", "P2", []string{"email"}, "night"}, // no P2 ladder without services: the catch-all
		{"", "P4", nil, "standard"},
		{"", "P4", []string{"payments"}, "payments-any"},
		{"night", "P1", []string{"payments"}, "night"}, // named at declaration wins
		{"nope", "P1", nil, ""},
	} {
		got, ok := escalation.Choose(ls, c.named, c.priority, c.services)
		if got.ID != c.want || ok != (c.want != "") {
			t.Errorf("Choose(%q, %s, %v) = %q, %v; want %q", c.named, c.priority, c.services, got.ID, ok, c.want)
		}
	}
}

func TestCronSpecsAreCheckedWithoutPanicking(t *testing.T) {
	for spec, ok := range map[string]bool{
		"* * * * * *": true, "*/5 * * * * *": true, "@every 2s": true, "0 30 9 * * 1-5": true,
		"CRON_TZ=America/Mexico_City 0 0 9 * * *": true,
		"every second": false, "TZ=UTC": false, "61 * * * * *": false, "": false,
	} {
		if err := escalation.ParseSpec(spec); (err == nil) != ok {
			t.Errorf("ParseSpec(%q) = %v, want ok=%v", spec, err, ok)
		}
	}
}

// A tick that panics is logged and the next one still runs (Recover sits inside
// SkipIfStillRunning; the other order stops the job for good, robfig/cron#366).
func TestATickThatPanicsDoesNotStopTheSchedule(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	done := make(chan error, 1)
	go func() {
		done <- escalation.Schedule(ctx, "* * * * * *", time.UTC, slog.New(slog.DiscardHandler), func(context.Context) {
			if calls.Add(1) == 1 {
				panic("first tick fails")
			}
		})
	}()
	deadline := time.Now().Add(15 * time.Second)
	for calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("ticks after a panic: %d", calls.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
