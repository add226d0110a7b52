package main

// The fault suite: each test breaks one real part in the middle of an alert and checks
// that nothing promised is lost or sent twice without a reason. The parts a test stops
// (PostgreSQL, Redis, the SMS provider's address) are the test's own, never the
// machine's shared services. See docs/operations.md, "The fault suite".

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

const faultToken = "fault-suite-admin-token-0123456789"

// newFake is a fake Twilio with the credentials the fault tests give the nodes.
func newFake(t *testing.T) *twiliotest.Fake {
	return twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
}

// faultEnv is the environment of a node of a fault test: the admin token, Twilio pointed
// at apiURL, the configuration cfg (YAML) in a file, and extra.
func faultEnv(t *testing.T, fake *twiliotest.Fake, apiURL, cfg string, extra map[string]string) map[string]string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "optimum.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"OPTIMUM_CONFIG": p, "OPTIMUM_BOOTSTRAP_TOKEN": faultToken, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(), "TWILIO_FROM": "+15005550006",
		"OPTIMUM_TWILIO_API_URL": apiURL, "OPTIMUM_LOG_LEVEL": "info",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// importTeam puts n people in team technology, with phones +52 55 1234 0000 onwards,
// and returns their phones in E.164.
func importTeam(t *testing.T, base string, n int) []string {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	phones := make([]string, n)
	for i := range n {
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,+52 55 1234 %04d,es,technology,\n", i, i, i)
		phones[i] = fmt.Sprintf("+52551234%04d", i)
	}
	if status, body := (client{t, base, faultToken}).do("POST", "/api/v1/people/import", "text/csv", csv.String()); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	return phones
}

// declareFor declares a P1 for team technology and returns the incident's id and folio.
func declareFor(t *testing.T, base, title string) (id, folio string) {
	t.Helper()
	status, body := (client{t, base, faultToken}).do("POST", "/api/v1/incidents", "application/json",
		`{"title":"`+title+`","impact":"critical","urgency":"critical","teams":["technology"]}`)
	var inc struct{ ID, Folio string }
	if json.Unmarshal(body, &inc); status != 201 || inc.ID == "" {
		t.Fatalf("declare = %d %s", status, body)
	}
	return inc.ID, inc.Folio
}

// statusCounts counts the incident's SMS deliveries by status.
func statusCounts(t *testing.T, db *sql.DB, subject string) map[string]int {
	t.Helper()
	rows, err := db.Query("SELECT status, count(*) FROM deliveries WHERE subject = $1 AND channel = 'sms' GROUP BY status", subject)
	if err != nil {
		return map[string]int{"error: " + err.Error(): 1}
	}
	defer rows.Close()
	counts := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		rows.Scan(&s, &n)
		counts[s] = n
	}
	return counts
}

// awaitSMSSent waits (up to limit) until all want SMS deliveries of subject are sent.
func awaitSMSSent(t *testing.T, db *sql.DB, subject string, want int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		c := statusCounts(t, db, subject)
		if c["sent"] == want && len(c) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SMS deliveries of %s by status: %v, want %d sent", subject, c, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// acceptedSMS counts, per phone, the SMS of the incident (by its folio) Twilio accepted.
func acceptedSMS(fake *twiliotest.Fake, folio string) map[string]int {
	got := map[string]int{}
	for _, m := range fake.Messages() {
		if m.Status == 201 && strings.Contains(m.Form.Get("Body"), folio) {
			got[m.Form.Get("To")]++
		}
	}
	return got
}

// checkOncePerPerson fails unless every phone got the folio's SMS, and any phone that got
// it more than once has a delivery of the incident with an attempt marked resent (the
// recorded reason: its sender died or stopped mid-send).
func checkOncePerPerson(t *testing.T, db *sql.DB, fake *twiliotest.Fake, subject, folio string, phones []string) {
	t.Helper()
	got := acceptedSMS(fake, folio)
	twice := 0
	for _, p := range phones {
		switch n := got[p]; {
		case n == 0:
			t.Errorf("%s never got the alert", p)
		case n > 1:
			twice++
			var resent int
			db.QueryRow(`SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
				WHERE d.subject = $1 AND d.channel = 'sms' AND d.address = $2 AND a.outcome = 'resent'`, subject, p).Scan(&resent)
			if resent == 0 {
				t.Errorf("%s got the alert %d times and no attempt records why", p, n)
			}
		}
	}
	if len(got) > len(phones) {
		t.Errorf("the alert reached %d phones, want %d", len(got), len(phones))
	}
	t.Logf("%d people, %d got the alert more than once (each with a resent attempt recorded)", len(phones), twice)
}

// switchable is the SMS provider's address as the server sees it: nothing listens there
// (connection refused) until up, then a proxy to the fake Twilio.
type switchable struct {
	addr string
	srv  *http.Server
}

func newSwitchable(t *testing.T) *switchable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &switchable{addr: ln.Addr().String()}
	ln.Close() // refused until up
	t.Cleanup(func() {
		if s.srv != nil {
			s.srv.Close()
		}
	})
	return s
}

