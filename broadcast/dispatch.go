package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Delivery statuses. A delivery moves forward only: queued → sending → sent →
// delivered, or to failed / undelivered; retries go back to queued with a later due time.
const (
	StatusQueued      = "queued"
	StatusSending     = "sending"
	StatusSent        = "sent"
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
	StatusFailed      = "failed"
	StatusCancelled   = "cancelled"
)

// Delivery is one message to one recipient on one channel: the dispatcher's unit of work.
type Delivery struct {
	Message
	// Subject is what the delivery is about (an incident id); Recipient who it is for.
	Subject   string
	Recipient string
	Status    string
	Attempts  int
	// DueAt is when to send (or retry); Deadline when to give up retrying.
	DueAt    time.Time
	Deadline time.Time
	// Resent is true when the previous attempt's outcome is unknown (its lease expired:
	// the process died mid-send), so this send may reach the person twice.
	Resent bool
	// Priority ("P1" … "P5") and Drill are those of the incident the delivery is about,
	// and Audience says it is the general audience's first alert or an update to
	// everyone (not a ladder step's page, a reminder or a notice to one person): together
	// they choose its lane (LaneOf), what goes first when the channel is the bottleneck.
	Priority string
	Drill    bool
	Audience bool
	// Fallback is another address of the recipient on the same channel (a second
	// phone): when this delivery fails for good (refused, given up, or reported failed
	// or undelivered by the provider), the queue sends the same message there, once,
	// unless the recipient acknowledged the subject meanwhile. "" for none. An opt-out
	// (a failure with gone) is the person's choice and falls back to nothing.
	Fallback string
}

// Queue keeps deliveries. Claim hands out due deliveries under a lease, so two
// dispatchers (or two nodes) never send the same one at once, and a crashed dispatcher's
// deliveries are sent again once their lease expires: at least once, never lost.
type Queue interface {
	// Claim leases up to limit due deliveries of one channel.
	Claim(ctx context.Context, owner, channel string, now time.Time, lease time.Duration, limit int) ([]Delivery, error)
	// Sent records that the provider accepted the delivery.
	Sent(ctx context.Context, id string, attempt int, at time.Time) error
	// Retry puts the delivery back for a later attempt, with the reason.
	Retry(ctx context.Context, id string, attempt int, at, next time.Time, reason string) error
	// Failed records a final failure; gone says the address no longer exists, or (SMS)
	// that the person opted out of messages from this sender.
	Failed(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool) error
	// Extend renews the lease of a claimed delivery's attempt until until; false when the
	// attempt is no longer the current one (its lease ran out and another dispatcher
	// claimed it), and then it must not be sent.
	Extend(ctx context.Context, id string, attempt int, until time.Time) (bool, error)
}

// DispatcherOptions tune a Dispatcher. Zero values take the defaults.
type DispatcherOptions struct {
	Concurrency int                // sends in flight at once per channel; default 16
	Lease       time.Duration      // how long a claimed delivery is ours; default 2 min
	Poll        time.Duration      // how often to look for due work without a wake-up; default 1 s
	MinBackoff  time.Duration      // first retry delay; default 2 s
	MaxBackoff  time.Duration      // longest retry delay; default 2 min
	Rates       map[string]float64 // messages a second per channel, never exceeded; 0 or absent: unlimited
	Owner       string             // lease owner name (node id)
	// SharedLimit, when set, keeps each channel's rate across every node (ratelimit.go).
	SharedLimit RateLimiter
	Logger      *slog.Logger
	Now         func() time.Time
	// Observe, when set, is told how long each provider call took and whether it
	// succeeded (metrics). It must not block.
	Observe func(channel string, ok bool, took time.Duration)
	// ObserveClaim, when set, is told how long each claim took. It must not block.
	ObserveClaim func(channel string, took time.Duration)
	// Prepare, when set, finishes a message right before each attempt to send it
	// (escalation.Links fills in one-tap links, which are never stored). An error is
	// retried like a provider's, except ErrSuperseded, which fails the delivery at once.
	Prepare func(ctx context.Context, d *Delivery) error
}

// Prepares chains Prepare hooks: each finishes its part of the message, in order; the
// first error stops the chain.
func Prepares(hooks ...func(ctx context.Context, d *Delivery) error) func(ctx context.Context, d *Delivery) error {
	return func(ctx context.Context, d *Delivery) error {
		for _, h := range hooks {
			if err := h(ctx, d); err != nil {
				return err
			}
		}
		return nil
	}
}

