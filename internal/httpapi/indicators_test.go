package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestIndicatorsOfRealIncidentsOnly(t *testing.T) {
	storetest.Each(t, testIndicatorsOfRealIncidentsOnly)
}

func testIndicatorsOfRealIncidentsOnly(t *testing.T) {
	a := newAPI(t, adminToken)
	responder := a.token(optimum.RoleResponder)
	for _, drill := range []bool{false, false, true} {
		d := declaration()
		d["drill"] = drill
		if res := a.do("POST", "/api/v1/incidents", adminToken, d); res.status != 201 {
			t.Fatalf("declare = %d %s", res.status, res.body)
		}
	}
	var rep struct {
		Summary struct {
			Declared int `json:"declared"`
		}
		Open       []struct{ Priority string }
		ByPriority []struct {
			Priority string
			Declared int
		} `json:"by_priority"`
		OverTime struct {
			Bucket string
			Total  []int
		} `json:"over_time"`
	}
	res := a.do("GET", "/api/v1/indicators", responder, nil)
	if res.status != 200 {
		t.Fatalf("indicators = %d %s", res.status, res.body)
	}
	res.json(t, &rep)
	if rep.Summary.Declared != 2 || len(rep.Open) != 2 || rep.ByPriority[0].Declared != 2 || rep.OverTime.Bucket != "day" {
		t.Errorf("report %+v: want the two real incidents, the drill left out", rep)
	}
	if res := a.do("GET", "/api/v1/indicators?priority=P3", responder, nil); res.status != 200 || !bytes.Contains(res.body, []byte(`"declared":0`)) {
		t.Errorf("filtered = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/indicators", a.token(optimum.RoleReporter), nil); res.status != 403 {
		t.Errorf("reporter = %d, want 403", res.status)
	}
}

func TestIndicatorsOfAnEmptyDatabaseAreZeros(t *testing.T) {
	a := newAPI(t, adminToken)
	res := a.do("GET", "/api/v1/indicators?from=2026-01-01&to=2026-01-31", adminToken, nil)
	if res.status != 200 {
		t.Fatalf("indicators = %d %s", res.status, res.body)
	}
	var rep struct {
		From, To string
		Summary  struct {
			Declared int      `json:"declared"`
			AckRate  *float64 `json:"ack_rate"`
		}
		Open     []any
		OverTime struct{ Total []int } `json:"over_time"`
	}
	res.json(t, &rep)
	// Dates are Mexico City days: 1 January 00:00 −06:00 to the end of 31 January.
	if rep.From != "2026-01-01T06:00:00Z" || rep.To != "2026-02-01T06:00:00Z" || rep.Summary.Declared != 0 || rep.Summary.AckRate != nil ||
		rep.Open == nil || len(rep.OverTime.Total) != 31 {
		t.Errorf("empty report %s", res.body)
	}
}

func TestIndicatorsRefuseBadQueries(t *testing.T) {
	a := newAPI(t, adminToken)
	for _, tt := range []struct {
		query, field, es string
	}{
		{"from=2026-03-01&to=2026-02-01", "to", "posterior a su inicio"},
		{"from=2020-01-01&to=2026-01-01", "from", "como máximo 732 días"},
		{"from=yesterday", "from", "no es una fecha"},
		{"team=ops&colour=red", "colour", "no es un filtro"},
		{"priority=P7", "priority", "no es una prioridad"},
		{"bucket=week", "bucket", "no es un intervalo"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			res := a.do("GET", "/api/v1/indicators?"+tt.query, adminToken, nil)
			if res.status != 422 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
				t.Fatalf("= %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
			}
			var p struct {
				Errors []struct{ Field, Message string }
			}
			res.json(t, &p)
			if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Errorf("errors %+v, want one on %s", p.Errors, tt.field)
			}
			res = a.do("GET", "/api/v1/indicators?"+tt.query, adminToken, nil, "Accept-Language", "es-MX")
			if !strings.Contains(string(res.body), tt.es) {
				t.Errorf("Spanish: %s, want %q", res.body, tt.es)
			}
		})
	}
}

func TestIndicatorTablesAsCSV(t *testing.T) { storetest.Each(t, testIndicatorTablesAsCSV) }

