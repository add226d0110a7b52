package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/store"
)

// BenchmarkAlert10k alerts a team of OPTIMUM_BENCH_RECIPIENTS people (default 10,000),
// each with a phone and one subscribed browser, through the real server (run) against
// the fake Twilio and the fake push service, and reports what the providers saw:
//
//	sms/s                 SMS accepted per second over the steady part (5th to 95th percentile)
//	sms-rate-ratio        SMS requests per second over the steady part / the configured limit
//	sms-max-1s            most SMS requests in any 1-second window (the limit allows rate+1)
//	push/s                pushes accepted per second over the steady part
//	last-first-channel-s  declare → the last person's first accepted channel
//	push-done-s, sms-done-s  declare → the last push, the last SMS accepted
//	extra-requests        provider requests beyond one per delivery
//	unexplained-extra     extra requests without a retry or resend recorded for them
//	push-conns, sms-conns TCP connections the server opened to each provider
//	max-attempts          the most attempts one delivery needed
//	cpu-s                 CPU time of the whole process (server, fakes, fronts), declare → done
//
// ns/op is declare → every delivery recorded as sent. "faults20" has each provider
// answer 20% of requests with 429 (Retry-After: 1) or 500. A delivery not sent, an
// unexplained extra request, or a message accepted twice fails the benchmark; speeds
// are only reported. Run it once per case: -benchtime=1x (see docs/deliveries.md).
//
// Knobs (environment): OPTIMUM_BENCH_RECIPIENTS, OPTIMUM_BENCH_SMS_RATE (delivery.rates.sms,
// default 200), OPTIMUM_BENCH_CONCURRENCY (delivery.concurrency, default 64 as shipped),
// OPTIMUM_BENCH_TIMEOUT (how long one alert may take, default 1h; give go test a -timeout
// above twice that).
func BenchmarkAlert10k(b *testing.B) {
	opt := alertBenchOptionsFromEnv(b)
	for _, c := range []struct {
		name   string
		faults float64
	}{{"clean", 0}, {"faults20", 0.2}} {
		b.Run(c.name, func(b *testing.B) {
			var runs []alertBenchResult
			for range b.N {
				b.StopTimer()
				runs = append(runs, runAlertBench(b, opt, c.faults))
			}
			reportAlertBench(b, opt, runs)
		})
	}
}

// alertBenchOptions are the benchmark's knobs.
type alertBenchOptions struct {
	recipients  int
	smsRate     float64
	concurrency int
	timeout     time.Duration
}

func alertBenchOptionsFromEnv(tb testing.TB) alertBenchOptions {
	tb.Helper()
	o := alertBenchOptions{recipients: 10000, smsRate: 200, concurrency: 64, timeout: time.Hour}
	var err error
	if v := os.Getenv("OPTIMUM_BENCH_RECIPIENTS"); v != "" {
		o.recipients, err = strconv.Atoi(v)
	}
	if v := os.Getenv("OPTIMUM_BENCH_SMS_RATE"); v != "" && err == nil {
		o.smsRate, err = strconv.ParseFloat(v, 64)
	}
	if v := os.Getenv("OPTIMUM_BENCH_CONCURRENCY"); v != "" && err == nil {
		o.concurrency, err = strconv.Atoi(v)
	}
	if v := os.Getenv("OPTIMUM_BENCH_TIMEOUT"); v != "" && err == nil {
		o.timeout, err = time.ParseDuration(v)
	}
	if err != nil || o.recipients < 1 || o.recipients > contacts.MaxImportRows || o.smsRate <= 0 || o.concurrency < 1 {
		tb.Fatalf("bad OPTIMUM_BENCH_* setting (%v): %+v", err, o)
	}
	return o
}

// alertBenchResult is what one alert measured.
type alertBenchResult struct {
	smsPerSec, smsReqPerSec, smsMax1s, pushPerSec        float64
	lastFirstChannel, pushDone, smsDone, total           time.Duration
	extraRequests, unexplainedExtra, pushConns, smsConns int
	maxAttempts                                          int
	cpu                                                  time.Duration // the process's CPU time, declare → done
}

const (
	benchTeam   = "operations"
	benchToken  = "deliverybench-admin-token-0123456789"
	benchPublic = "https://bcp.example.test"
)

