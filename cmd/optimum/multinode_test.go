package main

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

// node is one optimum process of a multi-node test, built from this package's source and
// started for real, so that kill -9 is a real crash.
type node struct {
	name string
	base string
	cmd  *exec.Cmd
	logs *logBuffer
	done chan error
}

// buildOptimum builds the server binary into a temporary folder.
func buildOptimum(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "optimum")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startNodes starts the nodes at once (as an orchestrator does) and waits for all.
func startNodes(t testing.TB, bin string, env map[string]string, names ...string) []*node {
	t.Helper()
	nodes := make([]*node, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { nodes[i], errs[i] = launchNode(t, bin, name, env) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return nodes
}

// launchNode starts bin with env (and a data folder of its own) on a free loopback port,
// waits for its "listening on" line, and stops it with SIGTERM when the test ends unless
// the test killed it. It returns errors instead of calling t.Fatal, so nodes can start
// from several goroutines.
func launchNode(t testing.TB, bin, name string, env map[string]string) (*node, error) {
	// Not t.TempDir: it calls t.Fatal when it fails, which must not happen off the test's
	// goroutine. Removed after the node stops (cleanups run last registered first).
	dir, err := os.MkdirTemp("", "optimum-node-")
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	home, data := filepath.Join(dir, "home"), filepath.Join(dir, "data")
	for _, d := range []string{home, data} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	cmd := exec.Command(bin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"OPTIMUM_ADDR=127.0.0.1:0", "OPTIMUM_DATA=" + data}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	n := &node{name: name, cmd: cmd, logs: &logBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = n.logs, n.logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { n.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Errorf("node %s did not stop on SIGTERM", name)
		}
		if t.Failed() {
			t.Logf("node %s log:\n%s", name, n.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listening.FindStringSubmatch(n.logs.String()); m != nil {
			n.base = m[1]
			return n, nil
		}
		select {
		case err := <-n.done:
			return nil, fmt.Errorf("node %s exited at start: %v\n%s", name, err, n.logs)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("node %s never listened:\n%s", name, n.logs)
		}
	}
}

// kill crashes the node: SIGKILL, no shutdown, leases left as they are.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.done
}

// Three nodes share one PostgreSQL database and one Redis: what is declared on one reaches
// the live boards of the others, an acknowledgement on another reaches the first, and
// when a node dies with SMS in flight, the other nodes send them once its leases expire:
// every delivery ends sent.
func TestThreeNodesActAsOne(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	redisURL := testenv.RedisURL(t)
	dbURL := storetest.PostgresURL(t)
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	bin := buildOptimum(t)
	cfgPath := filepath.Join(t.TempDir(), "optimum.yaml")
	// A short lease, so a dead node's deliveries are taken over within seconds; fast rates,
	// so the test is not waiting for the limiter.
	if err := os.WriteFile(cfgPath, []byte("delivery:\n  lease: 3s\n  rates: {sms: 200, voice: 2, webpush: 100}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "multinode-admin-token-0123456789"
	env := map[string]string{
		"OPTIMUM_CONFIG": cfgPath, "OPTIMUM_DATABASE_URL": dbURL, "OPTIMUM_REDIS_URL": redisURL,
		"OPTIMUM_REDIS_PREFIX": testenv.Prefix(t), "OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(), "TWILIO_FROM": "+15005550006",
		"OPTIMUM_TWILIO_API_URL": fake.URL(), "OPTIMUM_LOG_LEVEL": "info",
	}
	// All three at once on the empty database, as an orchestrator starts them: they take
	// turns migrating, and one creates the admin token the others then find.
	nodes := startNodes(t, bin, env, "A", "B", "C")
	a := nodes[0]
	b, c := nodes[1], nodes[2]
	for _, n := range nodes {
		if l := n.logs.String(); !strings.Contains(l, "database=postgres://") || !strings.Contains(l, `fanout="redis (single)"`) {
			t.Fatalf("node %s does not run on PostgreSQL and Redis:\n%s", n.name, n.logs)
		}
	}

	const people = 30
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range people {
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,+52 55 1234 %04d,es,technology,\n", i, i, 5000+i)
	}
	if status, body := (client{t, a.base, token}).do("POST", "/api/v1/people/import", "text/csv", csv.String()); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	boards := map[string]*websocket.Conn{}
	for _, n := range nodes {
		boards[n.name] = dialStream(t, n.base, token)
	}

	// Declare on A: the boards on B and C get it.
	first := declare(t, a.base, token, "Caída del centro de datos principal")
	awaitEvent(t, boards["B"], "incident.declared", first)
	awaitEvent(t, boards["C"], "incident.declared", first)

	// Acknowledge on C: A's board and A's API show it.
	if status, body := (client{t, c.base, token}).do("POST", "/api/v1/incidents/"+first+"/ack", "", ""); status != 200 {
		t.Fatalf("ack on C = %d %s", status, body)
	}
	awaitEvent(t, boards["A"], "incident.acknowledged", first)
	if status, body := (client{t, a.base, token}).do("GET", "/api/v1/incidents/"+first, "", ""); status != 200 || !bytes.Contains(body, []byte(`"status":"acknowledged"`)) {
		t.Fatalf("incident on A after the ack on C = %d %s", status, body)
	}

	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	awaitAllSent(t, db, first, people)

	// Now with SMS in flight (Twilio answers after a second), kill -9 the node holding the
	// most leases. Its deliveries must still end sent, by the other nodes.
	fake.SetLatency(time.Second)
	second := declare(t, b.base, token, "Incendio en el edificio B")
	var victim *node
	eventually(t, "deliveries leased by a node", func() bool {
		owner := busiestOwner(t, db, second)
		pid, err := strconv.Atoi(owner[strings.LastIndex(owner, ":")+1:])
		if owner == "" || err != nil {
			return false
		}
		for _, n := range nodes {
			if n.cmd.Process.Pid == pid {
				victim = n
			}
		}
		return victim != nil
	})
	victim.kill(t)
	t.Logf("killed node %s with deliveries in flight", victim.name)
	awaitAllSent(t, db, second, people)
	var resent int
	if err := db.QueryRow(`SELECT count(*) FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
		WHERE d.subject = $1 AND a.outcome = 'resent'`, second).Scan(&resent); err != nil {
		t.Fatal(err)
	}
	if resent == 0 {
		t.Error("no delivery was taken over from the killed node (no attempt marked resent)")
	}
	// Every person's phone got the second alert at Twilio at least once.
	var folio string
	db.QueryRow("SELECT folio FROM incidents WHERE id = $1", second).Scan(&folio)
	got := map[string]bool{}
	for _, m := range fake.Messages() {
		if m.Status == 201 && strings.Contains(m.Form.Get("Body"), folio) {
			got[m.Form.Get("To")] = true
		}
	}
	if len(got) != people {
		t.Errorf("%d of %d people got the second alert at Twilio", len(got), people)
	}
}

// busiestOwner returns the lease owner with the most deliveries of subject in flight.
func busiestOwner(t *testing.T, db *sql.DB, subject string) string {
	t.Helper()
	var owner string
	err := db.QueryRow(`SELECT lease_owner FROM deliveries WHERE subject = $1 AND status = 'sending'
		GROUP BY lease_owner ORDER BY count(*) DESC LIMIT 1`, subject).Scan(&owner)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return owner
}

// awaitAllSent waits until every one of want deliveries of subject is sent.
func awaitAllSent(t *testing.T, db *sql.DB, subject string, want int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := db.Query("SELECT status, count(*) FROM deliveries WHERE subject = $1 GROUP BY status", subject)
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for rows.Next() {
			var s string
			var n int
			rows.Scan(&s, &n)
			counts[s] = n
		}
		rows.Close()
		if counts["sent"] == want && len(counts) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries of %s by status: %v, want %d sent", subject, counts, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
