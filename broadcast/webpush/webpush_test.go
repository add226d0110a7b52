package webpush_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func testKeys(tb testing.TB, subject string) webpush.Keys {
	tb.Helper()
	k, err := webpush.LoadKeys(tb.TempDir(), env(map[string]string{"VAPID_SUBJECT": subject}))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// setup returns a sender and a fake push service that trusts its key.
func setup(tb testing.TB, opt webpush.Options) (*webpush.Sender, *webpushtest.Fake, webpush.Keys) {
	tb.Helper()
	keys := testKeys(tb, "mailto:ops@example.com")
	fake := webpushtest.New(tb, webpushtest.Options{VAPIDPublicKey: keys.Public})
	opt.AllowPrivateEndpoints = true
	return webpush.New(keys, opt), fake, keys
}

func alert(to string) broadcast.Message {
	return broadcast.Message{
		DeliveryID: "dlv_1", Attempt: 1, Channel: broadcast.ChannelWebPush, To: to, Language: "es",
		Title: "P1 BCP-2026-000001: Caída del centro de datos", Text: "Confirma recepción. CDMX. Sin energía",
		URL: "https://bcp.example.com/a/abc", Topic: "inc_1", TTL: 90 * time.Second,
		Actions: []broadcast.Action{{ID: "ack", Title: "Confirmar recepción"}},
	}
}

func TestSendIsDecryptedByThePushService(t *testing.T) {
	sender, fake, _ := setup(t, webpush.Options{})
	sub, endpoint := fake.NewSubscription()
	retryable, err := sender.Send(context.Background(), alert(string(sub)))
	if err != nil || retryable {
		t.Fatalf("Send = %v, %v; rejected %+v", retryable, err, fake.Rejected())
	}
	got := fake.Received()
	if len(got) != 1 {
		t.Fatalf("received %d pushes", len(got))
	}
	p := got[0]
	if p.Endpoint != endpoint || p.Urgency != "high" || p.TTL != 90 || p.Topic != webpush.Topic("inc_1") || len(p.Topic) != 32 {
		t.Errorf("push = endpoint %s urgency %q TTL %d topic %q", p.Endpoint, p.Urgency, p.TTL, p.Topic)
	}
	if p.Subject != "mailto:ops@example.com" {
		t.Errorf("sub = %q, want mailto:ops@example.com once", p.Subject)
	}
	if p.BodySize != 4096 {
		t.Errorf("body is %d bytes, want padded to 4096", p.BodySize)
	}
	n, err := p.Notification()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"title": "P1 BCP-2026-000001: Caída del centro de datos", "body": "Confirma recepción. CDMX. Sin energía",
		"url": "https://bcp.example.com/a/abc", "tag": "inc_1", "lang": "es", "delivery_id": "dlv_1"} {
		if n[k] != want {
			t.Errorf("%s = %v, want %v", k, n[k], want)
		}
	}
	acts, _ := n["actions"].([]any)
	if len(acts) != 1 || acts[0].(map[string]any)["action"] != "ack" || acts[0].(map[string]any)["title"] != "Confirmar recepción" {
		t.Errorf("actions = %v", n["actions"])
	}
}

func TestHTTPSSubjectAndDefaultTTL(t *testing.T) {
	keys := testKeys(t, "https://bcp.example.com")
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: keys.Public})
	sender := webpush.New(keys, webpush.Options{AllowPrivateEndpoints: true})
	for _, ttl := range []time.Duration{0, 60 * 24 * time.Hour} {
		sub, _ := fake.NewSubscription()
		m := alert(string(sub))
		m.TTL, m.Topic = ttl, ""
		if _, err := sender.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := fake.Received()
	if len(got) != 2 || got[0].Subject != "https://bcp.example.com" {
		t.Fatalf("received %+v", got)
	}
	if got[0].TTL != 3600 || got[1].TTL != int(webpush.MaxTTL/time.Second) {
		t.Errorf("TTLs = %d, %d; want the 1 h default and the 28-day cap", got[0].TTL, got[1].TTL)
	}
	if got[0].Topic != "" {
		t.Errorf("Topic = %q without a message topic", got[0].Topic)
	}
	if n, _ := got[0].Notification(); n["tag"] != "dlv_1" {
		t.Errorf("tag = %v, want the delivery id without a topic", n["tag"])
	}
}

