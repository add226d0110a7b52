package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchFront stands in front of a fake provider during BenchmarkAlert10k. It records
// every request the server makes to the provider (when, for which delivery, what was
// answered) and counts the connections the server opens, so the numbers come from what
// the provider saw. With a fault rate above zero it answers that share of requests
// itself, half with 429 and "Retry-After: 1" and half with 500, as a provider under
// strain does, and hands the rest to the fake. The draws come from a fixed seed.
type benchFront struct {
	URL      string
	upstream string
	client   *http.Client
	faults   float64
	// key names what a request is for: the delivery id (Twilio's StatusCallback carries
	// it) or the push endpoint's path (one browser, so one delivery per incident).
	key func(r *http.Request, body []byte) string
	// fail writes an injected failure as the provider would.
	fail  func(w http.ResponseWriter, status int)
	conns atomic.Int64

	mu  sync.Mutex
	rnd *rand.Rand
	log []frontRequest
}

// frontRequest is one request the front saw.
type frontRequest struct {
	Key    string
	At     time.Time     // when it arrived
	Took   time.Duration // until it was answered
	Status int           // what the server was answered
}

// Accepted reports whether the provider took the message.
func (r frontRequest) Accepted() bool { return r.Status >= 200 && r.Status < 300 }

func newBenchFront(tb testing.TB, upstream string, faults float64, seed uint64,
	key func(*http.Request, []byte) string, fail func(http.ResponseWriter, int)) *benchFront {
	tb.Helper()
	rt := http.DefaultTransport.(*http.Transport).Clone()
	rt.MaxIdleConnsPerHost = 1024
	f := &benchFront{upstream: strings.TrimRight(upstream, "/"), client: &http.Client{Transport: rt, Timeout: time.Minute},
		faults: faults, key: key, fail: fail, rnd: rand.New(rand.NewPCG(seed, 42))}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	srv.Start()
	f.URL = srv.URL
	tb.Cleanup(func() {
		srv.Close()
		rt.CloseIdleConnections()
	})
	return f
}

func (f *benchFront) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	key := f.key(r, body)
	f.mu.Lock()
	draw := f.rnd.Float64()
	f.mu.Unlock()
	status := 0
	switch {
	case draw < f.faults/2:
		status = http.StatusTooManyRequests
	case draw < f.faults:
		status = http.StatusInternalServerError
	}
	if status != 0 {
		f.fail(w, status)
		f.record(frontRequest{Key: key, At: at, Took: time.Since(at), Status: status})
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, f.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	// The push fake checks the VAPID audience against the Host it is sent to, which is
	// the front's (the endpoint the server posted to).
	req.Host = r.Host
	res, err := f.client.Do(req)
	if err != nil {
		f.record(frontRequest{Key: key, At: at, Took: time.Since(at), Status: http.StatusBadGateway})
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	for k, v := range res.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(res.StatusCode)
	_, _ = io.Copy(w, res.Body)
	f.record(frontRequest{Key: key, At: at, Took: time.Since(at), Status: res.StatusCode})
}

func (f *benchFront) record(r frontRequest) {
	f.mu.Lock()
	f.log = append(f.log, r)
	f.mu.Unlock()
}

// Requests returns every request seen so far, in order of recording.
func (f *benchFront) Requests() []frontRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]frontRequest(nil), f.log...)
}

// twilioDeliveryKey is the delivery a Messages.json request is for: the d parameter of
// its StatusCallback.
func twilioDeliveryKey(_ *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	cb, err := url.Parse(form.Get("StatusCallback"))
	if err != nil {
		return ""
	}
	return cb.Query().Get("d")
}

// twilioFailure answers as Twilio does when it refuses a request.
func twilioFailure(w http.ResponseWriter, status int) {
	code, msg := 20500, "Internal Server Error"
	if status == http.StatusTooManyRequests {
		code, msg = 20429, "Too Many Requests"
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q,"more_info":"https://www.twilio.com/docs/errors/%d","status":%d}`, code, msg, code, status)
}

// pushEndpointKey is the browser a push request is for: the endpoint's path.
func pushEndpointKey(r *http.Request, _ []byte) string { return r.URL.Path }

// pushFailure answers as a push service does under strain.
func pushFailure(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	http.Error(w, http.StatusText(status), status)
}
