package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchMetrics is one reading of the server's /metrics: each sample's value by its
// name and labels as written ("name{a=\"b\"}").
type benchMetrics map[string]float64

var benchSample = regexp.MustCompile(`^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+|NaN)$`)

// readBenchMetrics scrapes base's /metrics with the admin token.
func readBenchMetrics(tb testing.TB, base string) benchMetrics {
	tb.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+benchToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(res.Body)
		tb.Fatalf("metrics = %d %s", res.StatusCode, data)
	}
	m := benchMetrics{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		if g := benchSample.FindStringSubmatch(sc.Text()); g != nil {
			v, _ := strconv.ParseFloat(g[3], 64)
			m[g[1]+g[2]] = v
		}
	}
	return m
}

// sum adds up the samples of name whose labels contain every one of labels.
func (m benchMetrics) sum(name string, labels ...string) float64 {
	var s float64
	for k, v := range m {
		rest, ok := strings.CutPrefix(k, name)
		if !ok || (rest != "" && rest[0] != '{') {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if all {
			s += v
		}
	}
	return s
}

// benchBounds says what an alert's time went to, from two readings of /metrics (at the
// declaration and at the end) and what the fronts timed, so a run shows what bounds it:
// the store's one writer (its transactions' time against the wall time), the claims, the
// provider requests as the server timed them (over its slots), and the fakes themselves.
func benchBounds(before, after benchMetrics, wall time.Duration, concurrency int, fronts map[string]*benchFront) string {
	d := func(name string, labels ...string) float64 {
		return after.sum(name, labels...) - before.sum(name, labels...)
	}
	var b strings.Builder
	txs, held, commit, wait := d("optimum_store_write_transactions_total"), d("optimum_store_write_held_seconds_total"),
		d("optimum_store_commit_seconds_total"), d("optimum_store_write_wait_seconds_total")
	fmt.Fprintf(&b, "what the %.1f s went to:\n", wall.Seconds())
	if g := d("optimum_store_grouped_writes_total"); g > 0 {
		fmt.Fprintf(&b, "  %.0f small writes (outcomes, claims, links) were grouped into fewer commits\n", g)
	}
	fmt.Fprintf(&b, "  store writer: %.0f write transactions held it %.1f s (%.0f%% of the wall time), %.1f s of it in commit (%.2f ms a commit); they waited %.1f s in all to begin\n",
		txs, held, 100*held/wall.Seconds(), commit, 1000*commit/max(txs, 1), wait)
	for _, ch := range []string{"webpush", "sms"} {
		lab := `channel="` + ch + `"`
		n, s := d("optimum_dispatcher_claim_seconds_count", lab), d("optimum_dispatcher_claim_seconds_sum", lab)
		rn, rs := d("optimum_provider_request_seconds_count", lab), d("optimum_provider_request_seconds_sum", lab)
		fmt.Fprintf(&b, "  %s: %.0f claims took %.1f s (%.1f ms each); %.0f provider requests took %.1f s as the server timed them (%.1f ms each; %.1f s per slot of %d)",
			ch, n, s, 1000*s/max(n, 1), rn, rs, 1000*rs/max(rn, 1), rs/float64(concurrency), concurrency)
		if f := fronts[ch]; f != nil {
			var took time.Duration
			reqs := f.Requests()
			for _, r := range reqs {
				took += r.Took
			}
			fmt.Fprintf(&b, "; the front and fake answered in %.1f s (%.2f ms each)", took.Seconds(), float64(took.Milliseconds())/float64(max(len(reqs), 1)))
		}
		b.WriteString("\n")
	}
	return b.String()
}