// RateMargin is the share of a configured rate the dispatcher actually uses. A limiter
// spaces its grants exactly, but each send then takes its own path through the scheduler
// and the network, so sends granted 5 ms apart may reach the provider 1 ms apart; the
// delivery benchmark measured up to 8% more requests in one second at the provider than
// the limiter granted. Running 3% under the configured rate keeps the provider's count
// within the limit and still uses 97% of it.
const RateMargin = 0.97

// Dispatcher sends queued deliveries through the sender of their channel, with bounded
// concurrency and a rate limit per channel, and retries with backoff and jitter up to
// each delivery's deadline. Permanent failures are never retried. Each channel is claimed
// and sent on its own, so SMS waiting for their rate limit never hold back pushes.
type Dispatcher struct {
	queue   Queue
	senders map[string]Sender
	limits  map[string]*rate.Limiter
	windows map[string]*window
	opt     DispatcherOptions
	wake    map[string]chan struct{}
}

// NewDispatcher returns a dispatcher for the senders, keyed by channel.
func NewDispatcher(q Queue, senders map[string]Sender, opt DispatcherOptions) *Dispatcher {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.Lease <= 0 {
		opt.Lease = 2 * time.Minute
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 2 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = 2 * time.Minute
	}
	if opt.Owner == "" {
		opt.Owner = "dispatcher"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	d := &Dispatcher{queue: q, senders: senders, limits: map[string]*rate.Limiter{}, windows: map[string]*window{}, opt: opt, wake: map[string]chan struct{}{}}
	for _, ch := range d.channels() {
		d.wake[ch] = make(chan struct{}, 1)
	}
	for ch, r := range opt.Rates {
		if r > 0 {
			// A burst of 1 never exceeds the rate, even after an idle spell.
			d.limits[ch] = rate.NewLimiter(rate.Limit(r*RateMargin), 1)
			d.windows[ch] = newWindow(int(r))
		}
	}
	return d
}

// channels are the channels the dispatcher claims: those with a sender, and the known
// ones without (their deliveries fail at once with the reason, rather than wait forever).
func (d *Dispatcher) channels() []string {
	var out []string
	for ch := range d.senders {
		out = append(out, ch)
	}
	for _, ch := range []string{ChannelWebPush, ChannelSMS, ChannelVoice, ChannelEmail} {
		if _, ok := d.senders[ch]; !ok {
			out = append(out, ch)
		}
	}
	return out
}

// Wake makes the dispatcher look for due work now (after new deliveries are queued).
func (d *Dispatcher) Wake() {
	for ch := range d.wake {
		d.wakeChannel(ch)
	}
}

func (d *Dispatcher) wakeChannel(ch string) {
	select {
	case d.wake[ch] <- struct{}{}:
	default:
	}
}

// Run sends until ctx is done, then waits for the sends in flight.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for ch := range d.wake {
		wg.Go(func() { d.runChannel(ctx, ch) })
	}
	wg.Wait()
	return nil
}

// runChannel claims and sends one channel's deliveries, at most Concurrency at once.
func (d *Dispatcher) runChannel(ctx context.Context, channel string) {
	if d.limits[channel] != nil {
		d.runLimited(ctx, channel)
		return
	}
	slots := make(chan struct{}, d.opt.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	poll := time.NewTicker(d.opt.Poll)
	defer poll.Stop()
	for {
		free := cap(slots) - len(slots)
		var batch []Delivery
		if free > 0 {
			var err error
			batch, err = d.claim(ctx, channel, d.opt.Now(), free)
			if err != nil && ctx.Err() == nil {
				d.opt.Logger.Warn("dispatcher: claim", "channel", channel, "err", err)
			}
		}
		for _, del := range batch {
			slots <- struct{}{}
			wg.Go(func() {
				// A freed slot means more due work can be claimed now, not at the next poll.
				defer func() { <-slots; d.wakeChannel(channel) }()
				d.send(ctx, del)
			})
		}
		if len(batch) == free && free > 0 {
			continue // there may be more due work
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake[channel]:
		case <-poll.C:
		}
	}
}

// runLimited claims and sends the deliveries of a channel with a rate limit. It claims
// only when the deliveries it claimed before have had their turns, and no more than a
// tenth of a second's worth (ClaimAhead: one at 10 SMS a second), and renews a delivery's
// lease while it waits for the rate limit: a lease covers the send, not a queue of
// claimed deliveries (which expired under a slow rate and had other dispatchers send them
// again). And a delivery queued in a better lane is claimed at the next claim, behind at
// most the ones already claimed.
func (d *Dispatcher) runLimited(ctx context.Context, channel string) {
	slots := make(chan struct{}, d.opt.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	poll := time.NewTicker(d.opt.Poll)
	defer poll.Stop()
	ahead := ClaimAhead(d.opt.Rates[channel], d.opt.Concurrency)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		n := 1 // slots held for the claim: one per delivery it may return
	more:
		for n < ahead {
			select {
			case slots <- struct{}{}:
				n++
			default:
				break more
			}
		}
		claimed := d.opt.Now() // the lease runs from here, however long the claim waits for the database
		batch, err := d.claim(ctx, channel, claimed, n)
		if err != nil && ctx.Err() == nil {
			d.opt.Logger.Warn("dispatcher: claim", "channel", channel, "err", err)
		}
		for range n - len(batch) {
			<-slots
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-d.wake[channel]:
			case <-poll.C:
			}
			continue
		}
		for _, del := range batch {
			if !d.awaitTurn(ctx, del, claimed) {
				<-slots
				continue
			}
			wg.Go(func() {
				defer func() { <-slots }()
				d.send(ctx, del)
			})
		}
	}
}