// runAlertBench sets up a server with the recipients (timer stopped), declares one
// incident (timer running until every delivery is recorded), then checks and measures.
func runAlertBench(b *testing.B, opt alertBenchOptions, faults float64) alertBenchResult {
	ctx := context.Background()
	n := opt.recipients
	dir := b.TempDir()

	keys, err := webpush.GenerateKeys()
	if err != nil {
		b.Fatal(err)
	}
	push := webpushtest.New(b, webpushtest.Options{VAPIDPublicKey: keys.Public})
	tw := twiliotest.New(b, twiliotest.Options{})
	pushFront := newBenchFront(b, push.URL, faults, 1, pushEndpointKey, pushFailure)
	smsFront := newBenchFront(b, tw.URL(), faults, 2, twilioDeliveryKey, twilioFailure)

	cfgPath := filepath.Join(dir, "optimum.yaml")
	cfg := fmt.Sprintf(`delivery:
  rates: {sms: %g, webpush: 0}
  concurrency: %d
  retry_for: 1h
limits:
  declare_per_client: {per_minute: 1000, burst: 1000}
  declare_per_actor: {per_minute: 1000, burst: 1000}
# The alert alone: no ladder, so no reminders join the queue while it is measured.
escalation:
  ladders: []
`, opt.smsRate, opt.concurrency)
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
	getenv := func(k string) string { return env[k] }

	// The directory: one CSV file through the import command, as an operator would.
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range n {
		lang := [2]string{"es", "en"}[i%2]
		fmt.Fprintf(&csv, "Persona %05d,p%05d@bench.example.test,%s,%s,%s,\n", i, i, benchPhone(i), lang, benchTeam)
	}
	csvPath := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"import", "contacts", csvPath}, getenv, &out, &out); err != nil {
		b.Fatalf("import: %v\n%s", err, out.String())
	}

	// One browser each, saved through the store before the server starts (there is no
	// bulk API, and signing in 10,000 users would measure sign-in).
	rcfg, err := loadConfig(getenv)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.OpenSQLite(ctx, rcfg.SQLitePath())
	if err != nil {
		b.Fatal(err)
	}
	people, err := db.Contacts().People(ctx, contacts.Filter{Teams: []string{benchTeam}, Limit: n + 1})
	if err != nil || len(people) != n {
		b.Fatalf("people = %d, %v; want %d", len(people), err, n)
	}
	personOf := map[string]int{}   // person id → index
	byEndpoint := map[string]int{} // endpoint path → index
	for i, p := range people {
		personOf[p.ID] = i
		subJSON, endpoint := push.NewSubscription()
		sub, err := webpush.ParseSubscription(subJSON)
		if err != nil {
			b.Fatal(err)
		}
		path := strings.TrimPrefix(endpoint, push.URL)
		sub.Endpoint = pushFront.URL + path
		byEndpoint[path] = i
		if _, _, err := db.Push().Save(ctx, p.ID, sub, "deliverybench"); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}

	base, logs, stop := startBenchServer(b, env)
	tw.Route(benchPublic, base)
	ro, err := sql.Open("sqlite", "file:"+filepath.ToSlash(rcfg.SQLitePath())+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer ro.Close()

	load := benchLoadAvg()
	cpu0 := benchCPUTime()
	metrics0 := readBenchMetrics(b, base)
	b.StartTimer()
	declared := time.Now()
	incID := benchDeclare(b, base)
	want := 2 * n
	deadline := declared.Add(opt.timeout)
	for queued := false; ; {
		if time.Now().After(deadline) {
			b.Fatalf("after %v, not every delivery was recorded\n%s", opt.timeout, benchTail(logs.String(), 4000))
		}
		time.Sleep(100 * time.Millisecond)
		var c int
		if !queued {
			err = ro.QueryRow("SELECT count(*) FROM deliveries WHERE subject = $1", incID).Scan(&c)
			queued = err == nil && c == want
			if err == nil && c > want {
				b.Fatalf("%d deliveries queued, want %d", c, want)
			}
			continue
		}
		// Only this incident's deliveries are in the database.
		err = ro.QueryRow("SELECT count(*) FROM deliveries WHERE status IN ($1, $2)", broadcast.StatusQueued, broadcast.StatusSending).Scan(&c)
		if err == nil && c == 0 {
			break
		}
	}
	total := time.Since(declared)
	b.StopTimer()
	cpu := benchCPUTime() - cpu0
	b.Logf("%d recipients: load average %s before the alert, %s after (other processes share the cores)", n, load, benchLoadAvg())
	b.Log(benchBounds(metrics0, readBenchMetrics(b, base), total, opt.concurrency, map[string]*benchFront{"webpush": pushFront, "sms": smsFront}))
	if err := stop(); err != nil {
		b.Fatalf("run: %v\n%s", err, benchTail(logs.String(), 4000))
	}

	// What the database recorded.
	db, err = store.OpenSQLite(ctx, rcfg.SQLitePath())
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	states, err := db.Deliveries().SubjectDeliveries(ctx, incID)
	if err != nil {
		b.Fatal(err)
	}
	if len(states) != want {
		b.Fatalf("%d deliveries, want %d", len(states), want)
	}
	res := alertBenchResult{total: total, cpu: cpu, pushConns: int(pushFront.conns.Load()), smsConns: int(smsFront.conns.Load())}
	pushDelivery := map[int]string{} // person index → webpush delivery id
	explained := map[string]int{}    // delivery id → attempts ended with retry or resent
	notSent := 0
	var slowest []string // the attempts of a delivery that needed the most
	for _, d := range states {
		if d.Status != broadcast.StatusSent {
			if notSent++; notSent <= 5 {
				b.Errorf("delivery %s (%s) is %s: %s", d.ID, d.Channel, d.Status, d.Error)
			}
		}
		if d.Channel == broadcast.ChannelWebPush {
			pushDelivery[personOf[d.Recipient]] = d.ID
		}
		attempts, err := db.Deliveries().Attempts(ctx, d.ID)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range attempts {
			if strings.HasPrefix(a, "retry") || strings.HasPrefix(a, "resent") {
				explained[d.ID]++
			}
		}
		if d.Attempts > res.maxAttempts {
			res.maxAttempts, slowest = d.Attempts, attempts
		}
	}
	if res.maxAttempts > 1 {
		b.Logf("a delivery that needed %d attempts: %q", res.maxAttempts, slowest)
	}
	if notSent > 0 {
		b.Fatalf("%d of %d deliveries did not end sent", notSent, want)
	}

	// What the providers saw.
	requests := map[string][]frontRequest{} // delivery id → its requests
	firstChannel := make([]time.Time, n)
	var smsAll, smsOK, pushOK []time.Time
	accepted := func(person int, at time.Time) {
		if firstChannel[person].IsZero() || at.Before(firstChannel[person]) {
			firstChannel[person] = at
		}
	}
	smsPerson := map[string]int{} // delivery id → person index
	for _, d := range states {
		if d.Channel == broadcast.ChannelSMS {
			smsPerson[d.ID] = personOf[d.Recipient]
		}
	}
	for _, r := range smsFront.Requests() {
		p, ok := smsPerson[r.Key]
		if !ok {
			b.Fatalf("an SMS request names no delivery of the incident: %q", r.Key)
		}
		requests[r.Key] = append(requests[r.Key], r)
		smsAll = append(smsAll, r.At)
		if r.Accepted() {
			smsOK = append(smsOK, r.At)
			accepted(p, r.At)
		}
	}
	for _, r := range pushFront.Requests() {
		p, ok := byEndpoint[r.Key]
		if !ok {
			b.Fatalf("a push went to an unknown endpoint %q", r.Key)
		}
		id := pushDelivery[p]
		requests[id] = append(requests[id], r)
		if r.Accepted() {
			pushOK = append(pushOK, r.At)
			accepted(p, r.At)
		}
	}
	if rej := push.Rejected(); len(rej) > 0 {
		b.Fatalf("the push service refused %d pushes, e.g. %+v", len(rej), rej[0])
	}
	twice := 0
	for _, d := range states {
		rs := requests[d.ID]
		ok := 0
		for _, r := range rs {
			if r.Accepted() {
				ok++
			}
		}
		if ok == 0 {
			b.Fatalf("delivery %s (%s) is recorded sent but no provider accepted it", d.ID, d.Channel)
		}
		if ok > 1 {
			twice++
		}
		extra := len(rs) - 1
		res.extraRequests += extra
		if u := extra - explained[d.ID]; u > 0 {
			res.unexplainedExtra += u
		}
	}
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
	if res.unexplainedExtra > 0 || twice > 0 {
		b.Fatalf("%d provider requests beyond the first of a delivery have no recorded reason; %d messages were accepted twice", res.unexplainedExtra, twice)
	}
	return res
}

