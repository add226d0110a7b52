package main

import (
	"bytes"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// settleEngines is how a test checks that nothing more happens (no reminder, no step)
// without sleeping a fixed time and hoping the engine ran meanwhile. It waits until the
// real clock reaches due (zero for none: a test that moves the server's clock is already
// past every due time; nodes in their own processes schedule by the real clock), then
// until every node has finished two escalation ticks counted from there: ticks of one
// node never overlap, so the second began after that point and read the clock as the
// test left it. Then it waits until no delivery is queued, waiting to retry or sending,
// so whatever those ticks queued has reached the provider. After it, any send the ladder
// would still make by due is at the fake Twilio, and the test can count.
func settleEngines(t *testing.T, due time.Time, nodes ...client) {
	t.Helper()
	if wait := time.Until(due); wait > 0 {
		time.Sleep(wait) // the real clock is the one these nodes schedule by
	}
	from := make([]uint64, len(nodes))
	for i, n := range nodes {
		from[i] = engineTicks(t, scrapeMetrics(n))
	}
	for i, n := range nodes {
		eventually(t, "two escalation ticks on "+n.base, func() bool { return engineTicks(t, scrapeMetrics(n)) >= from[i]+2 })
	}
	eventually(t, "an empty dispatcher queue", func() bool {
		var depth float64
		for _, m := range scrapeMetrics(nodes[0])["optimum_dispatcher_queue_depth"].GetMetric() {
			depth += m.GetGauge().GetValue()
		}
		return depth == 0
	})
}

func engineTicks(t *testing.T, fams map[string]*dto.MetricFamily) uint64 {
	t.Helper()
	ms := fams["optimum_escalation_tick_duration_seconds"].GetMetric()
	if len(ms) == 0 {
		t.Fatal("no optimum_escalation_tick_duration_seconds in /metrics")
	}
	return ms[0].GetHistogram().GetSampleCount()
}

func scrapeMetrics(c client) map[string]*dto.MetricFamily {
	c.t.Helper()
	status, body := c.do("GET", "/metrics", "", "")
	if status != 200 {
		c.t.Fatalf("metrics = %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		c.t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}