// Each answer of a push service maps to the Sender contract: gone subscriptions are
// ErrGone, 429 carries its Retry-After, 5xx is retried, other 4xx are not.
func TestPushServiceAnswers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		prepare    func(f *webpushtest.Fake, endpoint string)
		retryable  bool
		gone       bool
		retryAfter time.Duration
		detail     string
	}{
		{"410 expired", func(f *webpushtest.Fake, e string) { f.Expire(e, 410) }, false, true, 0, "410"},
		{"404 unknown", func(f *webpushtest.Fake, e string) { f.Expire(e, 404) }, false, true, 0, "404"},
		{"429 with Retry-After", func(f *webpushtest.Fake, e string) { f.FailNext(1, 429, "7") }, true, false, 7 * time.Second, "429"},
		{"429 without Retry-After", func(f *webpushtest.Fake, e string) { f.FailNext(1, 429, "") }, true, false, webpush.DefaultRetryAfter, "429"},
		{"503", func(f *webpushtest.Fake, e string) { f.FailNext(1, 503, "") }, true, false, 0, "503"},
		{"500", func(f *webpushtest.Fake, e string) { f.FailNext(1, 500, "") }, true, false, 0, "500"},
		{"400", func(f *webpushtest.Fake, e string) { f.FailNext(1, 400, "") }, false, false, 0, "400"},
		{"413", func(f *webpushtest.Fake, e string) { f.FailNext(1, 413, "") }, false, false, 0, "too large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sender, fake, _ := setup(t, webpush.Options{})
			sub, endpoint := fake.NewSubscription()
			tt.prepare(fake, endpoint)
			retryable, err := sender.Send(context.Background(), alert(string(sub)))
			if err == nil || retryable != tt.retryable || errors.Is(err, broadcast.ErrGone) != tt.gone || !strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("Send = %v, %v", retryable, err)
			}
			var ra *broadcast.RetryAfterError
			if errors.As(err, &ra) != (tt.retryAfter > 0) || (ra != nil && ra.After != tt.retryAfter) {
				t.Errorf("retry after = %+v, want %v", ra, tt.retryAfter)
			}
			if n := len(fake.Received()); n != 0 {
				t.Errorf("%d pushes accepted", n)
			}
		})
	}
}

// A push signed with another key pair is refused like real services refuse it (403),
// permanently, and the error says to check the VAPID keys.
func TestWrongVAPIDKeyIsPermanent(t *testing.T) {
	_, fake, _ := setup(t, webpush.Options{})
	other := webpush.New(testKeys(t, "ops@example.com"), webpush.Options{AllowPrivateEndpoints: true})
	sub, _ := fake.NewSubscription()
	retryable, err := other.Send(context.Background(), alert(string(sub)))
	if err == nil || retryable || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "VAPID") {
		t.Fatalf("Send = %v, %v", retryable, err)
	}
	if r := fake.Rejected(); len(r) != 1 || !strings.Contains(r[0].Reason, "BadJwtToken") {
		t.Errorf("rejected = %+v", r)
	}
}