// claim leases up to n due deliveries of the channel, telling ObserveClaim how long it took.
func (d *Dispatcher) claim(ctx context.Context, channel string, now time.Time, n int) ([]Delivery, error) {
	start := time.Now()
	batch, err := d.queue.Claim(ctx, d.opt.Owner, channel, now, d.opt.Lease, n)
	if d.opt.ObserveClaim != nil {
		d.opt.ObserveClaim(channel, time.Since(start))
	}
	return batch, err
}

// ClaimAhead is how many deliveries of a channel limited to rate a second a dispatcher
// claims at once: a tenth of a second's worth (at least one, at most concurrency). One
// claim per send would cap the rate at one over the claim's time (a busy SQLite writer
// can take 10 ms: 100 a second); claiming more would hold back a better lane's delivery
// queued meanwhile, and make claimed deliveries wait longer in their lease.
func ClaimAhead(rate float64, concurrency int) int {
	return max(1, min(concurrency, int(rate/10)))
}

// awaitTurn waits for the rate limit's turn of a claimed delivery (leased at leased),
// renewing its lease every third of the lease meanwhile, and once more before the send
// if more than a third of the lease has passed (a long wait, or a claim that waited long
// for the database).
// It returns false when the delivery must not be sent:
// its lease was lost (recorded by whoever claimed it since), or the dispatcher is
// stopping (then the attempt is put back in the queue with the reason, so another
// dispatcher sends it at once and the record says why the attempt made no request).
func (d *Dispatcher) awaitTurn(ctx context.Context, del Delivery, leased time.Time) bool {
	turn, cancel := context.WithCancel(ctx)
	defer cancel()
	got := make(chan error, 1)
	go func() { got <- d.waitTurn(turn, del.Channel) }()
	renew := time.NewTicker(max(d.opt.Lease/3, time.Millisecond))
	defer renew.Stop()
	extend := func() bool {
		now := d.opt.Now()
		ok, err := d.queue.Extend(context.WithoutCancel(ctx), del.ID(), del.Attempts, now.Add(d.opt.Lease))
		if err != nil {
			d.opt.Logger.Warn("dispatcher: renewing a lease", "delivery", del.ID(), "err", err)
			return now.Sub(leased) < d.opt.Lease/2 // the lease still covers a send
		}
		if ok {
			leased = now
		}
		return ok
	}
	for {
		select {
		case err := <-got:
			if err != nil {
				d.record(d.queue.Retry(context.WithoutCancel(ctx), del.ID(), del.Attempts, d.opt.Now(), d.opt.Now(),
					"not sent: the dispatcher stopped while it waited for the rate limit; queued again"))
				return false
			}
			if d.opt.Now().Sub(leased) > d.opt.Lease/3 && !extend() {
				return false
			}
			return true
		case <-renew.C:
			if !extend() {
				d.opt.Logger.Warn("dispatcher: lost the lease of a delivery waiting for the rate limit; not sending it", "delivery", del.ID())
				return false
			}
		}
	}
}

