package ws_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/loadgen"
)

// BenchmarkFanout measures how long one event takes to reach the last of many websocket
// clients, and what the server spends on it, for the real hub and, in the same run, for a
// bare gorilla/websocket broadcast loop as the reference (docs/benchmarks.md):
//
//	go test ./broadcast/ws -run '^$' -bench Fanout -benchtime 30x -fanout.rounds 4
//
// The clients live in a child process (this test binary again, running
// TestBenchHelperProcess): 10,000 clients and their 10,000 server connections would not
// fit in one process's 20,000 file descriptors, and the server's figures must not include
// the clients' CPU and memory. Both processes stamp times with the wall clock they share.
//
// hub and bare alternate -fanout.rounds times (sub-benchmarks hub, bare, hub#01, bare#01,
// …), so that the machine's drift hits both alike. Each iteration publishes one event and
// waits until every client has it (an untimed one warms up first). Reported per side:
//
//	p50-last-ms, p99-last-ms  publish → the last client has the event, over iterations
//	                          (hub: from the store's commit notification; bare: from the
//	                          start of the broadcast, encoding included)
//	p50-e2e-ms, p99-e2e-ms    hub only: Declare called → the last client has it
//	client-first-ms, client-p50-ms  median over iterations of the first client's and of
//	                          the median client's latency
//	cpu-us/delivery           server process CPU (getrusage) over the iterations / deliveries
//	client-cpu-us/delivery    the same for the client process (from /proc, to 10 ms)
//	allocs/delivery, B/delivery  runtime.MemStats deltas / deliveries
//	heap+stack-KiB/conn, rss-KiB/conn  cost of an idle connection: the growth of
//	                          HeapInuse+StackInuse and of VmRSS from before the clients
//	                          connected to after, both after GC and FreeOSMemory, / clients
//	frame-B                   size of the event's frame payload
//	others-cpu-%, steal-%     what other processes of the machine and the hypervisor took
//	                          meanwhile, in % of all CPUs: noise, not a result
//
// With -fanout.paired (the default), a second bare loop, the reference, runs in processes
// of its own (bench_ref_test.go) and each hub event is paired with a reference event
// published right before or after it: ref-p50-last-ms, ref-p99-last-ms, and the CPU of
// its server, ref-cpu-us/delivery (from /proc, to 10 ms). On a shared machine this is the fair comparison: a burst of someone's build then slows both of a
// pair, where a sequential comparison would charge it to one side only.
//
// Last, hub-vs-bare reports the ratios the target is about, p50-hub/bare and
// p99-hub/bare, over the pairs (or, unpaired, the rounds) during which other processes
// took at most -fanout.max-others % of the CPUs.
func BenchmarkFanout(b *testing.B) {
	n := fanoutClients(b)
	child := startClientProcess(b)
	var ref *reference
	if *pairedFlag {
		ref = startReference(b, n)
	}
	var (
		rounds   []round
		template string // the hub's frame, which bare then sends too
	)
	for range *roundsFlag {
		var r round
		b.Run("hub", func(b *testing.B) {
			r.hub = benchFanout(b, child, n, "hub", startHub(b), ref)
			template = r.hub.frame
		})
		b.Run("bare", func(b *testing.B) {
			r.bare = benchFanout(b, child, n, "bare", startBare(b, template), nil)
		})
		rounds = append(rounds, r)
	}
	compare(b, rounds)
}

var (
	clientsFlag   = flag.Int("fanout.clients", 0, "clients of BenchmarkFanout (default $OPTIMUM_FANOUT_CLIENTS or 10000)")
	roundsFlag    = flag.Int("fanout.rounds", 1, "how many times BenchmarkFanout alternates hub and bare")
	maxOthersFlag = flag.Float64("fanout.max-others", 10, "hub-vs-bare leaves out events (paired) or rounds (sequential) during which other processes took more than this % of the CPUs")
	pairedFlag    = flag.Bool("fanout.paired", true, "pair each hub event with an event of a reference bare loop run in other processes")
	heapDirFlag   = flag.String("fanout.heapprofile", "", "write a heap profile of each side with its clients idle, as DIR/SIDE-idle.pprof")
)

func fanoutClients(b *testing.B) int {
	if *clientsFlag > 0 {
		return *clientsFlag
	}
	if v := os.Getenv("OPTIMUM_FANOUT_CLIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("OPTIMUM_FANOUT_CLIENTS=%q: want a positive number", v)
		}
		return n
	}
	return 10000
}