// reportAlertBench reports the mean of the runs.
func reportAlertBench(b *testing.B, opt alertBenchOptions, runs []alertBenchResult) {
	var sum alertBenchResult
	for _, r := range runs {
		sum.smsPerSec += r.smsPerSec
		sum.smsReqPerSec += r.smsReqPerSec
		sum.smsMax1s = max(sum.smsMax1s, r.smsMax1s)
		sum.pushPerSec += r.pushPerSec
		sum.lastFirstChannel += r.lastFirstChannel
		sum.pushDone += r.pushDone
		sum.smsDone += r.smsDone
		sum.extraRequests += r.extraRequests
		sum.unexplainedExtra += r.unexplainedExtra
		sum.pushConns += r.pushConns
		sum.smsConns += r.smsConns
		sum.cpu += r.cpu
		sum.maxAttempts = max(sum.maxAttempts, r.maxAttempts)
	}
	k := float64(len(runs))
	b.ReportMetric(sum.smsPerSec/k, "sms/s")
	b.ReportMetric(sum.smsReqPerSec/k/opt.smsRate, "sms-rate-ratio")
	b.ReportMetric(sum.smsMax1s, "sms-max-1s")
	b.ReportMetric(sum.pushPerSec/k, "push/s")
	b.ReportMetric(sum.lastFirstChannel.Seconds()/k, "last-first-channel-s")
	b.ReportMetric(sum.pushDone.Seconds()/k, "push-done-s")
	b.ReportMetric(sum.smsDone.Seconds()/k, "sms-done-s")
	b.ReportMetric(float64(sum.extraRequests)/k, "extra-requests")
	b.ReportMetric(float64(sum.unexplainedExtra)/k, "unexplained-extra")
	b.ReportMetric(float64(sum.pushConns)/k, "push-conns")
	b.ReportMetric(float64(sum.smsConns)/k, "sms-conns")
	b.ReportMetric(sum.cpu.Seconds()/k, "cpu-s")
	b.ReportMetric(float64(sum.maxAttempts), "max-attempts")
	if sum.smsMax1s > opt.smsRate+1 {
		b.Logf("SMS above the configured limit: %v in one second, limit %v (+1 burst)", sum.smsMax1s, opt.smsRate)
	}
}