func (s *switchable) url() string { return "http://" + s.addr }

func (s *switchable) up(t *testing.T, target string) {
	t.Helper()
	u, _ := url.Parse(target)
	var ln net.Listener
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for ln, err = net.Listen("tcp", s.addr); err != nil; ln, err = net.Listen("tcp", s.addr) {
		if time.Now().After(deadline) {
			t.Fatalf("listen again on %s: %v", s.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.srv = &http.Server{Handler: httputil.NewSingleHostReverseProxy(u)}
	go s.srv.Serve(ln)
}

// attemptsWith counts the incident's SMS deliveries with an attempt whose reason has
// what in it.
func attemptsWith(db *sql.DB, subject, what string) int {
	var n int
	db.QueryRow(`SELECT count(DISTINCT d.id) FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
		WHERE d.subject = $1 AND d.channel = 'sms' AND a.reason LIKE $2`, subject, "%"+what+"%").Scan(&n)
	return n
}

// The SMS provider goes away in the middle of an alert: first nothing answers at its
// address (connection refused), then it answers 503, then it recovers. Every delivery
// ends sent, each once, and each one's failed attempts are recorded with their reason.
// The outage is as long as it takes every delivery to fail in each way (a few seconds,
// not 30: the dispatcher's backoff would make the test wait minutes for the same shape).
func TestFaultSMSProviderRefusesThen503sThenRecovers(t *testing.T) {
	fake := newFake(t)
	front := newSwitchable(t)
	data := t.TempDir()
	env := faultEnv(t, fake, front.url(), "delivery:\n  rates: {sms: 100, voice: 2, webpush: 100}\n", map[string]string{"OPTIMUM_DATA": data})
	base, logs := startServer(t, env)
	phones := importTeam(t, base, 20)
	db := openSQLiteFile(t, filepath.Join(data, "optimum.db"))

	id, folio := declareFor(t, base, "Caída del proveedor de SMS")
	eventually(t, "every SMS refused once", func() bool { return attemptsWith(db, id, "refused") == len(phones) })
	fake.SetFailRate(1, 503)
	front.up(t, fake.URL())
	eventually(t, "every SMS answered 503 once", func() bool { return attemptsWith(db, id, "503") == len(phones) })
	fake.SetFailRate(0, 0)
	awaitSMSSent(t, db, id, len(phones), 40*time.Second)

	got := acceptedSMS(fake, folio)
	for _, p := range phones {
		if got[p] != 1 {
			t.Errorf("%s got the alert %d times, want once", p, got[p])
		}
	}
	// Each delivery's history: retries with their reasons, then one sent, attempt numbers
	// 1, 2, 3, … without a gap.
	rows, err := db.Query(`SELECT d.id, a.attempt, a.outcome, a.reason FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
		WHERE d.subject = $1 AND d.channel = 'sms' ORDER BY d.id, a.attempt`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	history := map[string][]string{}
	for rows.Next() {
		var did, outcome, reason string
		var n int
		rows.Scan(&did, &n, &outcome, &reason)
		if n != len(history[did])+1 {
			t.Errorf("delivery %s: attempt %d after %d attempts", did, n, len(history[did]))
		}
		if outcome == "retry" && reason == "" {
			t.Errorf("delivery %s: attempt %d retried without a reason", did, n)
		}
		history[did] = append(history[did], outcome)
	}
	for did, h := range history {
		if len(h) < 3 || h[len(h)-1] != "sent" || slices.Contains(h[:len(h)-1], "sent") {
			t.Errorf("delivery %s attempts %v, want retries (refused, 503) then one sent", did, h)
		}
	}
	if len(history) != len(phones) {
		t.Errorf("%d SMS deliveries have attempts, want %d\n%s", len(history), len(phones), logs)
	}
}

// A node is killed with kill -9 while it sends an alert at the SMS rate limit; the other
// node sends what it left once its leases expire. Nobody gets the alert twice unless an
// attempt of theirs is recorded as resent (the dead node may have reached Twilio before
// it died, and nobody can know).
func TestFaultNodeKilledWhileSendingAtTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	fake := newFake(t)
	fake.SetLatency(150 * time.Millisecond)
	bin := buildOptimum(t)
	// 10 SMS a second shared by both nodes (through Redis), four sends in flight per
	// node: a send waits for its turn well within the 3 s lease.
	env := faultEnv(t, fake, fake.URL(), "delivery:\n  lease: 3s\n  concurrency: 4\n  rates: {sms: 10, voice: 2, webpush: 100}\n",
		map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t), "OPTIMUM_REDIS_URL": testenv.RedisURL(t),
			"OPTIMUM_REDIS_PREFIX": testenv.Prefix(t), "OPTIMUM_LOG_LEVEL": "info"})
	nodes := startNodes(t, bin, env, "A", "B")
	phones := importTeam(t, nodes[0].base, 40)
	db, err := sql.Open("pgx", env["OPTIMUM_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	id, folio := declareFor(t, nodes[0].base, "Incendio en el centro de cómputo")
	var victim *node
	eventually(t, "both nodes sending", func() bool {
		if statusCounts(t, db, id)["sent"] < 5 {
			return false
		}
		owner := busiestOwner(t, db, id)
		for _, n := range nodes {
			if owner != "" && strings.HasSuffix(owner, fmt.Sprintf(":%d", n.cmd.Process.Pid)) {
				victim = n
			}
		}
		return victim != nil
	})
	victim.kill(t)
	sentAtKill := statusCounts(t, db, id)["sent"]
	t.Logf("killed node %s with %d of %d sent", victim.name, sentAtKill, len(phones))
	if sentAtKill == len(phones) {
		t.Fatal("everything was sent before the kill: the test did not kill in the middle of sending")
	}
	awaitSMSSent(t, db, id, len(phones), 60*time.Second)
	var resent int
	db.QueryRow(`SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.subject = $1 AND a.outcome = 'resent'`, id).Scan(&resent)
	if resent == 0 {
		t.Error("no delivery was taken over from the killed node (no attempt marked resent)")
	}
	checkOncePerPerson(t, db, fake, id, folio, phones)
}

// The node's PostgreSQL (the test's own) is stopped in the middle of an alert and started
// again: while it is down, requests get a clear 503 problem; once it is back the node
// works again without a restart, and every delivery of the alert ends sent.
func TestFaultPostgresRestartedDuringAnAlert(t *testing.T) {
	pg := testenv.StartPrivatePostgres(t)
	dbURL := pg.CreateDB("optimum_fault")
	fake := newFake(t)
	fake.SetLatency(50 * time.Millisecond)
	env := faultEnv(t, fake, fake.URL(), "delivery:\n  lease: 3s\n  rates: {sms: 20, voice: 2, webpush: 100}\n",
		map[string]string{"OPTIMUM_DATABASE_URL": dbURL})
	base, logs := startServer(t, env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs)
		}
	})
	phones := importTeam(t, base, 60)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	id, folio := declareFor(t, base, "Corte de energía en el sitio principal")
	eventually(t, "the alert being sent", func() bool { return len(acceptedSMS(fake, folio)) >= 10 })
	pg.Stop()
	if code, _ := getReady(t, base); code != 503 {
		t.Errorf("readyz while PostgreSQL is down = %d, want 503", code)
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(`{"title":"Durante la caída","impact":"high","urgency":"high"}`))
	req.Header.Set("Authorization", "Bearer "+faultToken)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Language", "es-MX")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	var p struct{ Code, Detail string }
	json.Unmarshal(body, &p)
	if res.StatusCode != 503 || p.Code != "unavailable" || !strings.Contains(p.Detail, "base de datos") ||
		!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("declare while PostgreSQL is down = %d %s, want a 503 problem that says the database is unreachable", res.StatusCode, body)
	}

	pg.Start()
	awaitReady(t, base, 200)
	after, _ := declareFor(t, base, "Después de la caída")
	awaitSMSSent(t, db, id, len(phones), 60*time.Second)
	awaitSMSSent(t, db, after, len(phones), 60*time.Second)
	checkOncePerPerson(t, db, fake, id, folio, phones)
	// Every request the node failed, during the outage and after it, failed as a 503
	// "unavailable" problem: none as an internal error (writeError logs each 5xx answer).
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, `msg="request failed"`) && !strings.Contains(line, "code=unavailable") {
			t.Errorf("a request failed other than as 503 unavailable: %s", line)
		}
	}
}

