package metrics

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

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