func testIndicatorTablesAsCSV(t *testing.T) {
	a := newAPI(t, adminToken)
	d := declaration()
	d["title"] = "=HYPERLINK(\"http://evil\")"
	if res := a.do("POST", "/api/v1/incidents", adminToken, d); res.status != 201 {
		t.Fatalf("declare = %d %s", res.status, res.body)
	}
	for _, table := range []string{"summary", "open", "open_counts", "over_time", "by_priority", "by_team", "by_site", "channels"} {
		res := a.do("GET", "/api/v1/indicators/"+table+".csv?priority=P1", adminToken, nil)
		if res.status != 200 || res.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(res.header.Get("Content-Disposition"), table) {
			t.Fatalf("%s = %d %v %s", table, res.status, res.header, res.body)
		}
		rows, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
		if err != nil || len(rows) < 1 {
			t.Fatalf("%s: %v %q", table, err, res.body)
		}
		switch table {
		case "summary":
			if len(rows) != 3 || rows[1][0] != "current" || rows[1][3] != "1" {
				t.Errorf("summary %q", rows)
			}
		case "open":
			if len(rows) != 2 || rows[1][1] != `'=HYPERLINK("http://evil")` || rows[1][2] != "P1" {
				t.Errorf("open %q: the title must not be a formula", rows)
			}
		case "by_priority":
			if len(rows) != 6 || rows[1][0] != "P1" || rows[1][1] != "1" || rows[1][2] != "300" {
				t.Errorf("by_priority %q", rows)
			}
		}
	}
	if res := a.do("GET", "/api/v1/indicators/nope.csv", adminToken, nil); res.status != 404 {
		t.Errorf("unknown table = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/indicators/open", adminToken, nil); res.status != 404 {
		t.Errorf("no .csv = %d", res.status)
	}
	if res := a.do("GET", "/api/v1/indicators/open.csv?from=2026-05-01&to=2026-04-01", adminToken, nil); res.status != 422 {
		t.Errorf("bad range in CSV = %d", res.status)
	}
}

func TestMetricsFromLoopbackAreScrapedAndParsed(t *testing.T) {
	storetest.Each(t, testMetricsFromLoopbackAreScrapedAndParsed)
}

func testMetricsFromLoopbackAreScrapedAndParsed(t *testing.T) {
	a := newAPI(t, adminToken)
	for _, drill := range []bool{false, true} {
		d := declaration()
		d["drill"] = drill
		if res := a.do("POST", "/api/v1/incidents", adminToken, d); res.status != 201 {
			t.Fatalf("declare = %d %s", res.status, res.body)
		}
	}
	res := a.do("GET", "/metrics", "", nil)
	if res.status != 200 {
		t.Fatalf("metrics from loopback = %d %s", res.status, res.body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, res.body)
	}
	declared := map[string]float64{}
	for _, m := range fams["optimum_incidents_declared_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		declared[l["priority"]+"/"+l["drill"]] = m.GetCounter().GetValue()
	}
	if declared["P1/false"] != 1 || declared["P1/true"] != 1 {
		t.Errorf("declared %v", declared)
	}
	if n := len(fams["optimum_dispatcher_queue_depth"].GetMetric()); n != 4 {
		t.Errorf("queue depth has %d series, want email, sms, voice and webpush at 0", n)
	}
	for _, name := range []string{"optimum_websocket_connections", "optimum_websocket_dropped_total", "optimum_escalation_tick_duration_seconds", "optimum_event_log_last_id", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("no %s in\n%s", name, res.body)
		}
	}
	if v := fams["optimum_event_log_last_id"].GetMetric()[0].GetGauge().GetValue(); v < 2 {
		t.Errorf("last event id %v", v)
	}
}

func TestMetricsAreProtectedOutsideAllowedNetworks(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) { c.Metrics.AllowNetworks = []string{"10.0.0.0/8"} })
	if res := a.do("GET", "/metrics", "", nil); res.status != 401 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("anonymous = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/metrics", a.token(optimum.RoleManager), nil); res.status != 403 {
		t.Errorf("manager = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/metrics", "wrong-token", nil); res.status != 401 {
		t.Errorf("bad token = %d %s", res.status, res.body)
	}
	res := a.do("GET", "/metrics", adminToken, nil)
	if res.status != 200 || !strings.Contains(string(res.body), "optimum_event_log_last_id") {
		t.Errorf("admin = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/metrics", "", nil, "Accept-Language", "es"); !strings.Contains(string(res.body), "red permitida") {
		t.Errorf("Spanish: %s", res.body)
	}
}