const (
	helperEnv    = "OPTIMUM_BENCH_HELPER_PROCESS"
	eventTimeout = 30 * time.Second // for one event to reach every client
)

// TestBenchHelperProcess is a child process of BenchmarkFanout: the clients, or the
// reference bare server. Without its environment variable it does nothing.
func TestBenchHelperProcess(t *testing.T) {
	var err error
	switch os.Getenv(helperEnv) {
	case "clients":
		err = loadgen.ServeChild(context.Background(), os.Stdin, os.Stdout)
	case "bare-server":
		err = serveBareProcess(os.Stdin, os.Stdout)
	default:
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench helper:", err)
		os.Exit(1)
	}
}

func startClientProcess(b *testing.B) *loadgen.Child {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchHelperProcess$", "-test.timeout=30m")
	cmd.Env = append(os.Environ(), helperEnv+"=clients")
	child, err := loadgen.StartChild(cmd)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := child.Stop(); err != nil {
			b.Errorf("client process: %v", err)
		}
	})
	return child
}

// fanoutServer is one side of the comparison, listening on loopback.
type fanoutServer struct {
	url string
	// publish sends one event whose title is marker to every connection. It returns the
	// publish time t0 and the time the caller started, in Unix ns.
	publish func(ctx context.Context, marker string) (t0, start int64, err error)
	e2e     bool // whether start→last differs from t0→last and is worth reporting
	stop    func()
}

// sideResult is what one side measured in one round.
type sideResult struct {
	lasts  []time.Duration // publish → last client, per event
	ref    []time.Duration // the same for the reference event paired with each event
	others float64         // % of the CPUs other processes took meanwhile
	// pairOthers is, per event (with its reference event), the % of the CPUs other
	// processes took meanwhile.
	pairOthers []float64
	frame      string // one frame as the clients received it
}

type round struct{ hub, bare sideResult }

