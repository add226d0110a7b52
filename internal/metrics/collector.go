package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 5 * time.Second

// dbCollector reads the database at each scrape. A query that fails is logged and its
// metric left out of that scrape; the others are still reported.
type dbCollector struct {
	src Source
	log Log
	lg  *slog.Logger

	declared, deliveries, attempts, queue, lag, lastID, deliveryLatency, ackLatency *prometheus.Desc
}

func newDBCollector(src Source, log Log, lg *slog.Logger) *dbCollector {
	return &dbCollector{
		src: src, log: log, lg: lg,
		declared: prometheus.NewDesc("optimum_incidents_declared_total",
			"Incidents declared, by priority and whether a drill.", []string{"priority", "drill"}, nil),
		deliveries: prometheus.NewDesc("optimum_deliveries",
			"Deliveries by channel and current status (queued, sending, sent, delivered, undelivered, failed, cancelled); drill=\"true\" for drills and canaries.", []string{"channel", "status", "drill"}, nil),
		attempts: prometheus.NewDesc("optimum_delivery_attempts_total",
			"Finished delivery attempts by channel and outcome (sent, retry, failed, resent); drill=\"true\" for drills and canaries.", []string{"channel", "outcome", "drill"}, nil),
		queue: prometheus.NewDesc("optimum_dispatcher_queue_depth",
			"Deliveries not yet settled (queued, waiting to retry, or sending), by channel; drill=\"true\" for drills and canaries.", []string{"channel", "drill"}, nil),
		lag: prometheus.NewDesc("optimum_event_log_consumer_lag",
			"Events a consumer of the event log has yet to process: the newest event id minus its cursor.", []string{"consumer"}, nil),
		lastID: prometheus.NewDesc("optimum_event_log_last_id",
			"Id of the newest event in the log.", nil, nil),
		deliveryLatency: prometheus.NewDesc("optimum_delivery_latency_seconds",
			"Seconds from a delivery being planned to the provider accepting it, by channel; real incidents only (no drills or canaries).", []string{"channel"}, nil),
		ackLatency: prometheus.NewDesc("optimum_acknowledgement_latency_seconds",
			"Seconds from a real incident's declaration to each person's acknowledgement, by priority.", []string{"priority"}, nil),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.declared, c.deliveries, c.attempts, c.queue, c.lag, c.lastID, c.deliveryLatency, c.ackLatency} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	counts := func(desc *prometheus.Desc, typ prometheus.ValueType, read func(context.Context) ([]store.LabeledCount, error)) {
		rows, err := read(ctx)
		if err != nil {
			c.lg.Warn("metrics: scrape", "metric", desc.String(), "err", err)
			return
		}
		for _, r := range rows {
			ch <- prometheus.MustNewConstMetric(desc, typ, float64(r.N), r.Labels...)
		}
	}
	counts(c.declared, prometheus.CounterValue, c.src.DeclaredCounts)
	counts(c.deliveries, prometheus.GaugeValue, c.src.DeliveryCounts)
	counts(c.attempts, prometheus.CounterValue, c.src.AttemptOutcomes)
	// An empty queue of real traffic is a 0, not a missing series, for every channel the
	// dispatcher knows.
	counts(c.queue, prometheus.GaugeValue, func(ctx context.Context) ([]store.LabeledCount, error) {
		rows, err := c.src.QueueDepth(ctx)
		seen := map[string]bool{}
		for _, r := range rows {
			if r.Labels[1] == "false" {
				seen[r.Labels[0]] = true
			}
		}
		for _, ch := range []string{broadcast.ChannelSMS, broadcast.ChannelVoice, broadcast.ChannelWebPush, broadcast.ChannelEmail} {
			if !seen[ch] {
				rows = append(rows, store.LabeledCount{Labels: []string{ch, "false"}})
			}
		}
		return rows, err
	})

	hist := func(desc *prometheus.Desc, bounds []float64, read func(context.Context, []float64) ([]store.Histogram, error)) {
		hs, err := read(ctx, bounds)
		if err != nil {
			c.lg.Warn("metrics: scrape", "metric", desc.String(), "err", err)
			return
		}
		for _, h := range hs {
			buckets := make(map[float64]uint64, len(bounds))
			for i, b := range bounds {
				buckets[b] = h.Buckets[i]
			}
			ch <- prometheus.MustNewConstHistogram(desc, h.Count, h.Sum, buckets, h.Label)
		}
	}
	hist(c.deliveryLatency, DeliveryBuckets, c.src.DeliveryLatency)
	hist(c.ackLatency, AckBuckets, c.src.AckLatency)

	if lag, err := c.log.ConsumerLag(ctx); err != nil {
		c.lg.Warn("metrics: scrape", "metric", "consumer lag", "err", err)
	} else {
		for consumer, n := range lag {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(n), consumer)
		}
	}
	if id, err := c.log.LastEventID(ctx); err != nil {
		c.lg.Warn("metrics: scrape", "metric", "last event id", "err", err)
	} else {
		ch <- prometheus.MustNewConstMetric(c.lastID, prometheus.GaugeValue, float64(id))
	}
}
