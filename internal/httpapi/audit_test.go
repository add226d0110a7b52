package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/audit"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The audit export refuses a query it cannot answer with a 422 naming the parameter, and
// answers a period without events with none, anchored at the newest event before it.
func TestAuditExportQueries(t *testing.T) { storetest.Each(t, testAuditExportQueries) }

func testAuditExportQueries(t *testing.T) {
	a := newAPI(t, adminToken)
	a.do("POST", "/api/v1/incidents", adminToken, declaration())
	for name, c := range map[string]struct{ query, field string }{
		"no from":        {"?to=2026-12-01", "from"},
		"no to":          {"?from=2026-12-01", "to"},
		"not a time":     {"?from=ayer&to=2026-12-01", "from"},
		"to before from": {"?from=2026-12-02&to=2026-12-01", "to"},
		"empty period":   {"?from=2026-12-01&to=2026-12-01", "to"},
		"unknown":        {"?from=2026-12-01&to=2026-12-02&format=xml", "format"},
	} {
		var p problemBody
		res := a.do("GET", "/api/v1/audit/export"+c.query, adminToken, nil)
		res.json(t, &p)
		if res.status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: %d %s, want 422 on %s", name, res.status, res.body, c.field)
		}
	}
	future := time.Now().Add(24 * time.Hour).UTC()
	res := a.do("GET", "/api/v1/audit/export?from="+future.Format(time.DateOnly)+"&to="+future.Add(48*time.Hour).Format(time.DateOnly), adminToken, nil)
	var x audit.Export
	res.json(t, &x)
	if res.status != 200 || len(x.Events) != 0 || x.Anchor.ID == 0 || x.Head != x.Anchor || !strings.HasPrefix(res.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("a period without events = %d %s", res.status, res.body)
	}
}