// board reads a live stream in the background and keeps the ids of the events it got.
type board struct {
	mu   sync.Mutex
	ids  []int64
	err  error
	done chan struct{}
}

func watchBoard(t *testing.T, base string, since int64) *board {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s/api/v1/stream?token=%s&since=%d", strings.Replace(base, "http", "ws", 1), faultToken, since), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &board{done: make(chan struct{})}
	t.Cleanup(func() { ws.Close(); <-b.done })
	go func() {
		defer close(b.done)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				b.mu.Lock()
				b.err = err
				b.mu.Unlock()
				return
			}
			var f struct {
				ID   int64
				Type string
			}
			json.Unmarshal(data, &f)
			if f.ID == 0 || strings.HasPrefix(f.Type, "stream.") {
				continue // control frames (ready, heartbeat) are not events
			}
			b.mu.Lock()
			b.ids = append(b.ids, f.ID)
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *board) got() []int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.ids)
}

// Two nodes share PostgreSQL and the test's own Redis; an alert of 1,000 people is sent
// while Redis is killed and started again. Each node's board gets every event of the log
// once, in order, and nobody gets the alert twice.
func TestFaultRedisRestartedDuringAnAlertOfAThousand(t *testing.T) {
	rds := testenv.StartPrivateRedis(t)
	dbURL := storetest.PostgresURL(t)
	fake := newFake(t)
	env := faultEnv(t, fake, fake.URL(), "delivery:\n  lease: 10s\n  rates: {sms: 150, voice: 2, webpush: 100}\n",
		map[string]string{"OPTIMUM_DATABASE_URL": dbURL, "OPTIMUM_REDIS_URL": rds.URL, "OPTIMUM_REDIS_PREFIX": testenv.Prefix(t)})
	a, _ := startServer(t, env)
	b, _ := startServer(t, env)
	awaitReady(t, a, 200)
	awaitReady(t, b, 200)
	phones := importTeam(t, a, 1000)
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var since int64
	db.QueryRow("SELECT COALESCE(max(id), 0) FROM events").Scan(&since)
	boards := map[string]*board{"A": watchBoard(t, a, since), "B": watchBoard(t, b, since)}

	id, folio := declareFor(t, a, "Sismo: evacuación del edificio")
	eventually(t, "the alert being sent", func() bool { return len(acceptedSMS(fake, folio)) >= 100 })
	rds.Stop()
	if n := len(acceptedSMS(fake, folio)); n == len(phones) {
		t.Fatal("the whole alert was sent before Redis stopped: the test did not restart it in the middle")
	} else {
		t.Logf("Redis killed with %d of %d SMS sent", n, len(phones))
	}
	awaitReady(t, a, 503)
	second, _ := declareFor(t, b, "Réplica durante la caída de Redis")
	rds.Start()
	awaitReady(t, a, 200)
	awaitReady(t, b, 200)
	third, _ := declareFor(t, b, "Después de la caída de Redis")
	awaitSMSSent(t, db, id, len(phones), 90*time.Second)
	awaitSMSSent(t, db, second, len(phones), 90*time.Second)
	awaitSMSSent(t, db, third, len(phones), 90*time.Second)
	checkOncePerPerson(t, db, fake, id, folio, phones)

	// Every event up to the log's head as it is now, after everything was sent, reaches
	// each board once, in order. Events after head (progress still being published) are
	// left out of the comparison rather than waited out.
	var head int64
	if err := db.QueryRow("SELECT COALESCE(max(id), 0) FROM events").Scan(&head); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		caught := true
		for _, bd := range boards {
			if g := bd.got(); len(g) == 0 || slices.Max(g) < head {
				caught = false
			}
		}
		if caught {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the boards did not reach the log's head %d", head)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := eventIDs(t, db, head)
	want = want[slices.IndexFunc(want, func(x int64) bool { return x > since }):]
	for name, bd := range boards {
		got := slices.DeleteFunc(bd.got(), func(x int64) bool { return x > head })
		if !slices.Equal(got, want) {
			missing, dup := 0, 0
			seen := map[int64]int{}
			for _, x := range got {
				seen[x]++
			}
			for _, x := range want {
				if seen[x] == 0 {
					missing++
				}
			}
			for _, n := range seen {
				if n > 1 {
					dup++
				}
			}
			t.Errorf("board on %s: %d events, want %d (%d missing, %d repeated)", name, len(got), len(want), missing, dup)
		}
	}
	t.Logf("each board got %d events, in order, none missing", len(want))
}

// Two nodes climb one P1 ladder; B's clock is two minutes ahead of A's (a test-only
// skew, OPTIMUM_TEST_CLOCK_SKEW). A declares and fires the first steps alone; B starts
// while step 3 is still 10 s away, the step A scheduled by its clock. Both schedule by
// the database's clock, so B does not fire it early (by its own clock it is two minutes
// overdue, and A's claims look expired), and no step fires twice.
func TestFaultClockTwoMinutesAheadOnOneNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two server processes")
	}
	fake := newFake(t)
	bin := buildOptimum(t)
	cfg := `delivery:
  lease: 3s
  rates: {sms: 200, voice: 2, webpush: 100}
escalation:
  tick: "* * * * * *"
  lease: 5s
  sla_jump: false
  ladders:
    - id: p1
      name: {es: "Crisis P1 en segundos", en: "P1 crisis in seconds"}
      priorities: [P1]
      steps:
        - targets: [{team: technology, roles: [lead]}]
          reminders: [{after: 0s, channels: [sms]}]
          wait: 3s
          owned: any
        - targets: [{team: operations, roles: [lead]}]
          reminders: [{after: 0s, channels: [sms]}]
          wait: 12s
          owned: any
        - targets: [{team: directors}]
          reminders: [{after: 0s, channels: [sms]}]
          wait: 1h
          owned: any
`
	env := faultEnv(t, fake, fake.URL(), cfg, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t),
		"OPTIMUM_REDIS_URL": testenv.RedisURL(t), "OPTIMUM_REDIS_PREFIX": testenv.Prefix(t)})
	a := startNodes(t, bin, env, "A")[0]
	people := "name,email,phone,language,teams,manager_email\n" +
		"Ana Tecnología,ana@example.com,+525512340001,es,technology:lead,\n" +
		"Ed Operaciones,ed@example.com,+525512340002,es,operations:lead,\n" +
		"Dora Directora,dora@example.com,+525512340004,es,directors,\n"
	if status, body := (client{t, a.base, faultToken}).do("POST", "/api/v1/people/import", "text/csv", people); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	db, err := sql.Open("pgx", env["OPTIMUM_DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// The steps are due no earlier than 3 s and 15 s after sent (the 201 comes after the
	// declaration, and each step's wait counts from when the one before fired).
	sent := time.Now()
	id, _ := declareFor(t, a.base, "Caída del enlace con el banco")
	seen := map[int]time.Time{}
	watch := func(until int, limit time.Duration) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for len(seen) < until {
			for _, s := range escalatedSteps(t, db, id) {
				if _, ok := seen[s]; !ok {
					seen[s] = time.Now()
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("steps seen %v", seen)
			}
			time.Sleep(25 * time.Millisecond)
		}
	}
	watch(2, 20*time.Second)
	skewed := map[string]string{"OPTIMUM_TEST_CLOCK_SKEW": "2m"}
	for k, v := range env {
		skewed[k] = v
	}
	b := startNodes(t, bin, skewed, "B")[0]
	if !strings.Contains(b.logs.String(), "clock: this node's clock differs from the database's") {
		t.Errorf("node B did not notice its clock is off:\n%s", b.logs)
	}
	if len(escalatedSteps(t, db, id)) > 2 {
		t.Fatal("step 3 fired before node B was up: the test cannot tell whether B would fire it early")
	}
	watch(3, 30*time.Second)
	for step, due := range map[int]time.Duration{2: 3 * time.Second, 3: 15 * time.Second} {
		if at := seen[step].Sub(sent); at < due {
			t.Errorf("step %d fired %v after the declaration, before its time (%v)", step, at.Round(time.Millisecond), due)
		}
	}
	// Two more ticks of both nodes (B's two minutes ahead), the queue empty: nothing fired again.
	settleEngines(t, time.Time{}, client{t, a.base, faultToken}, client{t, b.base, faultToken})
	if steps := escalatedSteps(t, db, id); !slices.Equal(steps, []int{1, 2, 3}) {
		t.Errorf("steps fired %v, want [1 2 3], each once", steps)
	}
	for _, phone := range []string{"+525512340001", "+525512340002", "+525512340004"} {
		if n := smsTo(fake, phone); n != 1 {
			t.Errorf("%s got %d SMS, want 1", phone, n)
		}
	}
}