// benchFanout runs one side: it connects the clients, measures the idle connections, then
// publishes b.N events. With ref, each event is paired with a reference event.
func benchFanout(b *testing.B, child *loadgen.Child, n int, side string, srv fanoutServer, ref *reference) sideResult {
	defer srv.stop()
	ctx := context.Background()

	before := idleMemory()
	if _, err := child.Dial(loadgen.Config{URL: srv.url, Clients: n, Ready: `"type":"stream.ready"`}); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := child.CloseFleet(); err != nil {
			b.Error(err)
		}
	}()
	time.Sleep(200 * time.Millisecond) // let the last handshakes' goroutines settle
	idle := idleMemory()
	if *heapDirFlag != "" {
		writeHeapProfile(b, filepath.Join(*heapDirFlag, side+"-idle.pprof"))
	}

	var frame string
	run := func(i int) (last, e2e, clientP50, first time.Duration) {
		marker := fmt.Sprintf("fan-out %s #%d", rand.Text()[:8], i)
		if err := child.Expect(eventTimeout, `"type":"incident.declared"`, `"title":"`+marker+`"`); err != nil {
			b.Fatal(err)
		}
		t0, start, err := srv.publish(ctx, marker)
		if err != nil {
			b.Fatal(err)
		}
		r, err := child.Result(eventTimeout)
		if err != nil {
			b.Fatal(err)
		}
		if r.Missing > 0 {
			b.Fatalf("event %d: %d of %d clients did not get it within %v (%d connections lost)", i, r.Missing, r.Clients, eventTimeout, r.Lost)
		}
		frame = r.Sample
		return time.Duration(r.Last - t0), time.Duration(r.Last - start), time.Duration(r.P50 - t0), time.Duration(r.First - t0)
	}
	run(0) // warm up, untimed
	var refs []time.Duration
	pairedEvent := func(i int) {
		if ref != nil {
			refs = append(refs, ref.event(b, frame, fmt.Sprintf("reference %s #%d", rand.Text()[:8], i)))
		}
	}
	helpers := []int{child.Pid()} // the clients first
	if ref != nil {
		pairedEvent(0) // warm up, untimed
		refs = refs[:0]
		helpers = append(helpers, ref.pids()...)
	}

	var (
		lasts, e2es, p50s, firsts []time.Duration
		pairOthers                []float64
		ms0, ms1                  runtime.MemStats
	)
	runtime.ReadMemStats(&ms0)
	cpu0 := sampleCPU(b, helpers)
	for b.Loop() {
		i := len(lasts) + 1
		before := sampleCPU(b, helpers)
		if i%2 == 0 { // alternate which of the pair goes first
			pairedEvent(i)
		}
		last, e2e, p50, first := run(i)
		lasts, e2es, p50s, firsts = append(lasts, last), append(e2es, e2e), append(p50s, p50), append(firsts, first)
		if i%2 == 1 {
			pairedEvent(i)
		}
		pairOthers = append(pairOthers, othersPercent(before, sampleCPU(b, helpers)))
	}
	cpu1 := sampleCPU(b, helpers)
	runtime.ReadMemStats(&ms1)
	b.StopTimer()

	res := sideResult{lasts: slices.Clone(lasts), ref: refs, pairOthers: pairOthers, frame: frame}
	deliveries := float64(len(lasts) * n)
	slices.Sort(lasts)
	slices.Sort(e2es)
	slices.Sort(p50s)
	slices.Sort(firsts)
	b.ReportMetric(0, "ns/op") // the harness's round trip per event: not a result
	b.ReportMetric(float64(n), "clients")
	b.ReportMetric(float64(len(frame)), "frame-B")
	b.ReportMetric(millis(loadgen.Percentile(lasts, 50)), "p50-last-ms")
	b.ReportMetric(millis(loadgen.Percentile(lasts, 99)), "p99-last-ms")
	if srv.e2e {
		b.ReportMetric(millis(loadgen.Percentile(e2es, 50)), "p50-e2e-ms")
		b.ReportMetric(millis(loadgen.Percentile(e2es, 99)), "p99-e2e-ms")
	}
	if len(refs) > 0 {
		b.ReportMetric(millis(loadgen.Percentile(slices.Sorted(slices.Values(refs)), 50)), "ref-p50-last-ms")
		b.ReportMetric(millis(p99(refs)), "ref-p99-last-ms")
	}
	b.ReportMetric(millis(loadgen.Percentile(firsts, 50)), "client-first-ms")
	b.ReportMetric(millis(loadgen.Percentile(p50s, 50)), "client-p50-ms")
	b.ReportMetric(float64((cpu1.self-cpu0.self).Microseconds())/deliveries, "cpu-us/delivery")
	b.ReportMetric(float64((cpu1.clients-cpu0.clients).Microseconds())/deliveries, "client-cpu-us/delivery")
	if len(refs) > 0 {
		b.ReportMetric(float64((cpu1.refServer-cpu0.refServer).Microseconds())/float64(len(refs)*n), "ref-cpu-us/delivery")
	}
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/deliveries, "allocs/delivery")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/deliveries, "B/delivery")
	b.ReportMetric(float64(idle.heapStack-before.heapStack)/1024/float64(n), "heap+stack-KiB/conn")
	b.ReportMetric(float64(idle.rss-before.rss)/1024/float64(n), "rss-KiB/conn")
	res.others = othersPercent(cpu0, cpu1)
	b.ReportMetric(res.others, "others-cpu-%")
	b.ReportMetric(float64(cpu1.machine.Steal-cpu0.machine.Steal)/float64(cpu1.at.Sub(cpu0.at))/float64(runtime.NumCPU())*100, "steal-%")

	after := idleMemory()
	perConn := func(v int64) float64 { return float64(v) / 1024 / float64(n) }
	b.Logf("%d clients, idle: heap %.1f + stacks %.1f KiB/conn; idle again after %d events: heap+stack %.1f KiB/conn, rss %.1f KiB/conn",
		n, perConn(idle.heapStack-idle.stack-before.heapStack+before.stack), perConn(idle.stack-before.stack),
		len(lasts)+1, perConn(after.heapStack-before.heapStack), perConn(after.rss-before.rss))
	return res
}