// benchPhone is person i's mobile: distinct, valid, in Mexico City.
func benchPhone(i int) string { return fmt.Sprintf("+5255%08d", 10000000+i) }

// benchDeclare declares a P1 incident for the team and returns its id.
func benchDeclare(b *testing.B, base string) string {
	b.Helper()
	body := `{"title":"Sismo: evacuación de todos los edificios","impact":"critical","urgency":"critical","location":"CDMX","teams":["` + benchTeam + `"]}`
	req, _ := http.NewRequest("POST", base+"/api/v1/incidents", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var inc struct{ ID string }
	if err := json.Unmarshal(data, &inc); err != nil || res.StatusCode != http.StatusCreated || inc.ID == "" {
		b.Fatalf("declare = %d %s", res.StatusCode, data)
	}
	return inc.ID
}

// startBenchServer is startServer for benchmarks: it runs the program on env (which must
// name the address, data folder and config) and returns its base URL, its logs, and a
// stop function that cancels it as SIGTERM would and returns what run returned. Stop is
// also called at cleanup.
func startBenchServer(tb testing.TB, env map[string]string) (string, *logBuffer, func() error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, &bytes.Buffer{}, logs) }()
	var (
		once    sync.Once
		stopErr error
	)
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = fmt.Errorf("run did not return 30 s after cancel")
			}
		})
		return stopErr
	}
	tb.Cleanup(func() { _ = stop() })
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if m := listening.FindStringSubmatch(logs.String()); m != nil {
			return m[1], logs, stop
		}
		select {
		case err := <-done:
			tb.Fatalf("run returned early: %v\n%s", err, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	tb.Fatalf("no listening line:\n%s", logs)
	return "", nil, nil
}

// benchSteadyRate is events a second between the 5th and the 95th percentile of ts (sorted),
// leaving out the ramp-up and the tail of retries.
func benchSteadyRate(ts []time.Time) float64 {
	if len(ts) < 2 {
		return 0
	}
	lo, hi := len(ts)*5/100, len(ts)*95/100
	if hi <= lo {
		lo, hi = 0, len(ts)-1
	}
	d := ts[hi].Sub(ts[lo]).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(hi-lo) / d
}

// benchMaxInWindow is the most events of ts (sorted) in any window [t, t+w).
func benchMaxInWindow(ts []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range ts {
		for j < len(ts) && ts[j].Sub(ts[i]) < w {
			j++
		}
		best = max(best, j-i)
	}
	return best
}

// benchCPUTime is the CPU time (user and system) this process has used: the server, the
// fakes and the fronts all run in it.
func benchCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLoadAvg is the 1-minute load average, or "?" where there is no /proc.
func benchLoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func benchTail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