func TestNetworkFailuresAreRetryable(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		sender, fake, _ := setup(t, webpush.Options{})
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		sub, endpoint := fake.NewSubscription()
		to := strings.Replace(string(sub), endpoint, dead.URL+"/push/x", 1)
		if retryable, err := sender.Send(context.Background(), alert(to)); err == nil || !retryable {
			t.Errorf("Send = %v, %v", retryable, err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		sender, fake, _ := setup(t, webpush.Options{HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
		fake.SetLatency(time.Minute)
		sub, _ := fake.NewSubscription()
		if retryable, err := sender.Send(context.Background(), alert(string(sub))); err == nil || !retryable {
			t.Errorf("Send = %v, %v", retryable, err)
		}
	})
}

// Without AllowPrivateEndpoints, an endpoint naming this machine or a private network is
// refused before anything is sent: any signed-in user may register an endpoint.
func TestPrivateEndpointsAreRefused(t *testing.T) {
	keys := testKeys(t, "ops@example.com")
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: keys.Public})
	sender := webpush.New(keys, webpush.Options{})
	sub, endpoint := fake.NewSubscription()
	for _, host := range []string{"", "https://10.1.2.3", "https://localhost:9200", "https://[::1]", "https://169.254.169.254"} {
		to := string(sub)
		if host != "" {
			to = strings.Replace(to, strings.TrimSuffix(endpoint, endpoint[strings.LastIndex(endpoint, "/push/"):]), host, 1)
		}
		if retryable, err := sender.Send(context.Background(), alert(to)); err == nil || retryable || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: Send = %v, %v", to, retryable, err)
		}
	}
	if n := len(fake.Received()) + len(fake.Rejected()); n != 0 {
		t.Errorf("%d requests reached the service", n)
	}
}

func TestLongTextIsShortenedToFitOneRecord(t *testing.T) {
	sender, fake, _ := setup(t, webpush.Options{})
	sub, _ := fake.NewSubscription()
	m := alert(string(sub))
	m.Text = strings.Repeat("Sin energía en el sitio principal. ", 300)
	if _, err := sender.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := fake.Received()
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	n, _ := got[0].Notification()
	body, _ := n["body"].(string)
	if !strings.HasSuffix(body, "…") || len(got[0].Payload) > 4096-103 || len(body) < 3000 {
		t.Errorf("payload %d bytes, body %d bytes ending %q", len(got[0].Payload), len(body), body[max(0, len(body)-10):])
	}
	m.Title = strings.Repeat("x", 5000)
	if retryable, err := sender.Send(context.Background(), m); !errors.Is(err, webpush.ErrPayloadTooLarge) || retryable {
		t.Errorf("huge title: %v, %v", retryable, err)
	}
}

