package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/internal/netguard"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A push endpoint whose hostname resolves to this machine ("localhost" → 127.0.0.1) is
// refused when connecting, so the server never POSTs into its own network for a user;
// and what "Probar notificación" answers names no address, no port and nothing the
// target said. Allowed explicitly (as tests allow their fake), the same endpoint is
// reached, and its answer's body still is not shown.
func TestPushEndpointResolvingToLoopbackIsRefused(t *testing.T) {
	storetest.Each(t, testPushEndpointResolvingToLoopbackIsRefused)
}

func testPushEndpointResolvingToLoopbackIsRefused(t *testing.T) {
	a, fake, keys := newPushAPI(t)
	var hits atomic.Int32
	internal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "INTERNAL-SECRET admin console")
	}))
	t.Cleanup(internal.Close)
	port := internal.URL[strings.LastIndex(internal.URL, ":")+1:]

	_, cookie := a.person("Mallory", "mallory@example.com", "es")
	raw, _ := fake.NewSubscription()
	var sub map[string]any
	json.Unmarshal(raw, &sub)
	sub["endpoint"] = "https://localhost:" + port + "/admin/push"
	if res := a.do("POST", "/api/v1/push/subscriptions", "", sub, "Cookie", cookie); res.status != 201 {
		t.Fatalf("subscribe = %d %s", res.status, res.body)
	}

	// The production guard: public addresses only.
	a.api.Push.Sender = webpush.New(keys, webpush.Options{})
	var out struct {
		Sent    int
		Results []browserJSON
	}
	for lang, want := range map[string]string{"es": "no es un servicio de notificaciones público", "en": "not a public push service"} {
		res := a.do("POST", "/api/v1/push/test", "", nil, "Cookie", cookie, "Accept-Language", lang)
		res.json(t, &out)
		if res.status != 200 || out.Sent != 0 || len(out.Results) != 1 || out.Results[0].Status != "failed" ||
			!strings.Contains(out.Results[0].Error, want) {
			t.Errorf("test push (%s) = %d %s", lang, res.status, res.body)
		}
		for _, leak := range []string{"127.0.0.1", "::1", "INTERNAL-SECRET"} {
			if bytes.Contains(res.body, []byte(leak)) {
				t.Errorf("the answer shows %q: %s", leak, res.body)
			}
		}
		if strings.Contains(out.Results[0].Error, port) {
			t.Errorf("the error names the port: %s", out.Results[0].Error)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the internal service", n)
	}

	// Allowed (the test configuration's loopback allowlist): the request goes out, and the
	// caller learns the status only.
	allow := netguard.Policy{Allow: netguard.Loopback}
	tr := allow.Transport()
	tr.TLSClientConfig = internal.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	tr.TLSClientConfig.ServerName = "example.com" // the name httptest's certificate holds
	a.api.Push.Sender = webpush.New(keys, webpush.Options{HTTPClient: &http.Client{Transport: allow.RoundTripper(tr)}})
	res := a.do("POST", "/api/v1/push/test", "", nil, "Cookie", cookie, "Accept-Language", "en")
	res.json(t, &out)
	if hits.Load() != 1 || len(out.Results) != 1 || out.Results[0].Error != "The push service refused the notification (HTTP 500)." {
		t.Errorf("allowed: %d hits, %s", hits.Load(), res.body)
	}
	if bytes.Contains(res.body, []byte("INTERNAL-SECRET")) {
		t.Errorf("the answer shows the target's body: %s", res.body)
	}
}