// compare reports hub against bare as the sub-benchmark hub-vs-bare, over the events
// that other processes of the machine left alone (-fanout.max-others). Paired (the
// default), it compares each hub event with the reference event published next to it,
// pair by pair; otherwise the sequential hub and bare sub-benchmarks, round by round.
func compare(b *testing.B, rounds []round) {
	var (
		hub, bare []time.Duration
		notes     []string
		method    = "paired with the reference bare loop"
		left, all int
	)
	for i, r := range rounds {
		switch {
		case len(r.hub.ref) > 0:
			for j := range r.hub.lasts {
				all++
				if r.hub.pairOthers[j] > *maxOthersFlag {
					left++
					continue
				}
				hub, bare = append(hub, r.hub.lasts[j]), append(bare, r.hub.ref[j])
			}
			notes = append(notes, fmt.Sprintf("round %d: p99 hub/bare %.2f over all its pairs (others took %.0f%%)", i+1, ratio(r.hub.lasts, r.hub.ref), r.hub.others))
		case len(r.hub.lasts) == 0 || len(r.bare.lasts) == 0:
			return // a side was filtered out with -bench
		default:
			method = "sequential rounds"
			all += len(r.hub.lasts)
			note := fmt.Sprintf("round %d: p99 hub/bare %.2f", i+1, ratio(r.hub.lasts, r.bare.lasts))
			if max(r.hub.others, r.bare.others) > *maxOthersFlag {
				left += len(r.hub.lasts)
				note += fmt.Sprintf(" (left out: others took %.0f%% / %.0f%%)", r.hub.others, r.bare.others)
			} else {
				hub, bare = append(hub, r.hub.lasts...), append(bare, r.bare.lasts...)
			}
			notes = append(notes, note)
		}
	}
	b.Run("hub-vs-bare", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(left), "events-left-out")
		b.Logf("%s; %d of %d events left out (others took more than %v%% of the CPUs); %s", method, left, all, *maxOthersFlag, strings.Join(notes, "; "))
		if len(hub) == 0 {
			return
		}
		b.ReportMetric(float64(len(hub)), "events-per-side")
		b.ReportMetric(millis(loadgen.Percentile(slices.Sorted(slices.Values(hub)), 50)), "hub-p50-last-ms")
		b.ReportMetric(millis(p99(hub)), "hub-p99-last-ms")
		b.ReportMetric(millis(loadgen.Percentile(slices.Sorted(slices.Values(bare)), 50)), "bare-p50-last-ms")
		b.ReportMetric(millis(p99(bare)), "bare-p99-last-ms")
		b.ReportMetric(float64(loadgen.Percentile(slices.Sorted(slices.Values(hub)), 50))/float64(loadgen.Percentile(slices.Sorted(slices.Values(bare)), 50)), "p50-hub/bare")
		b.ReportMetric(ratio(hub, bare), "p99-hub/bare")
	})
}

// ratio is p99(a) / p99(b).
func ratio(a, b []time.Duration) float64 { return float64(p99(a)) / float64(p99(b)) }

func p99(d []time.Duration) time.Duration {
	return loadgen.Percentile(slices.Sorted(slices.Values(d)), 99)
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type memUse struct{ heapStack, stack, rss int64 }

// idleMemory returns the process's memory once garbage is collected and returned to the
// operating system.
func idleMemory() memUse {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st, err := loadgen.ReadProc(0)
	if err != nil {
		panic(err)
	}
	return memUse{heapStack: int64(ms.HeapInuse + ms.StackInuse), stack: int64(ms.StackInuse), rss: st.RSS}
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}

// cpuTime returns the user and system CPU time of this process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuSample is how much CPU time had been spent at one moment: by the whole machine, by
// this process, by the client process, by the reference server, and by all helper
// processes (clients and reference included).
type cpuSample struct {
	at                                time.Time
	machine                           loadgen.MachineCPU
	self, clients, refServer, helpers time.Duration
}

// sampleCPU reads the CPU time of the machine, of this process and of helpers: the
// client process, then, if paired, the reference server and its clients.
func sampleCPU(b *testing.B, helpers []int) cpuSample {
	s := cpuSample{at: time.Now(), self: cpuTime(b)}
	var err error
	if s.machine, err = loadgen.ReadMachineCPU(); err != nil {
		b.Fatal(err)
	}
	for i, pid := range helpers {
		st, err := loadgen.ReadProc(pid)
		if err != nil {
			b.Fatal(err)
		}
		switch i {
		case 0:
			s.clients = st.CPU
		case 1:
			s.refServer = st.CPU
		}
		s.helpers += st.CPU
	}
	return s
}

// othersPercent returns the share of all CPUs, in %, that processes other than this one
// and its helpers took between s and t: other people's builds and browser tests, which
// slow both sides. A process's system time includes the interrupts served while it ran,
// so the machine's interrupt time counts as busy. /proc counts in 10 ms ticks: over a
// short span the figure is rough.
func othersPercent(s, t cpuSample) float64 {
	busy := t.machine.Busy + t.machine.IRQ - s.machine.Busy - s.machine.IRQ
	mine := t.self - s.self + t.helpers - s.helpers
	capacity := float64(t.at.Sub(s.at)) * float64(runtime.NumCPU())
	return max(0, 100*float64(busy-mine)/capacity)
}
