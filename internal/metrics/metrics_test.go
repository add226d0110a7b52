package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/metrics"
	"github.com/optimum-bcp/optimum/internal/store"
	dto "github.com/prometheus/client_model/go"
)

// fixed is a Source with set answers; broken names the one that fails.
type fixed struct{ broken string }

func (f fixed) fail(name string) error {
	if f.broken == name {
		return errors.New("database is locked")
	}
	return nil
}

func (f fixed) DeclaredCounts(context.Context) ([]store.LabeledCount, error) {
	return []store.LabeledCount{{Labels: []string{"P1", "false"}, N: 3}}, f.fail("declared")
}
func (f fixed) DeliveryCounts(context.Context) ([]store.LabeledCount, error) {
	return []store.LabeledCount{{Labels: []string{"sms", "sent", "false"}, N: 2}, {Labels: []string{"sms", "sent", "true"}, N: 300}}, f.fail("deliveries")
}
func (f fixed) AttemptOutcomes(context.Context) ([]store.LabeledCount, error) {
	return nil, f.fail("attempts")
}
func (f fixed) QueueDepth(context.Context) ([]store.LabeledCount, error) {
	return []store.LabeledCount{{Labels: []string{"sms", "false"}, N: 7}, {Labels: []string{"sms", "true"}, N: 40}}, f.fail("queue")
}
func (f fixed) DeliveryLatency(_ context.Context, bounds []float64) ([]store.Histogram, error) {
	b := make([]uint64, len(bounds))
	for i := range b {
		b[i] = 2
	}
	b[0] = 1
	return []store.Histogram{{Label: "sms", Count: 2, Sum: 4.3, Buckets: b}}, f.fail("latency")
}
func (f fixed) AckLatency(context.Context, []float64) ([]store.Histogram, error) {
	return nil, f.fail("ack")
}
func (f fixed) ConsumerLag(context.Context) (map[string]int64, error) {
	return map[string]int64{"escalation.notifier": 4}, f.fail("lag")
}
func (f fixed) LastEventID(context.Context) (int64, error) { return 40, f.fail("last") }

// labels writes a metric's labels as name=value, sorted by name.
func labels(m *dto.Metric) string {
	var out []string
	for _, l := range m.GetLabel() {
		out = append(out, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func gather(t *testing.T, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func TestScrapeReadsTheSourceAndTheProcess(t *testing.T) {
	m := metrics.New(fixed{}, fixed{}, metrics.Options{Connections: func() int { return 5 }, Dropped: func() int64 { return 1 }})
	m.ObserveEscalationTick(30 * time.Millisecond)
	m.ObserveSend("sms", true, 400*time.Millisecond)
	m.ObserveSend("sms", false, 3*time.Second)
	f := gather(t, m)
	if v := f["optimum_incidents_declared_total"].GetMetric()[0].GetCounter().GetValue(); v != 3 {
		t.Errorf("declared %v", v)
	}
	if v := f["optimum_event_log_consumer_lag"].GetMetric()[0].GetGauge().GetValue(); v != 4 {
		t.Errorf("lag %v", v)
	}
	if v := f["optimum_websocket_connections"].GetMetric()[0].GetGauge().GetValue(); v != 5 {
		t.Errorf("connections %v", v)
	}
	h := f["optimum_delivery_latency_seconds"].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() != 4.3 || h.GetBucket()[0].GetUpperBound() != metrics.DeliveryBuckets[0] || h.GetBucket()[0].GetCumulativeCount() != 1 {
		t.Errorf("delivery latency %v", h)
	}
	tick := f["optimum_escalation_tick_duration_seconds"].GetMetric()[0].GetHistogram()
	if tick.GetSampleCount() != 1 {
		t.Errorf("tick %v", tick)
	}
	sends := map[string]uint64{}
	for _, mt := range f["optimum_provider_request_seconds"].GetMetric() {
		sends[mt.GetLabel()[0].GetValue()+"/"+mt.GetLabel()[1].GetValue()] = mt.GetHistogram().GetSampleCount()
	}
	if sends["sms/ok"] != 1 || sends["sms/error"] != 1 {
		t.Errorf("provider requests %v", sends)
	}
	// sms has 7 real and 40 drill deliveries waiting; voice, webpush and email are reported as
	// 0 (real), not left out.
	depth := map[string]float64{}
	for _, mt := range f["optimum_dispatcher_queue_depth"].GetMetric() {
		depth[labels(mt)] = mt.GetGauge().GetValue()
	}
	want := map[string]float64{"channel=email drill=false": 0, "channel=sms drill=false": 7, "channel=sms drill=true": 40, "channel=voice drill=false": 0, "channel=webpush drill=false": 0}
	if fmt.Sprint(depth) != fmt.Sprint(want) {
		t.Errorf("queue depth %v, want %v", depth, want)
	}
	// Drill deliveries are kept apart from the real ones.
	deliveries := map[string]float64{}
	for _, mt := range f["optimum_deliveries"].GetMetric() {
		deliveries[labels(mt)] = mt.GetGauge().GetValue()
	}
	if want := map[string]float64{"channel=sms drill=false status=sent": 2, "channel=sms drill=true status=sent": 300}; fmt.Sprint(deliveries) != fmt.Sprint(want) {
		t.Errorf("deliveries %v, want %v", deliveries, want)
	}
}

func TestAFailingQueryLeavesOnlyItsMetricOut(t *testing.T) {
	m := metrics.New(fixed{broken: "declared"}, fixed{broken: "declared"}, metrics.Options{})
	f := gather(t, m)
	if f["optimum_incidents_declared_total"] != nil {
		t.Error("the failed metric is reported")
	}
	if f["optimum_deliveries"] == nil || f["optimum_event_log_last_id"] == nil {
		t.Error("the other metrics are missing")
	}
}
