package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
)

// The query parsing of every list endpoint, fuzzed: whatever the query, it never
// panics, and it either refuses with a 422 listing at most 21 problems (20 and a count
// of the rest), or gives a filter with at most 50 values per list (the documented
// bounds, written here by hand). .ci/run runs each target for a few seconds.

const (
	documentedMaxValues   = 50
	documentedMaxProblems = 21
)

func fuzzRequest(raw string) *http.Request {
	return &http.Request{Method: "GET", URL: &url.URL{Path: "/", RawQuery: raw}, Header: http.Header{}}
}

func seeds(f *testing.F, extra ...string) {
	for _, s := range append([]string{
		"", "limit=10", "x=1", "a=1&b=2&c=3", strings.Repeat("priority=P1&", 60), "priority=" + strings.Repeat("P1,", 60),
		"team=" + strings.Repeat("%2C", 80), "%zz", "q=%00", "from=2026-11-22T08:00:00Z&to=2026-11-23",
	}, extra...) {
		f.Add(s)
	}
}

// checkRefusal fails unless err is nil or a bounded 422.
func checkRefusal(t *testing.T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if code := optimum.ErrorCode(err); code != optimum.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	if n := len(optimum.ErrorFields(err)); n == 0 || n > documentedMaxProblems {
		t.Fatalf("%d field problems, want 1 to %d", n, documentedMaxProblems)
	}
	return true
}

func checkList(t *testing.T, name string, n int) {
	t.Helper()
	if n > documentedMaxValues {
		t.Fatalf("%s has %d values, more than %d", name, n, documentedMaxValues)
	}
}

// GET /api/v1/incidents
func FuzzIncidentListQuery(f *testing.F) {
	seeds(f, "status=declared,closed&priority=p1,P2&drill=true&limit=200&before=inc_1", "status="+strings.Repeat("closed,", 51))
	f.Fuzz(func(t *testing.T, raw string) {
		flt, err := parseFilter(fuzzRequest(raw))
		if checkRefusal(t, err) {
			return
		}
		checkList(t, "status", len(flt.Status))
		checkList(t, "priority", len(flt.Priority))
		for _, p := range flt.Priority {
			if p != "P1" && p != "P2" && p != "P3" && p != "P4" && p != "P5" {
				t.Fatalf("priority %q accepted", p)
			}
		}
		if flt.Limit < 1 || flt.Limit > 200 {
			t.Fatalf("limit %d accepted", flt.Limit)
		}
	})
}

// GET /api/v1/people
func FuzzPeopleListQuery(f *testing.F) {
	seeds(f, "team=technology,operations&role=lead&active=false&limit=1000&after=per_1", "team="+strings.Repeat("t,", 51))
	f.Fuzz(func(t *testing.T, raw string) {
		flt, err := parsePeopleFilter(fuzzRequest(raw))
		if checkRefusal(t, err) {
			return
		}
		checkList(t, "team", len(flt.Teams))
		checkList(t, "role", len(flt.Roles))
		if flt.Limit < 1 || flt.Limit > 1000 || len([]rune(flt.Text)) > 200 {
			t.Fatalf("limit %d, q of %d characters accepted", flt.Limit, len([]rune(flt.Text)))
		}
	})
}

// GET /api/v1/indicators and /api/v1/indicators/{table}
func FuzzIndicatorsQuery(f *testing.F) {
	seeds(f, "priority=P1&priority=p2,P3&service=erp&team=ops&bucket=day", "from=2026-11-02&to=2026-11-01")
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseIndicatorQuery(fuzzRequest(raw), now, time.UTC)
		if checkRefusal(t, err) {
			return
		}
		checkList(t, "priority", len(q.Priorities))
		if q.From.IsZero() || q.To.IsZero() {
			t.Fatalf("range %v – %v", q.From, q.To)
		}
	})
}

// GET /api/v1/incidents/similar
func FuzzSimilarQuery(f *testing.F) {
	seeds(f, "q=caida+erp&services=erp,crm&causes=energia&limit=5")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := parseSimilarQuery(fuzzRequest(raw))
		if checkRefusal(t, err) {
			return
		}
		checkList(t, "services", len(q.Services))
		checkList(t, "causes", len(q.Causes))
	})
}

// GET /api/v1/readiness and /api/v1/audience/preview
func FuzzTeamsQuery(f *testing.F) {
	seeds(f, "teams=technology,operations", "teams=a&teams=b")
	f.Fuzz(func(t *testing.T, raw string) {
		teams, err := teamsParam(fuzzRequest(raw))
		if checkRefusal(t, err) {
			return
		}
		checkList(t, "teams", len(teams))
		for _, tm := range teams {
			if tm == "" || strings.TrimSpace(tm) != tm {
				t.Fatalf("team %q", tm)
			}
		}
	})
}
