// Package metrics is the Prometheus view of a running server. Most figures are read from
// the database at scrape time (incidents declared, deliveries, latencies, the event-log
// lag of each consumer, the dispatcher's queue), so they are cluster-wide and survive
// restarts, and nothing in the hot paths has to count. What lives only in a process (its
// websocket connections, how long its escalation ticks take) is observed in process.
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/optimum-bcp/optimum/internal/store"
)

// Source is what the collector reads at scrape time; *store.Indicators implements it,
// with the lag from *store.DB.
type Source interface {
	DeclaredCounts(ctx context.Context) ([]store.LabeledCount, error)
	DeliveryCounts(ctx context.Context) ([]store.LabeledCount, error)
	AttemptOutcomes(ctx context.Context) ([]store.LabeledCount, error)
	QueueDepth(ctx context.Context) ([]store.LabeledCount, error)
	DeliveryLatency(ctx context.Context, bounds []float64) ([]store.Histogram, error)
	AckLatency(ctx context.Context, bounds []float64) ([]store.Histogram, error)
}

// Log is the event log's view of its consumers.
type Log interface {
	ConsumerLag(ctx context.Context) (map[string]int64, error)
	LastEventID(ctx context.Context) (int64, error)
}

// Bucket bounds, in seconds.
var (
	DeliveryBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900}
	AckBuckets      = []float64{15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 28800}
	TickBuckets     = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
)

// Options are the in-process parts; nil ones are left out.
type Options struct {
	// Connections returns the open websocket connections of this process; Dropped how
	// many slow connections it has dropped since it started.
	Connections func() int
	Dropped     func() int64
	// Writes returns what the database's write transactions have cost (issue 16.4:
	// whether the writer bounds the deliveries).
	Writes func() store.WriteStats
	Logger *slog.Logger
}

// Metrics is the registry of one process.
type Metrics struct {
	reg    *prometheus.Registry
	tick   prometheus.Histogram
	sends  *prometheus.HistogramVec
	claims *prometheus.HistogramVec
	lg     *slog.Logger
}

// New builds the registry: the scrape-time collector over src and log, the process and
// Go runtime collectors, the websocket gauge and the escalation tick histogram.
func New(src Source, log Log, opt Options) *Metrics {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(newDBCollector(src, log, opt.Logger))
	if opt.Connections != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "optimum_websocket_connections", Help: "Open websocket connections of this process.",
		}, func() float64 { return float64(opt.Connections()) }))
	}
	if opt.Dropped != nil {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "optimum_websocket_dropped_total", Help: "Slow websocket connections this process dropped (they resume with ?since=).",
		}, func() float64 { return float64(opt.Dropped()) }))
	}
	if opt.Writes != nil {
		// Store writer (issue 16.4).
		for _, c := range []struct {
			name, help string
			v          func(store.WriteStats) float64
		}{
			{"optimum_store_write_transactions_total", "Write transactions this process committed or rolled back.", func(w store.WriteStats) float64 { return float64(w.Transactions) }},
			{"optimum_store_write_wait_seconds_total", "Seconds this process's write transactions waited to begin (on SQLite, for the one writer).", func(w store.WriteStats) float64 { return w.BeginWait.Seconds() }},
			{"optimum_store_write_held_seconds_total", "Seconds this process's write transactions held a writer, begin to the end of commit.", func(w store.WriteStats) float64 { return w.Held.Seconds() }},
			{"optimum_store_grouped_writes_total", "Small writes (delivery outcomes, claims, one-tap links) this process committed several to a transaction (SQLite).", func(w store.WriteStats) float64 { return float64(w.Grouped) }},
			{"optimum_store_commit_seconds_total", "Seconds this process's commits took (on SQLite, mostly the WAL sync).", func(w store.WriteStats) float64 { return w.Commit.Seconds() }},
		} {
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
				func() float64 { return c.v(opt.Writes()) }))
		}
	}
	m := &Metrics{reg: reg, lg: opt.Logger}
	m.tick = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "optimum_escalation_tick_duration_seconds", Help: "How long one escalation engine tick took in this process.",
		Buckets: TickBuckets,
	})
	m.sends = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optimum_provider_request_seconds", Help: "How long this process's calls to a provider (Twilio, a push service) took, by channel and result.",
		Buckets: DeliveryBuckets,
	}, []string{"channel", "result"})
	m.claims = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "optimum_dispatcher_claim_seconds", Help: "How long this process's dispatcher took to claim a batch of due deliveries, by channel.",
		Buckets: TickBuckets,
	}, []string{"channel"})
	reg.MustRegister(m.tick, m.sends, m.claims)
	return m
}

// ObserveClaim records one claim of the dispatcher. Pass it as the dispatcher's
// ObserveClaim option.
func (m *Metrics) ObserveClaim(channel string, took time.Duration) {
	m.claims.WithLabelValues(channel).Observe(took.Seconds())
}

// ObserveSend records one provider call of the dispatcher. Pass it as the dispatcher's
// Observe option.
func (m *Metrics) ObserveSend(channel string, ok bool, took time.Duration) {
	result := "error"
	if ok {
		result = "ok"
	}
	m.sends.WithLabelValues(channel, result).Observe(took.Seconds())
}

// ObserveEscalationTick records how long one tick of the escalation engine took. Pass it
// to the engine as its tick observer.
func (m *Metrics) ObserveEscalationTick(d time.Duration) { m.tick.Observe(d.Seconds()) }

// Handler serves the Prometheus text format. It does not check who asks: the HTTP layer
// guards it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Registry is for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
