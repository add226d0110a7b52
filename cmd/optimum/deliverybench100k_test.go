package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/loadgen"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
	"github.com/optimum-bcp/optimum/internal/testenv"
)

// BenchmarkAlert100k alerts OPTIMUM_BENCH_RECIPIENTS people (default 100,000), each with
// a phone and one subscribed browser, through the real server on one node, against the
// fake push service and the fake Twilio (issue 16.4), on SQLite and on PostgreSQL. While
// the alert goes out, 1,000 boards watch /api/v1/stream and a small incident is declared
// every two seconds (OPTIMUM_BENCH_PROBES, default 10): the boards must stay live. It
// reports:
//
//	declare-ms            the alert's POST /api/v1/incidents → 201
//	last-first-channel-s  declare → the last person's first accepted channel
//	push/s, push-done-s   pushes accepted a second (steady part), declare → the last push
//	sms/s, sms-rate-ratio, sms-max-1s, sms-done-s  as BenchmarkAlert10k
//	probe-board-p99-ms    the probes' POST → each board holding its incident.declared, p99
//	probe-declare-p99-ms  the probes' POST → 201, p99 (the slowest if fewer than 100)
//	server-peak-rss-mib   the server process's peak resident memory from the declaration on
//	server-cpu-s          the server process's CPU time, declare → done
//	peak-rss-mib          the benchmark process's peak resident memory from the
//	                      declaration on (fakes, fronts and 1,000 board clients; the server
//	                      too with OPTIMUM_BENCH_SERVER=inprocess)
//	cpu-s                 the benchmark process's CPU time, declare → done
//
// Every delivery must end sent, and no message may be accepted twice; speeds are only
// reported. It also logs what bounded the run (store writer, claims, providers). Run it
// once per case: -benchtime=1x (docs/deliveries.md).
//
// Knobs: OPTIMUM_BENCH_RECIPIENTS, OPTIMUM_BENCH_SMS_RATE (default 1000),
// OPTIMUM_BENCH_CONCURRENCY (default 64, as shipped), OPTIMUM_BENCH_TIMEOUT (default 1h),
// OPTIMUM_BENCH_BOARDS (default 1000), OPTIMUM_BENCH_PROBES (default 10),
// OPTIMUM_BENCH_STORES (default "sqlite,postgres"), OPTIMUM_BENCH_SERVER ("process", the
// default: the server is built from this tree and runs as a process of its own;
// "inprocess": it runs in the benchmark's process, so that -cpuprofile covers it).
func BenchmarkAlert100k(b *testing.B) {
	opt := alertBenchOptions{recipients: 100000, smsRate: 1000, concurrency: 64, timeout: time.Hour}
	boards, probes := 1000, 10
	var err error
	env := func(k string, dst *int) {
		if v := os.Getenv(k); v != "" && err == nil {
			*dst, err = strconv.Atoi(v)
		}
	}
	env("OPTIMUM_BENCH_RECIPIENTS", &opt.recipients)
	env("OPTIMUM_BENCH_CONCURRENCY", &opt.concurrency)
	env("OPTIMUM_BENCH_BOARDS", &boards)
	env("OPTIMUM_BENCH_PROBES", &probes)
	if v := os.Getenv("OPTIMUM_BENCH_SMS_RATE"); v != "" && err == nil {
		opt.smsRate, err = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("OPTIMUM_BENCH_TIMEOUT"); v != "" && err == nil {
		opt.timeout, err = time.ParseDuration(v)
	}
	if err != nil || opt.recipients < 1 || opt.smsRate <= 0 || opt.concurrency < 1 || boards < 1 {
		b.Fatalf("bad OPTIMUM_BENCH_* setting (%v)", err)
	}
	stores := "sqlite,postgres"
	if v := os.Getenv("OPTIMUM_BENCH_STORES"); v != "" {
		stores = v
	}
	process := true
	switch v := os.Getenv("OPTIMUM_BENCH_SERVER"); v {
	case "", "process":
	case "inprocess":
		process = false
	default:
		b.Fatalf("OPTIMUM_BENCH_SERVER=%q: process or inprocess", v)
	}
	for _, st := range strings.Split(stores, ",") {
		b.Run(st, func(b *testing.B) {
			var runs []bigAlertResult
			for range b.N {
				b.StopTimer()
				runs = append(runs, runBigAlert(b, opt, bigAlertSetup{store: st, nodes: 1, boards: boards, probes: probes, process: process}))
			}
			reportBigAlert(b, opt, runs)
		})
	}
}

// BenchmarkAlert10kTwoNodes is issue 16.3's alert: OPTIMUM_BENCH_RECIPIENTS people
// (default 10,000), push and SMS, on two nodes (separate processes, built from this
// tree) sharing PostgreSQL and Redis (the SMS limit shared through Redis), against the
// same fakes and with the same checks and figures as BenchmarkAlert100k, without boards
// or probes. Targets: SMS at least 0.95 of the rate and never above, pushes at least
// 2,000 a second, nobody twice. OPTIMUM_BENCH_SMS_RATE defaults to 200 here.
func BenchmarkAlert10kTwoNodes(b *testing.B) {
	opt := alertBenchOptionsFromEnv(b)
	var runs []bigAlertResult
	for range b.N {
		b.StopTimer()
		runs = append(runs, runBigAlert(b, opt, bigAlertSetup{store: "postgres", nodes: 2}))
	}
	reportBigAlert(b, opt, runs)
}

// bigAlertSetup is what runBigAlert runs on: the store ("sqlite" or "postgres"), how many
// nodes (2 or more: separate processes on PostgreSQL and Redis), and how many boards
// watch and probe incidents are declared during the alert.
type bigAlertSetup struct {
	store                 string
	nodes, boards, probes int
	// process runs a single node as a process of its own (built from this tree), so its
	// memory and CPU are told apart from the benchmark's fakes, fronts and boards.
	process bool
}

type bigAlertResult struct {
	alertBenchResult
	declare, probeBoardP99, probeDeclareP99 time.Duration
	peakRSS                                 int64 // bytes
	// When the server runs as processes of its own (setup.process, or several nodes):
	// their CPU time, and the largest peak resident memory of one of them.
	serverCPU     time.Duration
	serverPeakRSS int64
}

// runBigAlert sets up a server with the recipients (timer stopped), opens the boards,
// declares the alert (timer running until every delivery is recorded), declares the
// probes meanwhile, then checks and measures.
func runBigAlert(b *testing.B, opt alertBenchOptions, setup bigAlertSetup) bigAlertResult {
	storeName, boards, probes := setup.store, setup.boards, setup.probes
	ctx := context.Background()
	n := opt.recipients
	dir := b.TempDir()

	keys, err := webpush.GenerateKeys()
	if err != nil {
		b.Fatal(err)
	}
	push := webpushtest.New(b, webpushtest.Options{VAPIDPublicKey: keys.Public})
	tw := twiliotest.New(b, twiliotest.Options{})
	pushFront := newBenchFront(b, push.URL, 0, 1, pushEndpointKey, pushFailure)
	smsFront := newBenchFront(b, tw.URL(), 0, 2, twilioDeliveryKey, twilioFailure)

	cfgPath := filepath.Join(dir, "optimum.yaml")
	cfg := fmt.Sprintf(`delivery:
  rates: {sms: %g, webpush: 0}
  concurrency: %d
  retry_for: 1h
limits:
  declare_per_client: {per_minute: 1000, burst: 1000}
  declare_per_actor: {per_minute: 1000, burst: 1000}
stream:
  max_per_token: %d
escalation:
  ladders: []
`, opt.smsRate, opt.concurrency, boards+100)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{
		"OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_DATA": filepath.Join(dir, "data"), "OPTIMUM_CONFIG": cfgPath,
		"OPTIMUM_BOOTSTRAP_TOKEN": benchToken, "OPTIMUM_PUBLIC_URL": benchPublic,
		"TWILIO_ACCOUNT_SID": tw.AccountSID(), "TWILIO_AUTH_TOKEN": tw.AuthToken(), "TWILIO_FROM": "+15005550006",
		"OPTIMUM_TWILIO_API_URL": smsFront.URL, "OPTIMUM_PUSH_ALLOW_PRIVATE": "1",
		"VAPID_PUBLIC_KEY": keys.Public, "VAPID_PRIVATE_KEY": keys.Private, "VAPID_SUBJECT": "mailto:ops@bcp.example.test",
	}
	var pgURL string
	if storeName == "postgres" {
		pgURL = storetest.PostgresURL(b)
		env["OPTIMUM_DATABASE_URL"] = pgURL
	} else if storeName != "sqlite" {
		b.Fatalf("unknown store %q (sqlite or postgres)", storeName)
	}
	getenv := func(k string) string { return env[k] }

	// The directory, through the import command in files of at most MaxImportRows; and
	// a team of three for the probes.
	var out bytes.Buffer
	importCSV := func(name, body string) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			b.Fatal(err)
		}
		if err := run(ctx, []string{"import", "contacts", path}, getenv, &out, &out); err != nil {
			b.Fatalf("import: %v\n%s", err, out.String())
		}
	}
	for from := 0; from < n; from += contacts.MaxImportRows {
		var csv strings.Builder
		csv.WriteString("name,email,phone,language,teams,manager_email\n")
		for i := from; i < min(n, from+contacts.MaxImportRows); i++ {
			lang := [2]string{"es", "en"}[i%2]
			fmt.Fprintf(&csv, "Persona %06d,p%06d@bench.example.test,%s,%s,%s,\n", i, i, benchPhone(i), lang, benchTeam)
		}
		importCSV(fmt.Sprintf("people-%d.csv", from), csv.String())
	}
	importCSV("guardia.csv", "name,email,phone,language,teams,manager_email\n"+
		"Guardia Uno,g1@bench.example.test,+525599000001,es,guardia,\n"+
		"Guardia Dos,g2@bench.example.test,+525599000002,es,guardia,\n"+
		"Guardia Tres,g3@bench.example.test,+525599000003,es,guardia,\n")

	// One browser each, written straight into the database in one transaction (there is
	// no bulk API, and saving 100,000 one by one, each with its synced commit, would take
	// minutes).
	rcfg, err := loadConfig(getenv)
	if err != nil {
		b.Fatal(err)
	}
	raw := benchOpenSQL(b, storeName, rcfg.SQLitePath(), pgURL, false)
	if storeName == "postgres" {
		// The test database skips the WAL flush; the benchmark measures the shipped
		// setting (synchronous_commit=on, PostgreSQL's default).
		var name string
		if err := raw.QueryRow("SELECT current_database()").Scan(&name); err != nil {
			b.Fatal(err)
		}
		if _, err := raw.Exec("ALTER DATABASE " + name + " SET synchronous_commit = on"); err != nil {
			b.Fatal(err)
		}
	}
	personOf := map[string]int{}   // person id → index
	byEndpoint := map[string]int{} // endpoint path → index
	rows, err := raw.Query("SELECT id, email FROM people WHERE email LIKE 'p%@bench.example.test'")
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id, email string
		if err := rows.Scan(&id, &email); err != nil {
			b.Fatal(err)
		}
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(email, "p"), "@bench.example.test"))
		if err != nil {
			b.Fatal(err)
		}
		personOf[id] = i
	}
	rows.Close()
	if len(personOf) != n {
		b.Fatalf("%d people imported, want %d", len(personOf), n)
	}
	tx, err := raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	var batch []any
	flush := func() {
		if len(batch) == 0 {
			return
		}
		var q strings.Builder
		q.WriteString("INSERT INTO push_subscriptions (id, person_id, endpoint, p256dh, auth, user_agent, created_at) VALUES ")
		for j := 0; j < len(batch)/5; j++ {
			if j > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, 'deliverybench', %d)", 5*j+1, 5*j+2, 5*j+3, 5*j+4, 5*j+5, time.Now().UnixMilli())
		}
		if _, err := tx.Exec(q.String(), batch...); err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for id, i := range personOf {
		subJSON, endpoint := push.NewSubscription()
		sub, err := webpush.ParseSubscription(subJSON)
		if err != nil {
			b.Fatal(err)
		}
		path := strings.TrimPrefix(endpoint, push.URL)
		byEndpoint[path] = i
		batch = append(batch, optimum.NewID("psb"), id, pushFront.URL+path, sub.Keys.P256dh, sub.Keys.Auth)
		if len(batch) >= 500*5 {
			flush()
		}
	}
	flush()
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	raw.Close()

	var (
		base  string
		bases []string
		logs  interface{ String() string }
		stop  func() error
	)
	var pids []int // the server processes, when not this one
	if setup.nodes <= 1 && !setup.process {
		var l *logBuffer
		base, l, stop = startBenchServer(b, env)
		logs, bases = l, []string{base}
	} else {
		nodeEnv := map[string]string{}
		for k, v := range env {
			if k != "OPTIMUM_ADDR" && (k != "OPTIMUM_DATA" || setup.nodes <= 1) {
				nodeEnv[k] = v
			}
		}
		if setup.nodes > 1 {
			if storeName != "postgres" {
				b.Fatal("several nodes need PostgreSQL")
			}
			nodeEnv["OPTIMUM_REDIS_URL"], nodeEnv["OPTIMUM_REDIS_PREFIX"] = testenv.RedisURL(b), testenv.Prefix(b)
		}
		var names []string
		for i := range max(setup.nodes, 1) {
			names = append(names, string(rune('A'+i)))
		}
		nodes := startNodes(b, buildOptimum(b), nodeEnv, names...)
		var all strings.Builder
		for _, nd := range nodes {
			bases = append(bases, nd.base)
			pids = append(pids, nd.cmd.Process.Pid)
		}
		base = bases[0]
		logs = &all
		stop = func() error {
			var errs []string
			for _, nd := range nodes {
				_ = nd.cmd.Process.Signal(syscall.SIGTERM)
				if err := <-nd.done; err != nil {
					errs = append(errs, fmt.Sprintf("node %s: %v", nd.name, err))
				}
				all.WriteString(nd.logs.String())
			}
			if len(errs) > 0 {
				return fmt.Errorf("%s", strings.Join(errs, "; "))
			}
			return nil
		}
	}
	tw.Route(benchPublic, base)
	ro := benchOpenSQL(b, storeName, rcfg.SQLitePath(), pgURL, true)
	defer ro.Close()

	// The boards.
	var fleet *loadgen.Fleet
	if boards > 0 {
		fleet, err = loadgen.Dial(ctx, loadgen.Config{URL: base + "/api/v1/stream?token=" + url.QueryEscape(benchToken), Clients: boards,
			Ready: `"type":"stream.ready"`})
		if err != nil {
			b.Fatal(err)
		}
		defer fleet.Close()
	}
	readAll := func() benchMetrics {
		sum := benchMetrics{}
		for _, u := range bases {
			for k, v := range readBenchMetrics(b, u) {
				sum[k] += v
			}
		}
		return sum
	}

	load := benchLoadAvg()
	cpu0 := benchCPUTime()
	var serverCPU0 time.Duration
	for _, pid := range pids {
		serverCPU0 += benchProcCPU(pid)
		benchResetProcPeakRSS(pid)
	}
	metrics0 := readAll()
	benchResetPeakRSS()
	b.StartTimer()
	declared := time.Now()
	incID := benchDeclare(b, base)
	res := bigAlertResult{declare: time.Since(declared)}

	// The probes: a small incident every two seconds while the alert goes out.
	type probe struct {
		answered time.Duration
		exp      *loadgen.Expectation
		boards   loadgen.Result
		at       time.Time
	}
	probeDone := make(chan []probe, 1)
	go func() {
		var ps []probe
		for i := range probes {
			time.Sleep(2 * time.Second)
			title := fmt.Sprintf("Sonda %d durante la alerta", i+1)
			e := fleet.Expect(`"type":"incident.declared"`, `"title":"`+title+`"`)
			at := time.Now()
			status, err := benchPost(base, `{"title":"`+title+`","impact":"low","urgency":"low","teams":["guardia"]}`)
			answered := time.Since(at)
			if err != nil || status != http.StatusCreated {
				b.Errorf("probe %d: %d %v", i+1, status, err)
				break
			}
			ps = append(ps, probe{answered: answered, exp: e, boards: e.Wait(ctx, 30*time.Second), at: at})
		}
		probeDone <- ps
	}()

	want := 2 * n
	deadline := declared.Add(opt.timeout)
	// Progress every 10 s on stderr, so a run cut short still shows how far it got.
	progress := func() {
		var created, sentPush, sentSMS int
		_ = ro.QueryRow(`SELECT count(*), coalesce(sum(CASE WHEN status = 'sent' AND channel = 'webpush' THEN 1 ELSE 0 END), 0),
			coalesce(sum(CASE WHEN status = 'sent' AND channel = 'sms' THEN 1 ELSE 0 END), 0) FROM deliveries WHERE subject = $1`, incID).
			Scan(&created, &sentPush, &sentSMS)
		fmt.Fprintf(os.Stderr, "alert +%.0f s: %d deliveries created, %d pushes and %d SMS sent; declare took %v; peak RSS %d MiB; load %s\n",
			time.Since(declared).Seconds(), created, sentPush, sentSMS, res.declare.Round(time.Millisecond), benchPeakRSS()>>20, benchLoadAvg())
	}
	timedOut := false
	lastProgress := time.Now()
	for queued := false; ; {
		if time.Since(lastProgress) >= 10*time.Second {
			progress()
			lastProgress = time.Now()
		}
		if time.Now().After(deadline) {
			timedOut = true
			break
		}
		time.Sleep(200 * time.Millisecond)
		var c int
		if !queued {
			err = ro.QueryRow("SELECT count(*) FROM deliveries WHERE subject = $1", incID).Scan(&c)
			queued = err == nil && c == want
			if err == nil && c > want {
				b.Fatalf("%d deliveries queued, want %d", c, want)
			}
			continue
		}
		err = ro.QueryRow("SELECT count(*) FROM deliveries WHERE subject = $1 AND status IN ('queued', 'sending')", incID).Scan(&c)
		if err == nil && c == 0 {
			break
		}
	}
	total := time.Since(declared)
	b.StopTimer()
	res.total, res.cpu, res.peakRSS = total, benchCPUTime()-cpu0, benchPeakRSS()
	for _, pid := range pids {
		res.serverCPU += benchProcCPU(pid)
		res.serverPeakRSS = max(res.serverPeakRSS, benchProcPeakRSS(pid))
	}
	res.serverCPU -= serverCPU0
	ps := <-probeDone
	b.Logf("%d recipients on %s: load average %s before the alert, %s after (other processes share the cores)", n, storeName, load, benchLoadAvg())
	b.Log(benchBounds(metrics0, readAll(), total, opt.concurrency, map[string]*benchFront{"webpush": pushFront, "sms": smsFront}))
	var (
		boardLat, declLat []time.Duration
		probeLog          strings.Builder
	)
	for i, p := range ps {
		if p.boards.Missing > 0 {
			b.Errorf("probe %d: %d of %d boards never got it", i+1, p.boards.Missing, p.boards.Clients)
		}
		for _, t := range p.exp.Times() {
			if t > 0 {
				boardLat = append(boardLat, time.Duration(t-p.at.UnixNano()))
			}
		}
		declLat = append(declLat, p.answered)
		fmt.Fprintf(&probeLog, "  probe %d at +%.1f s: declare %v, boards p50 %v p99 %v\n", i+1, p.at.Sub(declared).Seconds(),
			p.answered.Round(time.Millisecond), time.Duration(p.boards.P50-p.at.UnixNano()).Round(time.Millisecond),
			time.Duration(p.boards.P99-p.at.UnixNano()).Round(time.Millisecond))
	}
	if len(ps) > 0 {
		b.Log("the probes, each declared during the alert and watched by every board:\n" + probeLog.String())
	}
	if timedOut {
		progress()
		b.Fatalf("after %v, not every delivery was recorded (declare took %v)\n%s", opt.timeout, res.declare, benchTail(logs.String(), 2000))
	}
	slices.Sort(boardLat)
	slices.Sort(declLat)
	res.probeBoardP99, res.probeDeclareP99 = loadgen.Percentile(boardLat, 99), loadgen.Percentile(declLat, 99)
	if fleet != nil {
		fleet.Close()
	}
	if err := stop(); err != nil {
		b.Fatalf("run: %v\n%s", err, benchTail(logs.String(), 4000))
	}

	// What the database recorded: every delivery sent, none beyond one per person and
	// channel.
	type del struct{ recipient, channel, status string }
	dels := map[string]del{}
	rows, err = ro.Query("SELECT id, recipient, channel, status FROM deliveries WHERE subject = $1", incID)
	if err != nil {
		b.Fatal(err)
	}
	perPerson := map[string]int{}
	for rows.Next() {
		var id string
		var d del
		if err := rows.Scan(&id, &d.recipient, &d.channel, &d.status); err != nil {
			b.Fatal(err)
		}
		dels[id] = d
		perPerson[d.recipient+"/"+d.channel]++
	}
	rows.Close()
	notSent := 0
	for _, d := range dels {
		if d.status != "sent" {
			notSent++
		}
	}
	if len(dels) != want || notSent > 0 || len(perPerson) != want {
		b.Fatalf("%d deliveries (%d person-channels), %d not sent; want %d, all sent", len(dels), len(perPerson), notSent, want)
	}

	// What the providers saw.
	accepted := map[string]int{} // delivery id or endpoint → accepted requests
	firstChannel := make([]time.Time, n)
	reach := func(person int, at time.Time) {
		if firstChannel[person].IsZero() || at.Before(firstChannel[person]) {
			firstChannel[person] = at
		}
	}
	var smsAll, smsOK, pushOK []time.Time
	requests := 0
	for _, r := range smsFront.Requests() {
		d, ok := dels[r.Key]
		if !ok {
			continue // a probe's
		}
		requests++
		smsAll = append(smsAll, r.At)
		if r.Accepted() {
			accepted[r.Key]++
			smsOK = append(smsOK, r.At)
			reach(personOf[d.recipient], r.At)
		}
	}
	for _, r := range pushFront.Requests() {
		p, ok := byEndpoint[r.Key]
		if !ok {
			b.Fatalf("a push went to an unknown endpoint %q", r.Key)
		}
		requests++
		if r.Accepted() {
			accepted[r.Key]++
			pushOK = append(pushOK, r.At)
			reach(p, r.At)
		}
	}
	twice := 0
	for _, c := range accepted {
		if c > 1 {
			twice++
		}
	}
	if twice > 0 || len(accepted) != want {
		b.Fatalf("%d messages accepted twice; %d accepted, want %d", twice, len(accepted), want)
	}
	res.extraRequests = requests - want
	for i, at := range firstChannel {
		if at.IsZero() {
			b.Fatalf("person %d was never reached", i)
		}
		res.lastFirstChannel = max(res.lastFirstChannel, at.Sub(declared))
	}
	for _, ts := range [][]time.Time{smsAll, smsOK, pushOK} {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	res.smsPerSec, res.smsReqPerSec, res.pushPerSec = benchSteadyRate(smsOK), benchSteadyRate(smsAll), benchSteadyRate(pushOK)
	res.smsMax1s = float64(benchMaxInWindow(smsAll, time.Second))
	res.smsDone, res.pushDone = smsOK[len(smsOK)-1].Sub(declared), pushOK[len(pushOK)-1].Sub(declared)
	return res
}

