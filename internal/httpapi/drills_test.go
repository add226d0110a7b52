package httpapi_test

import (
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
)

const drillOrg = "name,email,phone,language,teams,manager_email\n" +
	"Ana Líder TI,ana@example.com,+525500000003,es,technology:lead,\n" +
	"Bob Developer,bob@example.com,+34600000004,en,technology,\n"

func TestDrillsThroughTheAPI(t *testing.T) {
	a := newAPI(t, adminToken)
	manager := a.token(optimum.RoleManager)
	if res := a.upload("/api/v1/people/import", manager, "text/csv", []byte(drillOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	plan := map[string]any{
		"name":     "Sismo CDMX",
		"scenario": map[string]any{"title": "Sismo 7.1 en CDMX", "title_en": "7.1 earthquake"},
		"teams":    []string{"technology"},
		"window":   "30m",
		"schedule": "0 0 10 * * MON",
		"criteria": []map[string]any{{"scope": "team:technology", "percent": 100, "within": "15m"}},
	}

	// Bad plans: a clear 422 in the caller's language, every problem named, nothing saved.
	bad := map[string]any{
		"name": "Malo", "scenario": map[string]any{"title": "Sismo"}, "teams": []string{}, "window": "30m",
		"schedule": "every monday",
		"criteria": []map[string]any{{"scope": "all", "percent": 120, "within": "0s"}},
	}
	res := a.do("POST", "/api/v1/drills", manager, bad, "Accept-Language", "es-MX")
	if res.status != 422 || !strings.Contains(string(res.body), "El plan de simulacro tiene errores.") ||
		!strings.Contains(string(res.body), "la audiencia está vacía") || !strings.Contains(string(res.body), "nunca supera el 100%") ||
		!strings.Contains(string(res.body), "no es una expresión cron") || !strings.Contains(string(res.body), "nadie confirma en tiempo cero") {
		t.Errorf("bad plan (es): %d %s", res.status, res.body)
	}
	res = a.do("POST", "/api/v1/drills", manager, bad, "Accept-Language", "en")
	if res.status != 422 || !strings.Contains(string(res.body), "The drill plan has errors.") || !strings.Contains(string(res.body), "criteria[0].percent") {
		t.Errorf("bad plan (en): %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/drills", manager, nil); res.status != 200 || strings.TrimSpace(string(res.body)) != "[]" {
		t.Errorf("plans after refusals: %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/drills", a.token(optimum.RoleResponder), plan); res.status != 403 {
		t.Errorf("responder creating a plan: %d", res.status)
	}

	res = a.do("POST", "/api/v1/drills", manager, plan)
	if res.status != 201 {
		t.Fatalf("create plan: %d %s", res.status, res.body)
	}
	var saved struct {
		ID        string  `json:"id"`
		NextRunAt *string `json:"next_run_at"`
	}
	res.json(t, &saved)
	if saved.ID != "sismo-cdmx" || saved.NextRunAt == nil {
		t.Errorf("saved plan = %+v", saved)
	}

	res = a.do("POST", "/api/v1/drills/sismo-cdmx/runs", manager, nil)
	if res.status != 201 {
		t.Fatalf("start: %d %s", res.status, res.body)
	}
	var run struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		IncidentID string `json:"incident_id"`
		Folio      string `json:"folio"`
	}
	res.json(t, &run)
	if run.Status != "running" || run.IncidentID == "" || res.header.Get("Location") != "/api/v1/drill-runs/"+run.ID {
		t.Errorf("run = %+v, location %q", run, res.header.Get("Location"))
	}
	if res := a.do("POST", "/api/v1/drills/sismo-cdmx/runs", manager, map[string]bool{"force": true}, "Accept-Language", "es"); res.status != 409 ||
		!strings.Contains(string(res.body), "ya tiene un simulacro en curso") {
		t.Errorf("overlapping run: %d %s", res.status, res.body)
	}
	var inc struct {
		Drill bool `json:"drill"`
	}
	a.do("GET", "/api/v1/incidents/"+run.IncidentID, manager, nil).json(t, &inc)
	if !inc.Drill {
		t.Error("the run's incident is not marked drill")
	}

	// Bob acknowledges; the board shows him acknowledged and Ana pending.
	a.do("POST", "/api/v1/incidents/"+run.IncidentID+"/ack", adminToken, nil)
	var board struct {
		Criteria []struct {
			Result   string `json:"result"`
			Targeted int    `json:"targeted"`
		} `json:"criteria"`
		People []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"people"`
	}
	res = a.do("GET", "/api/v1/drill-runs/"+run.ID, manager, nil)
	if res.status != 200 {
		t.Fatalf("board: %d %s", res.status, res.body)
	}
	res.json(t, &board)
	if len(board.People) != 2 || len(board.Criteria) != 1 || board.Criteria[0].Result != "pending" || board.Criteria[0].Targeted != 2 {
		t.Errorf("board = %+v", board)
	}

	res = a.do("GET", "/api/v1/drill-runs/"+run.ID+"/report.csv", manager, nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(string(res.body), "section,key,targeted,reached,acknowledged,reach_rate,confirmation_rate") ||
		!strings.Contains(string(res.body), "header,plan,Sismo CDMX") {
		t.Errorf("CSV report: %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
	if res := a.do("GET", "/api/v1/drill-runs/"+run.ID+"/report", manager, nil); res.status != 200 || !strings.Contains(string(res.body), `"confirmation_rate"`) {
		t.Errorf("JSON report: %d %s", res.status, res.body)
	}

	if res := a.do("POST", "/api/v1/drill-runs/"+run.ID+"/cancel", manager, nil); res.status != 200 || !strings.Contains(string(res.body), `"status":"cancelled"`) {
		t.Errorf("cancel: %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/drill-runs/"+run.ID+"/cancel", manager, nil, "Accept-Language", "es"); res.status != 409 ||
		!strings.Contains(string(res.body), "cancelado") {
		t.Errorf("second cancel: %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/drill-runs/nope/report", manager, nil); res.status != 404 {
		t.Errorf("unknown run: %d", res.status)
	}
	if res := a.do("DELETE", "/api/v1/drills/sismo-cdmx", manager, nil); res.status != 204 {
		t.Errorf("delete plan: %d %s", res.status, res.body)
	}
}

// "@every 1s" is not a drill schedule: more often than drills.min_interval (1 h) is a
// 422 on the field schedule, in the caller's language, and nothing is saved.
func TestDrillScheduleMoreFrequentThanTheMinimumIsRefused(t *testing.T) {
	a := newAPI(t, adminToken)
	manager := a.token(optimum.RoleManager)
	if res := a.upload("/api/v1/people/import", manager, "text/csv", []byte(drillOrg)); res.status != 200 {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	plan := map[string]any{
		"name": "Cada segundo", "scenario": map[string]any{"title": "Sismo"}, "teams": []string{"technology"},
		"window": "30m", "schedule": "@every 1s",
		"criteria": []map[string]any{{"scope": "all", "percent": 90, "within": "15m"}},
	}
	for lang, want := range map[string]string{"es": "como mucho una vez cada 1h0m0s", "en": "at most once every 1h0m0s"} {
		res := a.do("POST", "/api/v1/drills", manager, plan, "Accept-Language", lang)
		if res.status != 422 || !strings.Contains(string(res.body), `"field":"schedule"`) || !strings.Contains(string(res.body), want) {
			t.Errorf("@every 1s (%s) = %d %s", lang, res.status, res.body)
		}
	}
	if res := a.do("GET", "/api/v1/drills", manager, nil); strings.TrimSpace(string(res.body)) != "[]" {
		t.Errorf("plans after the refusal: %s", res.body)
	}
}
