package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The real server's /metrics, scraped from loopback: the escalation engine's ticks are
// observed, the event-log consumers report their lag, and a declared incident is counted.
func TestServerMetricsScrape(t *testing.T) {
	const token = "metrics-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token})
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", bytes.NewReader([]byte(`{"title":"Caída del ERP","impact":"critical","urgency":"high"}`)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("declare: %v %v", res, err)
	}
	res.Body.Close()
	// The engine ticks on its cron spec (every few seconds); wait for the first one.
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("metrics = %d %s", res.StatusCode, body)
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		ticks := fams["optimum_escalation_tick_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount()
		if ticks > 0 {
			if v := fams["optimum_incidents_declared_total"].GetMetric()[0].GetCounter().GetValue(); v != 1 {
				t.Errorf("declared %v", v)
			}
			consumers := map[string]bool{}
			for _, m := range fams["optimum_event_log_consumer_lag"].GetMetric() {
				consumers[m.GetLabel()[0].GetValue()] = true
			}
			if len(consumers) == 0 {
				t.Errorf("no consumer lag reported")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no escalation tick observed in 30 s:\n%s", body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
