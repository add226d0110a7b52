package broadcast_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// provider answers what the test says and counts its sends.
type provider struct {
	mu     sync.Mutex
	n      int
	answer func() (bool, error)
}

func (p *provider) Send(context.Context, broadcast.Message) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	if p.answer == nil {
		return false, nil
	}
	return p.answer()
}

func (p *provider) set(answer func() (bool, error)) { p.mu.Lock(); p.answer = answer; p.mu.Unlock() }

var (
	serverError = func() (bool, error) { return true, errors.New("HTTP 500") }
	badNumber   = func() (bool, error) { return false, errors.New("not a valid phone number") }
	badAuth     = func() (bool, error) { return false, fmt.Errorf("HTTP 401: %w", broadcast.ErrProviderAuth) }
)

func newFailover(c *clock) (*broadcast.Failover, *provider, *provider) {
	a, b := &provider{}, &provider{}
	f := broadcast.NewFailover([]broadcast.Provider{{Name: "a", Sender: a}, {Name: "b", Sender: b}},
		broadcast.FailoverOptions{Threshold: 3, Window: 10 * time.Second, Cooldown: time.Minute, Now: c.now})
	return f, a, b
}

func via(t *testing.T, f *broadcast.Failover) string {
	t.Helper()
	p, _, _ := f.SendVia(context.Background(), broadcast.Message{To: "+34600000000"})
	return p
}

func TestFailoverMovesToTheNextProviderAfterThresholdFaultsInTheWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, _ := newFailover(c)
	a.set(serverError)
	// Two faults: under the threshold of 3, still a.
	if got := []string{via(t, f), via(t, f), via(t, f)}; fmt.Sprint(got) != "[a a a]" {
		t.Fatalf("first three sends went through %v, want [a a a] (the third fault trips it after it is made)", got)
	}
	if got := via(t, f); got != "b" {
		t.Errorf("after 3 faults within 10 s the send went through %q, want b", got)
	}
	if f.InUse() != "b" {
		t.Errorf("InUse = %q, want b", f.InUse())
	}
	if down := f.Down(); len(down) != 1 || down[0].Name != "a" || !down[0].Until.Equal(c.now().Add(time.Minute)) {
		t.Errorf("Down = %+v, want a until a minute from now", down)
	}
}

func TestFailoverForgetsFaultsOlderThanTheWindow(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, _ := newFailover(c)
	a.set(serverError)
	via(t, f)
	via(t, f)
	c.add(11 * time.Second) // the two faults are now older than the window
	if got := via(t, f); got != "a" {
		t.Fatalf("third fault went through %q, want a", got)
	}
	if got := via(t, f); got != "a" {
		t.Errorf("with 2 faults within the window the send went through %q, want a (threshold 3)", got)
	}
}

func TestFailoverProbesTheFirstProviderAfterTheCooldown(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, _ := newFailover(c)
	a.set(serverError)
	for range 3 {
		via(t, f)
	}
	c.add(59 * time.Second)
	if got := via(t, f); got != "b" {
		t.Fatalf("59 s into a 1 min cooldown the send went through %q, want b", got)
	}
	c.add(time.Second)
	// The probe fails: a is out for another minute.
	if got := via(t, f); got != "a" {
		t.Fatalf("after the cooldown the send went through %q, want a (a probe)", got)
	}
	if got := via(t, f); got != "b" {
		t.Fatalf("after a failed probe the send went through %q, want b", got)
	}
	c.add(time.Minute)
	a.set(nil) // a works again
	if got := via(t, f); got != "a" {
		t.Fatalf("second probe went through %q, want a", got)
	}
	if got := via(t, f); got != "a" {
		t.Errorf("after a successful probe the send went through %q, want a (back in use)", got)
	}
}

func TestFailoverDoesNotCountFailuresAboutTheRecipient(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, _ := newFailover(c)
	a.set(badNumber)
	for range 5 {
		_, retryable, err := f.SendVia(context.Background(), broadcast.Message{})
		if err == nil || retryable {
			t.Fatalf("an invalid number: retryable %v, err %v; want a permanent error", retryable, err)
		}
	}
	if got := via(t, f); got != "a" {
		t.Errorf("after 5 invalid numbers the send went through %q, want a", got)
	}
}

func TestFailoverRetriesRefusedCredentialsThroughTheNextProvider(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, _ := newFailover(c)
	a.set(badAuth)
	name, retryable, err := f.SendVia(context.Background(), broadcast.Message{})
	if name != "a" || !retryable || !errors.Is(err, broadcast.ErrProviderAuth) {
		t.Errorf("refused credentials with a second provider: %q, retryable %v, %v; want a, retryable", name, retryable, err)
	}
	single := broadcast.NewFailover([]broadcast.Provider{{Name: "a", Sender: a}}, broadcast.FailoverOptions{Now: c.now})
	if _, retryable, _ := single.SendVia(context.Background(), broadcast.Message{}); retryable {
		t.Error("refused credentials with a single provider: retryable, want permanent (nothing else can send it)")
	}
}

func TestFailoverUsesTheProviderBackFirstWhenAllAreOut(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	f, a, b := newFailover(c)
	a.set(serverError)
	b.set(serverError)
	for range 3 {
		via(t, f) // a out until 10:01:00
	}
	c.add(10 * time.Second)
	for range 3 {
		via(t, f) // b out until 10:01:10
	}
	if got := via(t, f); got != "a" {
		t.Errorf("with both out the send went through %q, want a (back first)", got)
	}
}

// BenchmarkFailoverSend measures what the failover adds to each send (picking the
// provider in use, recording the outcome) with senders that do nothing, in parallel.
func BenchmarkFailoverSend(b *testing.B) {
	f := broadcast.NewFailover([]broadcast.Provider{{Name: "a", Sender: &provider{}}, {Name: "b", Sender: &provider{}}}, broadcast.FailoverOptions{})
	m := broadcast.Message{To: "+34600000000"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _, _ = f.SendVia(context.Background(), m)
		}
	})
}
