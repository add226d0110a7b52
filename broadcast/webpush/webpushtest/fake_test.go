package webpushtest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	webpushgo "github.com/SherClockHolmes/webpush-go"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
)

// The fake catches the library's pitfalls when they are not worked around, as the real
// services do: a doubled "mailto:" (Apple: 403 BadJwtToken) and a TTL of 0.
func TestFakeRefusesTheLibraryPitfalls(t *testing.T) {
	priv, pub, err := webpushgo.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	fake := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: pub})
	for _, tt := range []struct {
		name       string
		subscriber string
		ttl        int
		status     int
		reason     string
	}{
		{"doubled mailto", "mailto:ops@example.com", 60, http.StatusForbidden, "mailto: twice"},
		{"localhost contact", "ops@localhost", 60, http.StatusForbidden, "localhost"},
		{"TTL 0", "ops@example.com", 0, http.StatusBadRequest, "TTL"},
		{"fine", "ops@example.com", 60, http.StatusCreated, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			subJSON, endpoint := fake.NewSubscription()
			var sub webpushgo.Subscription
			if err := json.Unmarshal(subJSON, &sub); err != nil {
				t.Fatal(err)
			}
			before := len(fake.Rejected())
			res, err := webpushgo.SendNotification([]byte(`{"title":"x"}`), &sub, &webpushgo.Options{
				Subscriber: tt.subscriber, TTL: tt.ttl, VAPIDPublicKey: pub, VAPIDPrivateKey: priv, HTTPClient: fake.Client()})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d (%+v)", res.StatusCode, tt.status, fake.Rejected())
			}
			if tt.reason == "" {
				got := fake.Received()
				if p := got[len(got)-1]; p.Endpoint != endpoint || string(p.Payload) != `{"title":"x"}` {
					t.Errorf("received %+v", p)
				}
				return
			}
			r := fake.Rejected()
			if len(r) != before+1 || !strings.Contains(r[len(r)-1].Reason, tt.reason) {
				t.Errorf("rejections = %+v", r)
			}
		})
	}
}