func reportBigAlert(b *testing.B, opt alertBenchOptions, runs []bigAlertResult) {
	var sum bigAlertResult
	for _, r := range runs {
		sum.declare += r.declare
		sum.lastFirstChannel += r.lastFirstChannel
		sum.pushPerSec += r.pushPerSec
		sum.pushDone += r.pushDone
		sum.smsPerSec += r.smsPerSec
		sum.smsReqPerSec += r.smsReqPerSec
		sum.smsMax1s = max(sum.smsMax1s, r.smsMax1s)
		sum.smsDone += r.smsDone
		sum.probeBoardP99 = max(sum.probeBoardP99, r.probeBoardP99)
		sum.probeDeclareP99 = max(sum.probeDeclareP99, r.probeDeclareP99)
		sum.peakRSS = max(sum.peakRSS, r.peakRSS)
		sum.serverPeakRSS = max(sum.serverPeakRSS, r.serverPeakRSS)
		sum.serverCPU += r.serverCPU
		sum.cpu += r.cpu
		sum.extraRequests += r.extraRequests
	}
	k := float64(len(runs))
	b.ReportMetric(float64(sum.declare.Milliseconds())/k, "declare-ms")
	b.ReportMetric(sum.lastFirstChannel.Seconds()/k, "last-first-channel-s")
	b.ReportMetric(sum.pushPerSec/k, "push/s")
	b.ReportMetric(sum.pushDone.Seconds()/k, "push-done-s")
	b.ReportMetric(sum.smsPerSec/k, "sms/s")
	b.ReportMetric(sum.smsReqPerSec/k/opt.smsRate, "sms-rate-ratio")
	b.ReportMetric(sum.smsMax1s, "sms-max-1s")
	b.ReportMetric(sum.smsDone.Seconds()/k, "sms-done-s")
	b.ReportMetric(float64(sum.probeBoardP99.Microseconds())/1000, "probe-board-p99-ms")
	b.ReportMetric(float64(sum.probeDeclareP99.Microseconds())/1000, "probe-declare-p99-ms")
	b.ReportMetric(float64(sum.peakRSS)/(1<<20), "peak-rss-mib")
	b.ReportMetric(sum.cpu.Seconds()/k, "cpu-s")
	b.ReportMetric(float64(sum.extraRequests)/k, "extra-requests")
	if sum.serverPeakRSS > 0 {
		b.ReportMetric(float64(sum.serverPeakRSS)/(1<<20), "server-peak-rss-mib")
		b.ReportMetric(sum.serverCPU.Seconds()/k, "server-cpu-s")
	}
}

