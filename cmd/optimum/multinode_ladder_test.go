package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

// ladderConfig is a P1 ladder in seconds: the technology lead at once, the operations
// lead 3 s later, the directors 4 s after that; each paged person is sent an SMS again
// every 2 s (nine times) until someone owns the incident. The P1 acknowledge SLA is 5 s,
// so it passes between steps 2 and 3 and pages the continuity team (sla_jump off: the
// ladder keeps its own pace). The engine ticks every second and a claim lasts 5 s (the
// least allowed), so a node that dies holding one leaves it to the others within a few
// ticks.
const ladderConfig = `delivery:
  lease: 3s
  rates: {sms: 200, voice: 2, webpush: 100}
incident:
  sla:
    P1: {acknowledge: 5s, resolve: 1h}
escalation:
  tick: "* * * * * *"
  lease: 5s
  sla_team: continuity
  sla_jump: false
  ladders:
    - id: p1
      name: {es: "Crisis P1 en segundos", en: "P1 crisis in seconds"}
      priorities: [P1]
      steps:
        - targets: [{team: technology, roles: [lead]}]
          reminders: %[1]s
          wait: 3s
          owned: any
        - targets: [{team: operations, roles: [lead]}]
          reminders: %[1]s
          wait: 4s
          owned: any
        - targets: [{team: directors}]
          reminders: %[1]s
          wait: 1h
          owned: any
`

// nagEvery2s is an SMS at the page and again every 2 s, ten in all (the most a step has).
func nagEvery2s() string {
	var rs []string
	for s := 0; s <= 18; s += 2 {
		rs = append(rs, fmt.Sprintf("{after: %ds, channels: [sms]}", s))
	}
	return "[" + strings.Join(rs, ", ") + "]"
}

