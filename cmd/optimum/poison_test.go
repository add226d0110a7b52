package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A corrupt row in the event log (its incident and data not JSON, as a bad write or a
// hand edit could leave it) no longer stops every alert after it: the consumers try it
// a bounded number of times, park it with its reason, and go on. The next declaration
// still sends its SMS and reaches the live board; /readyz says what was parked (still
// 200), the metric counts it, and the incident's timeline has the parking event.
func TestCorruptEventIsParkedAndLaterDeclarationsStillAlert(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		corruptEventIsParked(t, map[string]string{"OPTIMUM_DATA": data}, func() (*sql.DB, error) {
			// The server writes too: wait for its lock as it does.
			return sql.Open("sqlite", "file:"+filepath.ToSlash(filepath.Join(data, "optimum.db"))+"?_pragma=busy_timeout(10000)")
		})
	})
	t.Run("postgres", func(t *testing.T) {
		u := storetest.PostgresURL(t)
		corruptEventIsParked(t, map[string]string{"OPTIMUM_DATABASE_URL": u}, func() (*sql.DB, error) { return sql.Open("pgx", u) })
	})
}

func corruptEventIsParked(t *testing.T, env map[string]string, open func() (*sql.DB, error)) {
	env["OPTIMUM_CONFIG"] = exampleConfigWith(t, "  attempts: 5 # 1-100\n  backoff: 1s # 1ms-1m\n", "  attempts: 3\n  backoff: 20ms\n")
	fake, base, api, _ := startTwilioServer(t, "technology", env)
	board, _, err := websocket.DefaultDialer.Dial(strings.Replace(base, "http", "ws", 1)+"/api/v1/stream?token="+api.token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer board.Close()

	declare := func(title string) (id, folio string) {
		t.Helper()
		status, body := api.do("POST", "/api/v1/incidents", "application/json",
			`{"title":"`+title+`","impact":"critical","urgency":"critical","teams":["technology"]}`)
		if status != 201 {
			t.Fatalf("declare = %d %s", status, body)
		}
		var inc struct{ ID, Folio string }
		json.Unmarshal(body, &inc)
		return inc.ID, inc.Folio
	}
	first, _ := declare("Caída del correo")
	eventually(t, "the first declaration's two SMS", func() bool { return len(fake.Messages()) == 2 })

	raw, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(context.Background(), `INSERT INTO events (type, at, incident_id, actor, incident, data)
		VALUES ('incident.declared', $1, $2, NULL, '{"id": "broken', '{not json')`, time.Now().UnixMilli(), first); err != nil {
		t.Fatal(err)
	}

	_, folio := declare("Caída del centro de datos")
	eventually(t, "the second declaration's SMS despite the corrupt event before it", func() bool {
		n := 0
		for _, m := range fake.Messages() {
			if strings.Contains(m.Form.Get("Body"), folio) {
				n++
			}
		}
		return n == 2
	})
	board.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, frame, err := board.ReadMessage()
		if err != nil {
			t.Fatalf("the board never showed the second declaration: %v", err)
		}
		if bytes.Contains(frame, []byte(folio)) {
			break
		}
	}

	var ready struct {
		Status  string
		Reasons map[string][]string
	}
	eventually(t, "/readyz reporting the parked event", func() bool {
		status, body := api.do("GET", "/readyz", "", "")
		ready.Reasons = nil
		json.Unmarshal(body, &ready)
		return status == 200 && ready.Status == "degraded" && strings.Contains(strings.Join(ready.Reasons["work"], "\n"), "parked event")
	})
	for _, r := range ready.Reasons["work"] {
		if strings.Contains(r, "broken") || strings.Contains(r, "not json") {
			t.Errorf("/readyz shows the event's contents: %q", r)
		}
	}

	_, metrics := api.do("GET", "/metrics", "", "")
	if !bytes.Contains(metrics, []byte("\noptimum_parked_events ")) || bytes.Contains(metrics, []byte("\noptimum_parked_events 0\n")) {
		t.Errorf("metrics do not count the parked event:\n%s", grepLines(metrics, "parked"))
	}

	status, body := api.do("GET", "/api/v1/incidents/"+first, "", "")
	if status != 200 {
		t.Fatalf("incident = %d %s", status, body)
	}
	var inc struct {
		Timeline []struct {
			Type string
			Data struct {
				Consumer string `json:"consumer"`
				Reason   string `json:"reason"`
				Attempts int    `json:"attempts"`
			}
		}
	}
	if err := json.Unmarshal(body, &inc); err != nil {
		t.Fatal(err)
	}
	parked := 0
	for _, e := range inc.Timeline {
		if e.Type == "consumer.event_parked" {
			parked++
			if e.Data.Reason == "" || e.Data.Attempts != 3 || e.Data.Consumer == "" {
				t.Errorf("parking event = %+v, want a consumer, a reason and 3 attempts", e.Data)
			}
		}
	}
	if parked == 0 {
		t.Errorf("the first incident's timeline has no parking event: %s", body)
	}

	// The operator lists the parked events and dismisses them: /readyz is ready again.
	cli := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &bytes.Buffer{}); err != nil {
			t.Fatalf("optimum %v: %v", args, err)
		}
		return out.String()
	}
	list := strings.TrimSpace(cli("parked"))
	lines := strings.Split(list, "\n")
	if list == "" || !strings.Contains(list, "incident="+first) || !strings.Contains(list, "not valid JSON") {
		t.Fatalf("optimum parked =\n%s", list)
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		cli("parked", "dismiss", f[0], f[1])
	}
	if out := cli("parked"); out != "no parked events\n" {
		t.Errorf("after dismissing: %q", out)
	}
	if status, body := api.do("GET", "/readyz", "", ""); status != 200 || !bytes.Contains(body, []byte(`"status":"ready"`)) {
		t.Errorf("/readyz after dismissing = %d %s", status, body)
	}
}

func grepLines(b []byte, word string) string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