// One sender used from many goroutines at once: every push arrives intact (run with
// -race; webpush-go v1.4.0 appends its padding into the caller's payload array).
func TestConcurrentSends(t *testing.T) {
	sender, fake, _ := setup(t, webpush.Options{})
	const n = 24
	subs := make([]string, n)
	for i := range subs {
		s, _ := fake.NewSubscription()
		subs[i] = string(s)
	}
	var wg sync.WaitGroup
	for _, s := range subs {
		wg.Go(func() {
			if _, err := sender.Send(context.Background(), alert(s)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got := fake.Received()
	if len(got) != n {
		t.Fatalf("received %d of %d", len(got), n)
	}
	for _, p := range got {
		if n, err := p.Notification(); err != nil || n["title"] != alert("").Title {
			t.Errorf("payload %q: %v", p.Payload, err)
		}
	}
}

func TestParseSubscription(t *testing.T) {
	fake := webpushtest.New(t, webpushtest.Options{})
	good, endpoint := fake.NewSubscription()
	sub, err := webpush.ParseSubscription(good)
	if err != nil || sub.Endpoint != endpoint || len(sub.Keys.P256dh) != 87 || len(sub.Keys.Auth) != 22 {
		t.Fatalf("good = %+v, %v", sub, err)
	}
	// Standard, padded base64 (some browsers and libraries) comes back as raw base64url.
	std := strings.NewReplacer("-", "+", "_", "/").Replace(sub.Keys.P256dh) + "="
	padded := `{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"` + std + `","auth":"` + sub.Keys.Auth + `=="}}`
	if s2, err := webpush.ParseSubscription([]byte(padded)); err != nil || s2.Keys != sub.Keys {
		t.Errorf("padded = %+v, %v", s2, err)
	}
	offCurve := "BA" + strings.Repeat("A", 85)
	for _, tt := range []struct{ name, body, field string }{
		{"not JSON", `{"endpoint":`, ""},
		{"too large", `{"endpoint":"` + strings.Repeat("a", 9000) + `"}`, ""},
		{"no endpoint", `{"keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"` + sub.Keys.Auth + `"}}`, "endpoint"},
		{"http elsewhere", `{"endpoint":"http://push.example.com/x","keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"` + sub.Keys.Auth + `"}}`, "endpoint"},
		{"relative", `{"endpoint":"/push/x","keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"` + sub.Keys.Auth + `"}}`, "endpoint"},
		{"credentials", `{"endpoint":"https://u:p@push.example.com/x","keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"` + sub.Keys.Auth + `"}}`, "endpoint"},
		{"no keys", `{"endpoint":"https://push.example.com/x"}`, "keys"},
		{"short p256dh", `{"endpoint":"https://push.example.com/x","keys":{"p256dh":"BAAA","auth":"` + sub.Keys.Auth + `"}}`, "keys.p256dh"},
		{"p256dh off the curve", `{"endpoint":"https://push.example.com/x","keys":{"p256dh":"` + offCurve + `","auth":"` + sub.Keys.Auth + `"}}`, "keys.p256dh"},
		{"short auth", `{"endpoint":"https://push.example.com/x","keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"AAAA"}}`, "keys.auth"},
		{"bad expirationTime", `{"endpoint":"https://push.example.com/x","expirationTime":"soon","keys":{"p256dh":"` + sub.Keys.P256dh + `","auth":"` + sub.Keys.Auth + `"}}`, "expirationTime"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webpush.ParseSubscription([]byte(tt.body))
			fields := optimum.ErrorFields(err)
			if optimum.ErrorCode(err) != optimum.EINVALID || len(fields) == 0 || fields[0].Field != tt.field {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestLoadKeysGeneratesOnceAndKeepsThePair(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := webpush.LoadKeys(dir, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if first.Source != webpush.SourceGenerated || len(first.Public) != 87 || len(first.Private) != 43 || first.Subject != webpush.DefaultSubject {
		t.Errorf("first = %+v", first)
	}
	info, err := os.Stat(filepath.Join(dir, webpush.KeysFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	again, err := webpush.LoadKeys(dir, env(map[string]string{"OPTIMUM_PUBLIC_URL": "https://bcp.example.com/app"}))
	if err != nil || again.Public != first.Public || again.Private != first.Private || again.Source != webpush.SourceFile {
		t.Errorf("again = %+v, %v", again, err)
	}
	if again.Subject != "https://bcp.example.com" {
		t.Errorf("subject from the public URL = %q", again.Subject)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data folder holds %d files, want only %s", len(entries), webpush.KeysFile)
	}
}

func TestLoadKeysFromEnv(t *testing.T) {
	gen, err := webpush.GenerateKeys()
	if err != nil {
		t.Fatal(err)
	}
	other := testKeys(t, "")
	padded := strings.NewReplacer("-", "+", "_", "/").Replace(gen.Public) + "="
	for _, tt := range []struct {
		name    string
		env     map[string]string
		subject string
		err     string
	}{
		{"pair", map[string]string{"VAPID_PUBLIC_KEY": gen.Public, "VAPID_PRIVATE_KEY": gen.Private, "VAPID_SUBJECT": "mailto:ops@example.com"}, "mailto:ops@example.com", ""},
		{"padded standard base64", map[string]string{"VAPID_PUBLIC_KEY": padded, "VAPID_PRIVATE_KEY": gen.Private, "VAPID_SUBJECT": "ops@example.com"}, "mailto:ops@example.com", ""},
		{"https subject", map[string]string{"VAPID_PUBLIC_KEY": gen.Public, "VAPID_PRIVATE_KEY": gen.Private, "VAPID_SUBJECT": "https://bcp.example.com"}, "https://bcp.example.com", ""},
		{"local public URL", map[string]string{"VAPID_PUBLIC_KEY": gen.Public, "VAPID_PRIVATE_KEY": gen.Private, "OPTIMUM_PUBLIC_URL": "http://localhost:8080"}, webpush.DefaultSubject, ""},
		{"only one key", map[string]string{"VAPID_PUBLIC_KEY": gen.Public}, "", "both"},
		{"mismatched pair", map[string]string{"VAPID_PUBLIC_KEY": other.Public, "VAPID_PRIVATE_KEY": gen.Private}, "", "does not belong"},
		{"garbage", map[string]string{"VAPID_PUBLIC_KEY": "nope", "VAPID_PRIVATE_KEY": gen.Private}, "", "public key"},
		{"mailto twice", map[string]string{"VAPID_SUBJECT": "mailto:mailto:ops@example.com"}, "", "VAPID_SUBJECT"},
		{"localhost subject", map[string]string{"VAPID_SUBJECT": "mailto:ops@localhost"}, "", "localhost"},
		{"other scheme", map[string]string{"VAPID_SUBJECT": "http://bcp.example.com"}, "", "VAPID_SUBJECT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := webpush.LoadKeys(t.TempDir(), env(tt.env))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || k.Public != gen.Public || k.Private != gen.Private || k.Subject != tt.subject || k.Source != webpush.SourceEnv {
				t.Errorf("keys = %+v, %v", k, err)
			}
		})
	}
}

// BenchmarkSend is the whole path against the local fake: encrypt, sign the VAPID JWT,
// POST over loopback, and the fake's verification and decryption (on the same cores).
func BenchmarkSend(b *testing.B) {
	sender, fake, _ := setup(b, webpush.Options{})
	sub, _ := fake.NewSubscription()
	m := alert(string(sub))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := sender.Send(context.Background(), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
}

// BenchmarkEncryptAndSign is the sender's own cost: a transport that answers 201 at once.
func BenchmarkEncryptAndSign(b *testing.B) {
	keys := testKeys(b, "ops@example.com")
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: 201, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})}
	sender := webpush.New(keys, webpush.Options{HTTPClient: client})
	fake := webpushtest.New(b, webpushtest.Options{})
	sub, endpoint := fake.NewSubscription()
	m := alert(strings.Replace(string(sub), endpoint, "https://push.example.com/x", 1))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sender.Send(context.Background(), m); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A failed send's error is stored with the delivery, which users read: it names neither
// the address an endpoint's name resolved to, nor the endpoint itself (a capability), nor
// what the service answered.
func TestSendErrorsShowNoAddressEndpointOrBody(t *testing.T) {
	keys := testKeys(t, "ops@example.com")
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: keys.Public})
	secret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"reason":"INTERNAL-SECRET"}`)
	}))
	t.Cleanup(secret.Close)
	sub, endpoint := fake.NewSubscription()
	port := secret.URL[strings.LastIndex(secret.URL, ":")+1:]

	// Refused at dial: "localhost" resolves to loopback.
	to := strings.Replace(string(sub), endpoint, "https://localhost:"+port+"/push/abc123", 1)
	_, err := webpush.New(keys, webpush.Options{}).Send(context.Background(), alert(to))
	if err == nil || strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "/push/abc123") {
		t.Errorf("refused send: %v", err)
	}
	// Answered (loopback allowed, as in tests): the status, not the body.
	to = strings.Replace(string(sub), endpoint, secret.URL+"/push/abc123", 1)
	_, err = webpush.New(keys, webpush.Options{AllowPrivateEndpoints: true}).Send(context.Background(), alert(to))
	var se *webpush.StatusError
	if !errors.As(err, &se) || se.StatusCode != 400 || strings.Contains(err.Error(), "INTERNAL-SECRET") || strings.Contains(err.Error(), "/push/abc123") {
		t.Errorf("answered send: %v", err)
	}
}