// benchOpenSQL opens the benchmark's database directly: SQLite (read-only when ro) or
// PostgreSQL.
func benchOpenSQL(b *testing.B, storeName, sqlitePath, pgURL string, ro bool) *sql.DB {
	b.Helper()
	var (
		db  *sql.DB
		err error
	)
	if storeName == "postgres" {
		db, err = sql.Open("pgx", pgURL)
	} else {
		dsn := "file:" + filepath.ToSlash(sqlitePath) + "?_pragma=busy_timeout(10000)"
		if ro {
			dsn += "&_pragma=query_only(1)"
		}
		db, err = sql.Open("sqlite", dsn)
	}
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// benchPost declares with the admin token and returns the status.
func benchPost(base, body string) (int, error) {
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var inc struct{ ID string }
	_ = json.Unmarshal(data, &inc)
	return res.StatusCode, nil
}

// benchResetPeakRSS resets the process's peak resident set (VmHWM) to its current size,
// so benchPeakRSS reports the peak from now on (Linux; elsewhere a no-op).
func benchResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// benchResetProcPeakRSS and benchProcPeakRSS are benchResetPeakRSS and benchPeakRSS for
// another process.
func benchResetProcPeakRSS(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func benchProcPeakRSS(pid int) int64 { return vmHWM(fmt.Sprintf("/proc/%d/status", pid)) }

// benchProcCPU is the CPU time (user and system) process pid has used, 0 where unknown.
func benchProcCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command's closing parenthesis; utime and stime are the 12th
	// and 13th of them, in clock ticks (100 a second on Linux).
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// benchPeakRSS is the process's peak resident set in bytes (VmHWM), 0 where unknown.
func benchPeakRSS() int64 { return vmHWM("/proc/self/status") }

func vmHWM(statusFile string) int64 {
	data, err := os.ReadFile(statusFile)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