// Three nodes climb one P1 ladder on one PostgreSQL database and Redis. Between steps 2
// and 3, the node holding the escalation's lease is killed with kill -9: once the lease
// expires, the nodes left record the SLA breach and fire step 3, each once; every
// person's first alert is queued once and no reminder twice. A director then acknowledges
// by SMS reply through node C (or B if C was killed), and no node sends anything more.
func TestThreeNodesClimbOneLadderOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	redisURL := testenv.RedisURL(t)
	dbURL := storetest.PostgresURL(t)
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	bin := buildOptimum(t)
	cfgPath := filepath.Join(t.TempDir(), "optimum.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(ladderConfig, nagEvery2s())), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "multinode-ladder-token-0123456789"
	env := map[string]string{
		"OPTIMUM_CONFIG": cfgPath, "OPTIMUM_DATABASE_URL": dbURL, "OPTIMUM_REDIS_URL": redisURL,
		"OPTIMUM_REDIS_PREFIX": testenv.Prefix(t), "OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(), "TWILIO_FROM": "+15005550006",
		"OPTIMUM_TWILIO_API_URL": fake.URL(), "OPTIMUM_LOG_LEVEL": "info",
	}
	nodes := startNodes(t, bin, env, "A", "B", "C")
	a, c := nodes[0], nodes[2]

	const (
		ana   = "+525512340001" // technology lead: the audience and step 1
		ed    = "+525512340002" // operations lead: step 2
		carla = "+525512340003" // continuity: the SLA breach
		dora  = "+525512340004" // directors: step 3
	)
	people := "name,email,phone,language,teams,manager_email\n" +
		"Ana Tecnología,ana@example.com," + ana + ",es,technology:lead,\n" +
		"Ed Operaciones,ed@example.com," + ed + ",es,operations:lead,\n" +
		"Carla Continuidad,carla@example.com," + carla + ",es,continuity,\n" +
		"Dora Directora,dora@example.com," + dora + ",es,directors,\n"
	if status, body := (client{t, a.base, token}).do("POST", "/api/v1/people/import", "text/csv", people); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// Declare a P1 for technology on A.
	status, body := (client{t, a.base, token}).do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","teams":["technology"]}`)
	var inc struct{ ID, Folio string }
	if json.Unmarshal(body, &inc); status != 201 || inc.ID == "" {
		t.Fatalf("declare = %d %s", status, body)
	}

	// Step 2 fires. Then the test holds the lock that serializes event appends
	// (dialect.go's lockKeyEvents), so a node that claims the escalation when its SLA
	// check falls due (at 5 s) keeps the lease while its work waits for the lock. That node
	// is killed, holding the lease, and the lock released.
	awaitSteps(t, db, inc.ID, 2)
	hold, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	const lockKeyEvents = 0x6f7074696d756d01
	if _, err := hold.Exec("SELECT pg_advisory_xact_lock($1)", int64(lockKeyEvents)); err != nil {
		t.Fatal(err)
	}
	var (
		owner      string
		leaseUntil int64
		victim     *node
	)
	deadline := time.Now().Add(20 * time.Second)
	for victim == nil {
		err := db.QueryRow("SELECT lease_owner, lease_until FROM escalations WHERE incident_id = $1 AND lease_owner IS NOT NULL", inc.ID).
			Scan(&owner, &leaseUntil)
		if err == nil {
			for _, n := range nodes {
				if strings.HasSuffix(owner, fmt.Sprintf(":%d", n.cmd.Process.Pid)) {
					victim = n
				}
			}
		} else if err != sql.ErrNoRows {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no node held the escalation's lease while event appends were blocked (owner %q): has dialect.go's lockKeyEvents changed?", owner)
		}
		time.Sleep(10 * time.Millisecond)
	}
	victim.kill(t)
	atKill := escalatedSteps(t, db, inc.ID)
	var stillLeased string
	db.QueryRow("SELECT coalesce(lease_owner, '') FROM escalations WHERE incident_id = $1", inc.ID).Scan(&stillLeased)
	if err := hold.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed node %s holding the escalation's lease (until %s) after steps %v", victim.name, time.UnixMilli(leaseUntil).UTC(), atKill)
	if stillLeased != owner {
		t.Fatalf("the escalation's lease was not held by the killed node when it died (held by %q)", stillLeased)
	}
	if slices.Contains(atKill, 3) || countEvents(t, db, inc.ID, "incident.sla_breached") != 0 {
		t.Fatalf("step 3 or the SLA breach happened before the kill (steps %v): the test did not kill in the middle of the ladder", atKill)
	}

	// The nodes left take the escalation over once the dead node's lease expires, and
	// fire the SLA breach and step 3: each once.
	awaitSteps(t, db, inc.ID, 3)
	eventually(t, "Dora's alert at Twilio", func() bool { return smsTo(fake, dora) > 0 })
	if steps := escalatedSteps(t, db, inc.ID); !slices.Equal(steps, []int{1, 2, 3}) {
		t.Errorf("steps fired %v, want [1 2 3] (each once)", steps)
	}
	if n := countEvents(t, db, inc.ID, "incident.sla_breached"); n != 1 {
		t.Errorf("%d SLA breach events, want 1", n)
	}
	var breachAt int64
	if err := db.QueryRow("SELECT at FROM events WHERE incident_id = $1 AND type = 'incident.sla_breached'", inc.ID).Scan(&breachAt); err != nil {
		t.Fatal(err)
	}
	if breachAt < leaseUntil {
		t.Errorf("the SLA breach was recorded at %s, before the dead node's lease expired at %s",
			time.UnixMilli(breachAt).UTC(), time.UnixMilli(leaseUntil).UTC())
	}

	// The acknowledgement reaches a node left: C, unless C was the one killed.
	ack := c
	if victim == c {
		ack = nodes[1]
	}
	fake.Route(public, ack.base)
	// Dora answers "1" by SMS.
	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", dora, "+15005550006", "1")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(reply), inc.Folio) {
		t.Fatalf("reply to Dora's SMS = %d %s", res.StatusCode, reply)
	}
	eventually(t, "the escalation owned", func() bool {
		var state string
		db.QueryRow("SELECT state FROM escalations WHERE incident_id = $1", inc.ID).Scan(&state)
		return state == "owned"
	})
	eventually(t, "nothing left queued or sending", func() bool {
		var n int
		db.QueryRow("SELECT count(*) FROM deliveries WHERE subject = $1 AND status IN ('queued', 'sending')", inc.ID).Scan(&n)
		return n == 0
	})
	var nagged int
	if err := db.QueryRow("SELECT count(*) FROM escalation_pages WHERE incident_id = $1 AND next_at IS NOT NULL", inc.ID).Scan(&nagged); err != nil || nagged != 0 {
		t.Errorf("%d pages still have a reminder due (%v)", nagged, err)
	}
	before, queued := len(fake.Messages()), countDeliveries(t, db, inc.ID)
	// Two reminders of anyone still nagged (every 2 s) would be due by then; two ticks of
	// both nodes left after that, and an empty queue, would have sent them.
	var left []client
	for _, n := range nodes {
		if n != victim {
			left = append(left, client{t, n.base, token})
		}
	}
	settleEngines(t, time.Now().Add(4*time.Second), left...)
	if after := len(fake.Messages()); after != before {
		t.Errorf("%d more SMS reached Twilio after the acknowledgement", after-before)
	}
	if after := countDeliveries(t, db, inc.ID); after != queued {
		t.Errorf("%d more deliveries were queued after the acknowledgement", after-queued)
	}

	// Once each: every person's first alert; never more SMS than reminders processed.
	rows, err := db.Query(`SELECT p.name, p.reminder, p.reason,
			(SELECT count(*) FROM deliveries d WHERE d.subject = p.incident_id AND d.recipient = p.person_id AND d.channel = 'sms'
				AND d.body NOT LIKE '%RECORDATORIO%'),
			(SELECT count(*) FROM deliveries d WHERE d.subject = p.incident_id AND d.recipient = p.person_id AND d.channel = 'sms')
		FROM escalation_pages p WHERE p.incident_id = $1 ORDER BY p.name`, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var (
			name, reason         string
			reminder, first, all int
		)
		if err := rows.Scan(&name, &reminder, &reason, &first, &all); err != nil {
			t.Fatal(err)
		}
		names = append(names, name+"/"+reason)
		if first != 1 {
			t.Errorf("%s's first alert was queued %d times, want once", name, first)
		}
		if all > reminder {
			t.Errorf("%s got %d SMS for %d reminders processed: one was fired twice", name, all, reminder)
		}
	}
	if want := []string{"Ana Tecnología/ladder", "Carla Continuidad/sla", "Dora Directora/ladder", "Ed Operaciones/ladder"}; !slices.Equal(names, want) {
		t.Errorf("pages %v, want %v", names, want)
	}
}

