package metrics

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/optimum-bcp/optimum/canary"
	"github.com/optimum-bcp/optimum/internal/store"
)

// WatchOverdue exports the late work as the optimum_overdue_* gauges and the parked
// events, read at each scrape (one read) with look: the watchdog's Look.
func (m *Metrics) WatchOverdue(look func(ctx context.Context) (store.Overdue, error)) {
	m.reg.MustRegister(&overdueCollector{look: look, lg: m.lg,
		steps: prometheus.NewDesc("optimum_overdue_escalation_steps",
			"Escalation steps and SLA checks due for longer than two engine ticks plus the lease (watchdog).", nil, nil),
		reminders: prometheus.NewDesc("optimum_overdue_reminders",
			"Reminders due for longer than two engine ticks plus the lease (watchdog).", nil, nil),
		deliveries: prometheus.NewDesc("optimum_overdue_deliveries",
			"Deliveries queued past their due time, or leased past their lease, by more than watchdog.queued.", nil, nil),
		consumers: prometheus.NewDesc("optimum_overdue_consumers",
			"Consumers of the event log whose next event has waited longer than watchdog.stalled.", nil, nil),
		parked: prometheus.NewDesc("optimum_parked_events",
			"Events the consumers of the event log gave up on that no operator has dismissed.", nil, nil),
	})
}

type overdueCollector struct {
	look                                            func(ctx context.Context) (store.Overdue, error)
	lg                                              *slog.Logger
	steps, reminders, deliveries, consumers, parked *prometheus.Desc
}

func (c *overdueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.steps, c.reminders, c.deliveries, c.consumers, c.parked} {
		ch <- d
	}
}

func (c *overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	o, err := c.look(ctx)
	if err != nil {
		c.lg.Warn("metrics: scrape", "metric", "overdue work", "err", err)
		return
	}
	for d, v := range map[*prometheus.Desc]int{c.steps: o.Steps, c.reminders: o.Reminders, c.deliveries: o.Deliveries,
		c.consumers: len(o.Stalled), c.parked: len(o.Parked)} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
}

// HeartbeatObserver registers optimum_heartbeat_total and returns the function that
// counts one call of this process to the outside heartbeat URL (the heartbeat's observer).
// Call it once.
func (m *Metrics) HeartbeatObserver() func(ok bool) {
	beats := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "optimum_heartbeat_total", Help: "Calls of this process to the configured heartbeat URL, by result (ok, error).",
	}, []string{"result"})
	beats.WithLabelValues("ok")
	beats.WithLabelValues("error")
	m.reg.MustRegister(beats)
	return func(ok bool) {
		result := "error"
		if ok {
			result = "ok"
		}
		beats.WithLabelValues(result).Inc()
	}
}

// CanarySource reads the canary runs; *store.Canary implements it.
type CanarySource interface {
	Runs(ctx context.Context, limit int) ([]canary.Run, error)
	LastPassed(ctx context.Context) (*canary.Run, error)
	Counts(ctx context.Context) (map[string]int, error)
}

// WatchCanary exports the canary's outcomes, read at each scrape: runs by result, whether
// the last finished run passed, when the last run and the last pass were, and the last
// pass's timings (declaration to the last provider acceptance, and to the last report).
func (m *Metrics) WatchCanary(src CanarySource) {
	m.reg.MustRegister(&canaryCollector{src: src, lg: m.lg,
		runs:      prometheus.NewDesc("optimum_canary_runs_total", "Finished canary runs (scheduled end-to-end test alerts), by result (passed, failed).", []string{"result"}, nil),
		passed:    prometheus.NewDesc("optimum_canary_last_passed", "1 when the last finished canary passed, 0 when it failed.", nil, nil),
		lastRun:   prometheus.NewDesc("optimum_canary_last_run_timestamp_seconds", "When the last finished canary started (unix seconds).", nil, nil),
		lastPass:  prometheus.NewDesc("optimum_canary_last_success_timestamp_seconds", "When the last canary that passed started (unix seconds).", nil, nil),
		accepted:  prometheus.NewDesc("optimum_canary_accepted_seconds", "Seconds from the last passing canary's declaration to its last provider acceptance.", nil, nil),
		delivered: prometheus.NewDesc("optimum_canary_delivered_seconds", "Seconds from the last passing canary's declaration to its last delivery report.", nil, nil),
	})
}

type canaryCollector struct {
	src                                                  CanarySource
	lg                                                   *slog.Logger
	runs, passed, lastRun, lastPass, accepted, delivered *prometheus.Desc
}

func (c *canaryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runs, c.passed, c.lastRun, c.lastPass, c.accepted, c.delivered} {
		ch <- d
	}
}

func (c *canaryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts, err := c.src.Counts(ctx)
	if err != nil {
		c.lg.Warn("metrics: scrape", "metric", "canary", "err", err)
		return
	}
	for result, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.CounterValue, float64(n), result)
	}
	runs, err := c.src.Runs(ctx, 20)
	if err != nil {
		c.lg.Warn("metrics: scrape", "metric", "canary", "err", err)
		return
	}
	for _, r := range runs {
		if r.Status == canary.StatusRunning {
			continue
		}
		v := 0.0
		if r.Status == canary.StatusPassed {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.passed, prometheus.GaugeValue, v)
		ch <- prometheus.MustNewConstMetric(c.lastRun, prometheus.GaugeValue, float64(r.StartedAt.UnixMilli())/1000)
		break
	}
	last, err := c.src.LastPassed(ctx)
	if err != nil || last == nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.lastPass, prometheus.GaugeValue, float64(last.StartedAt.UnixMilli())/1000)
	if last.Accepted != nil {
		ch <- prometheus.MustNewConstMetric(c.accepted, prometheus.GaugeValue, float64(*last.Accepted))
	}
	if last.Delivered != nil {
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.GaugeValue, float64(*last.Delivered))
	}
}
