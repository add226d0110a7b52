package broadcast

import (
	"context"
	"testing"
	"time"
)

// Sends that all become ready at once (goroutines woken late on a busy machine) start
// at most n within any second: the (n+1)th waits until the first is a second old.
func TestWindowStartsAtMostNSendsInAnySecond(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	clock := t0
	w := newWindow(10)
	w.now = func() time.Time { return clock }
	w.after = func(d time.Duration) <-chan time.Time {
		clock = clock.Add(d) // the wait passes at once, in the test's time
		c := make(chan time.Time, 1)
		c <- clock
		return c
	}
	var starts []time.Time
	for range 35 {
		if err := w.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		starts = append(starts, clock)
	}
	for i := range starts {
		in := 0
		for _, s := range starts[i:] {
			if s.Sub(starts[i]) < time.Second {
				in++
			}
		}
		if in > 10 {
			t.Fatalf("%d sends started within a second of send %d", in, i)
		}
	}
	if !starts[9].Equal(t0) || !starts[10].Equal(t0.Add(time.Second)) || !starts[34].Equal(t0.Add(3*time.Second)) {
		t.Errorf("starts 10, 11, 35 at +%v, +%v, +%v; want 0, 1 s, 3 s", starts[9].Sub(t0), starts[10].Sub(t0), starts[34].Sub(t0))
	}
}

func TestWindowGivesUpWhenTheContextEnds(t *testing.T) {
	w := newWindow(1)
	if err := w.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.wait(ctx); err == nil {
		t.Error("a second start within the second should wait, and give up when the context ends")
	}
}