// send makes one attempt and records its outcome. A send in flight is not cut short
// when the dispatcher stops: it runs to its end (at most nine tenths of the lease, which
// was just taken or renewed) and its outcome is recorded, so a shutdown never leaves a message the
// provider accepted to be sent again, nor an attempt without a recorded outcome.
func (d *Dispatcher) send(ctx context.Context, del Delivery) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.opt.Lease*9/10)
	defer cancel()
	sender, ok := d.senders[del.Channel]
	if !ok {
		d.record(d.queue.Failed(ctx, del.ID(), del.Attempts, d.opt.Now(), "no sender is configured for channel "+del.Channel, false))
		return
	}
	if w := d.windows[del.Channel]; w != nil {
		// The limiter spaces its grants, but goroutines woken late (a busy machine) can
		// start together; the window holds any that would make more than the rate start
		// within one second on this node. It is the last step before the request, in the
		// same goroutine, so what it counts is what the provider sees.
		if err := w.wait(ctx); err != nil {
			d.record(d.queue.Retry(ctx, del.ID(), del.Attempts, d.opt.Now(), d.opt.Now(), "not sent: "+err.Error()))
			return
		}
	}
	var (
		retryable bool
		err       error
	)
	if d.opt.Prepare != nil {
		if err = d.opt.Prepare(ctx, &del); err != nil {
			retryable, err = true, fmt.Errorf("prepare the message: %w", err)
		}
	}
	m := del.Message
	m.Attempt = del.Attempts
	start := time.Now()
	var provider string
	if err == nil {
		if ps, ok := sender.(ProviderSender); ok {
			provider, retryable, err = ps.SendVia(ctx, m)
		} else {
			retryable, err = sender.Send(ctx, m)
		}
	}
	if d.opt.Observe != nil {
		d.opt.Observe(del.Channel, err == nil, time.Since(start))
	}
	now := d.opt.Now()
	out := outcomes{q: d.queue, provider: provider}
	switch {
	case err == nil:
		d.record(out.sent(ctx, del.ID(), del.Attempts, now))
	case errors.Is(err, ErrGone), errors.Is(err, ErrOptedOut):
		d.record(out.failed(ctx, del.ID(), del.Attempts, now, err.Error(), true))
	case errors.Is(err, ErrSuperseded):
		d.record(out.failed(ctx, del.ID(), del.Attempts, now, err.Error(), false))
	case retryable:
		next := now.Add(d.backoff(del.Attempts, err))
		if next.After(del.Deadline) {
			d.record(out.failed(ctx, del.ID(), del.Attempts, now, "gave up at the deadline: "+err.Error(), false))
			return
		}
		d.record(out.retry(ctx, del.ID(), del.Attempts, now, next, err.Error()))
	default:
		d.record(out.failed(ctx, del.ID(), del.Attempts, now, err.Error(), false))
	}
}

// outcomes records an attempt's outcome with the provider that carried it, when the
// sender named one and the queue keeps it.
type outcomes struct {
	q        Queue
	provider string
}

func (o outcomes) via() (ProviderQueue, bool) {
	pq, ok := o.q.(ProviderQueue)
	return pq, ok && o.provider != ""
}

func (o outcomes) sent(ctx context.Context, id string, attempt int, at time.Time) error {
	if pq, ok := o.via(); ok {
		return pq.SentVia(ctx, id, attempt, at, o.provider)
	}
	return o.q.Sent(ctx, id, attempt, at)
}

func (o outcomes) retry(ctx context.Context, id string, attempt int, at, next time.Time, reason string) error {
	if pq, ok := o.via(); ok {
		return pq.RetryVia(ctx, id, attempt, at, next, reason, o.provider)
	}
	return o.q.Retry(ctx, id, attempt, at, next, reason)
}

func (o outcomes) failed(ctx context.Context, id string, attempt int, at time.Time, reason string, gone bool) error {
	if pq, ok := o.via(); ok {
		return pq.FailedVia(ctx, id, attempt, at, reason, gone, o.provider)
	}
	return o.q.Failed(ctx, id, attempt, at, reason, gone)
}

// backoff is exponential with full jitter, at least what the provider asked for.
func (d *Dispatcher) backoff(attempt int, err error) time.Duration {
	b := d.opt.MinBackoff << min(attempt-1, 16)
	if b > d.opt.MaxBackoff || b <= 0 {
		b = d.opt.MaxBackoff
	}
	wait := b/2 + rand.N(b/2+1)
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > wait {
		wait = ra.After
	}
	return wait
}

func (d *Dispatcher) record(err error) {
	if err != nil {
		d.opt.Logger.Warn("dispatcher: recording an outcome", "err", err)
	}
}

// ID returns the delivery's id.
func (d Delivery) ID() string { return d.DeliveryID }

// window lets at most n sends start within any one second: it remembers the start times
// of the last n sends and holds a send until the oldest of them is a second old.
type window struct {
	mu    sync.Mutex
	n     int
	times []time.Time // ring of the last n start times
	next  int
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func newWindow(n int) *window {
	return &window{n: max(n, 1), now: time.Now, after: time.After}
}

func (w *window) wait(ctx context.Context) error {
	for {
		w.mu.Lock()
		now := w.now()
		if len(w.times) < w.n {
			w.times = append(w.times, now)
			w.mu.Unlock()
			return nil
		}
		oldest := w.times[w.next]
		if now.Sub(oldest) >= time.Second {
			w.times[w.next] = now
			w.next = (w.next + 1) % w.n
			w.mu.Unlock()
			return nil
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.after(oldest.Add(time.Second).Sub(now)):
		}
	}
}
