package broadcast

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// ProviderSender is a Sender that says which provider carried each attempt, so the
// attempt is recorded with the provider's name (a Failover, or one provider named).
type ProviderSender interface {
	Sender
	// SendVia is Send that also returns the name of the provider the message went to
	// ("" when it went to none, e.g. refused before any request).
	SendVia(ctx context.Context, m Message) (provider string, retryable bool, err error)
}

// ProviderQueue is a Queue that records which provider carried an attempt. The
// dispatcher uses these instead of Sent, Retry and Failed when the sender is a
// ProviderSender; the guarantees are the same.
type ProviderQueue interface {
	SentVia(ctx context.Context, id string, attempt int, at time.Time, provider string) error
	RetryVia(ctx context.Context, id string, attempt int, at, next time.Time, reason, provider string) error
	FailedVia(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool, provider string) error
}

// ErrProviderAuth marks a failure that is the provider's account's, not the recipient's:
// the provider refused the credentials. A single provider cannot send anything until
// someone fixes its configuration (a permanent failure); a Failover sends through the
// next provider instead.
var ErrProviderAuth = errors.New("the provider refused the credentials")

// Provider is one SMS or voice provider behind a Failover, by name ("twilio", "vonage").
type Provider struct {
	Name   string
	Sender Sender
}

// FailoverOptions tune a Failover. Zero values take the defaults.
type FailoverOptions struct {
	// Threshold provider faults (5xx, timeouts, no answer, refused credentials) within
	// Window take a provider out of use; default 5 within 30 s.
	Threshold int
	Window    time.Duration
	// Cooldown is how long a provider stays out of use before one send tries it again
	// (a probe); default 1 min. A probe that fails takes it out for another Cooldown.
	Cooldown time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
	// Changed, when set, is told when a provider goes out of use (down true) or comes
	// back (metrics, logs). It must not block.
	Changed func(provider string, down bool)
}

// Failover sends each message through the first provider in use, in the configured
// order. A provider whose faults pass the threshold within the window is taken out of
// use, so new sends go to the next one; after the cooldown one send probes it, and a
// success puts it back first in line. The state is this node's own (each node learns
// from its own sends); nothing is lost by it: an attempt that failed is retried by the
// dispatcher like any other, and its retry goes to the provider in use then.
//
// A provider fault is retryable through a Failover with more than one provider, even a
// refusal of the credentials (which a single provider reports as permanent): the next
// provider can send it. A failure about the recipient (an invalid number, an opt-out) is
// not a fault of the provider and is returned as it is.
type Failover struct {
	providers []*providerHealth
	opt       FailoverOptions
}

type providerHealth struct {
	Provider
	mu        sync.Mutex
	faults    []time.Time // within the window, oldest first
	downUntil time.Time   // zero: in use
	probing   bool        // a probe is in flight
}

// NewFailover returns a Failover over providers, in order of preference.
func NewFailover(providers []Provider, opt FailoverOptions) *Failover {
	if opt.Threshold <= 0 {
		opt.Threshold = 5
	}
	if opt.Window <= 0 {
		opt.Window = 30 * time.Second
	}
	if opt.Cooldown <= 0 {
		opt.Cooldown = time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Failover{opt: opt}
	for _, p := range providers {
		f.providers = append(f.providers, &providerHealth{Provider: p})
	}
	return f
}

var _ ProviderSender = (*Failover)(nil)

// Send implements Sender.
func (f *Failover) Send(ctx context.Context, m Message) (bool, error) {
	_, retryable, err := f.SendVia(ctx, m)
	return retryable, err
}

// SendVia sends m through the provider in use and returns its name.
func (f *Failover) SendVia(ctx context.Context, m Message) (string, bool, error) {
	p, probe := f.pick()
	if p == nil {
		return "", false, errors.New("no SMS or voice provider is configured")
	}
	retryable, err := p.Sender.Send(ctx, m)
	fault := err != nil && (retryable || errors.Is(err, ErrProviderAuth))
	f.outcome(p, probe, fault)
	if fault && len(f.providers) > 1 {
		retryable = true
	}
	return p.Name, retryable, err
}

// pick returns the first provider in use, or one due for a probe (probe true). When
// every provider is out of use, the one that comes back first is used anyway: a
// message is never held back for want of a healthy provider.
func (f *Failover) pick() (_ *providerHealth, probe bool) {
	now := f.opt.Now()
	var soonest *providerHealth
	var soonestAt time.Time
	for _, p := range f.providers {
		p.mu.Lock()
		switch {
		case p.downUntil.IsZero():
			p.mu.Unlock()
			return p, false
		case !p.probing && !now.Before(p.downUntil):
			p.probing = true
			p.mu.Unlock()
			return p, true
		}
		if soonest == nil || p.downUntil.Before(soonestAt) {
			soonest, soonestAt = p, p.downUntil
		}
		p.mu.Unlock()
	}
	return soonest, false
}

// outcome records a send's result on p's health.
func (f *Failover) outcome(p *providerHealth, probe, fault bool) {
	now := f.opt.Now()
	var changed, down bool
	p.mu.Lock()
	if probe {
		p.probing = false
	}
	switch {
	case !fault && (probe || !p.downUntil.IsZero()):
		// The provider answered: back in use, its past faults forgotten.
		p.faults, p.downUntil = nil, time.Time{}
		changed = true
	case fault && probe:
		p.downUntil = now.Add(f.opt.Cooldown)
	case fault:
		cut := 0
		for cut < len(p.faults) && now.Sub(p.faults[cut]) >= f.opt.Window {
			cut++
		}
		p.faults = append(p.faults[cut:], now)
		if p.downUntil.IsZero() && len(p.faults) >= f.opt.Threshold {
			p.downUntil, p.faults = now.Add(f.opt.Cooldown), nil
			changed, down = true, true
		} else if !p.downUntil.IsZero() {
			if until := now.Add(f.opt.Cooldown); until.After(p.downUntil) {
				p.downUntil = until
			}
		}
	}
	p.mu.Unlock()
	if !changed {
		return
	}
	if down {
		f.opt.Logger.Warn("SMS/voice provider out of use after repeated failures; sending through the next one", "provider", p.Name, "retry_after", f.opt.Cooldown)
	} else {
		f.opt.Logger.Info("SMS/voice provider back in use", "provider", p.Name)
	}
	if f.opt.Changed != nil {
		f.opt.Changed(p.Name, down)
	}
}

// InUse returns the name of the provider new sends go to now (without probing).
func (f *Failover) InUse() string {
	for _, p := range f.providers {
		p.mu.Lock()
		up := p.downUntil.IsZero()
		p.mu.Unlock()
		if up {
			return p.Name
		}
	}
	if len(f.providers) > 0 {
		return f.providers[0].Name
	}
	return ""
}

// Down returns the providers out of use now and until when, in order of preference.
func (f *Failover) Down() []ProviderDown {
	var out []ProviderDown
	for _, p := range f.providers {
		p.mu.Lock()
		if !p.downUntil.IsZero() {
			out = append(out, ProviderDown{Name: p.Name, Until: p.downUntil})
		}
		p.mu.Unlock()
	}
	return out
}

// ProviderDown is a provider out of use until a probe may try it again.
type ProviderDown struct {
	Name  string
	Until time.Time
}