// escalatedSteps returns the ladder steps of the incident's incident.escalated events, in
// order.
func escalatedSteps(t *testing.T, db *sql.DB, incidentID string) []int {
	t.Helper()
	rows, err := db.Query(`SELECT (data::jsonb ->> 'step')::int FROM events
		WHERE incident_id = $1 AND type = 'incident.escalated' AND data::jsonb ->> 'kind' = 'ladder' ORDER BY id`, incidentID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	steps := []int{}
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, s)
	}
	return steps
}

// awaitSteps waits until the incident's ladder has fired step n.
func awaitSteps(t *testing.T, db *sql.DB, incidentID string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Contains(escalatedSteps(t, db, incidentID), n) {
		if time.Now().After(deadline) {
			t.Fatalf("step %d never fired (steps %v)", n, escalatedSteps(t, db, incidentID))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func countEvents(t *testing.T, db *sql.DB, incidentID, typ string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM events WHERE incident_id = $1 AND type = $2", incidentID, typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func countDeliveries(t *testing.T, db *sql.DB, subject string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM deliveries WHERE subject = $1", subject).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// smsTo counts the SMS the fake Twilio accepted for a number.
func smsTo(fake *twiliotest.Fake, to string) int {
	n := 0
	for _, m := range fake.Messages() {
		if m.Status == 201 && m.Form.Get("To") == to {
			n++
		}
	}
	return n
}
