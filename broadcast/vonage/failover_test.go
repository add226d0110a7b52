package vonage_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/broadcast/vonage/vonagetest"
	"github.com/optimum-bcp/optimum/internal/netguard"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func newVonage(t *testing.T, fake *vonagetest.Fake) *vonage.Client {
	t.Helper()
	c, err := vonage.New(vonage.Config{
		APIKey: vonagetest.APIKey, APISecret: vonagetest.APISecret, SignatureSecret: vonagetest.SignatureSecret,
		ApplicationID: vonagetest.ApplicationID, PrivateKeyPEM: fake.PrivateKeyPEM(),
		From: "+34911234567", Senders: broadcast.CountrySenders{"52": "OPTIMUM"},
		SMSAPIURL: fake.URL(), VoiceAPIURL: fake.URL(), PublicURL: "https://bcp.example.com",
		Guard: netguard.Policy{Allow: netguard.Loopback},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Twilio's fake answers 500 to everything in the middle of an alert to 1,000 people:
// every SMS ends accepted by one provider or the other, the rest through Vonage, and
// nobody gets one twice. Each attempt is recorded with its provider.
func TestFailoverSendsEveryoneOnceWhenTwilioFailsMidAlert(t *testing.T) {
	db := storetest.SQLite(t)
	q := db.Deliveries()
	tw := twiliotest.New(t, twiliotest.Options{})
	tc, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), From: []string{"+15005550006"},
		APIURL: tw.URL(), PublicURL: "https://bcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	vf := vonagetest.New(t)
	vc := newVonage(t, vf)

	var mu sync.Mutex
	var changes []string
	fo := broadcast.NewFailover([]broadcast.Provider{{Name: "twilio", Sender: tc.SMS()}, {Name: "vonage", Sender: vc.SMS()}},
		broadcast.FailoverOptions{Threshold: 5, Window: 10 * time.Second, Cooldown: time.Hour,
			Changed: func(p string, down bool) {
				mu.Lock()
				changes = append(changes, fmt.Sprintf("%s down=%v", p, down))
				mu.Unlock()
			}})

	const people = 1000
	now := time.Now()
	var ds []broadcast.Delivery
	for i := range people {
		ds = append(ds, broadcast.Delivery{
			Message: broadcast.Message{DeliveryID: fmt.Sprintf("dlv_%04d", i), Channel: broadcast.ChannelSMS,
				To: fmt.Sprintf("+3461%07d", i), Language: "es", Text: "P1 Sismo (BCP-2026-000001). Confirma: responde 1"},
			Subject: "inc_1", Recipient: fmt.Sprintf("per_%04d", i), DueAt: now, Deadline: now.Add(time.Hour),
		})
	}
	if err := q.Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: fo}, broadcast.DispatcherOptions{
		Concurrency: 16, Poll: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	accepted := func() int {
		n := 0
		for _, r := range tw.Messages() {
			if r.Status == http.StatusCreated {
				n++
			}
		}
		return n
	}
	waitFor(t, "Twilio to accept 200 messages", func() bool { return accepted() >= 200 })
	tw.SetFailRate(1, http.StatusInternalServerError) // Twilio answers 500 to everything from now on
	waitFor(t, "every delivery to be sent", func() bool {
		list, err := q.SubjectDeliveries(context.Background(), "inc_1")
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range list {
			switch x.Status {
			case broadcast.StatusSent:
			case broadcast.StatusQueued, broadcast.StatusSending:
				return false
			default:
				t.Fatalf("delivery %s ended %s: %s", x.ID, x.Status, x.Error)
			}
		}
		return true
	})

	got := map[string]int{} // phone -> messages accepted by either provider
	twilioOK := 0
	for _, r := range tw.Messages() {
		if r.Status == http.StatusCreated {
			got[r.Form.Get("To")]++
			twilioOK++
		}
	}
	for _, m := range vf.Messages() {
		got["+"+m.To]++
	}
	for i := range people {
		phone := fmt.Sprintf("+3461%07d", i)
		if got[phone] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", phone, got[phone])
		}
	}
	if len(got) != people {
		t.Errorf("%d phones got a message, want %d", len(got), people)
	}
	if twilioOK < 200 || len(vf.Messages()) == 0 {
		t.Errorf("Twilio accepted %d and Vonage %d: want both to have carried part of the alert", twilioOK, len(vf.Messages()))
	}
	t.Logf("Twilio accepted %d, Vonage %d; Twilio answered %d requests in all", twilioOK, len(vf.Messages()), len(tw.Messages()))
	mu.Lock()
	if len(changes) != 1 || changes[0] != "twilio down=true" {
		t.Errorf("provider changes = %v, want [twilio down=true]", changes)
	}
	mu.Unlock()

	// Each attempt names its provider: a delivery Vonage sent after a Twilio 500 shows
	// both, in order.
	list, err := q.SubjectDeliveries(context.Background(), "inc_1")
	if err != nil {
		t.Fatal(err)
	}
	retried := 0
	for _, x := range list {
		if len(x.Providers) != x.Attempts || len(x.Providers) == 0 {
			t.Errorf("%s: %d attempts but providers %v", x.ID, x.Attempts, x.Providers)
			continue
		}
		last := x.Providers[len(x.Providers)-1]
		if len(x.Providers) > 1 {
			retried++
			if x.Providers[0] != "twilio" || last != "vonage" {
				t.Errorf("%s went through %v, want twilio first and vonage last", x.ID, x.Providers)
			}
			attempts, err := q.Attempts(context.Background(), x.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(attempts[0], "retry via twilio: ") || attempts[len(attempts)-1] != "sent via vonage" {
				t.Errorf("%s attempts = %q", x.ID, attempts)
			}
		}
	}
	if retried == 0 {
		t.Error("no delivery was retried through Vonage after a Twilio failure")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A call that Twilio refuses with 500 past the threshold is placed through Vonage.
func TestFailoverPlacesCallsThroughVonageWhenTwilioFails(t *testing.T) {
	tw := twiliotest.New(t, twiliotest.Options{})
	tc, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), From: []string{"+15005550006"},
		APIURL: tw.URL(), PublicURL: "https://bcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	vf := vonagetest.New(t)
	vc := newVonage(t, vf)
	fo := broadcast.NewFailover([]broadcast.Provider{{Name: "twilio", Sender: tc.Voice()}, {Name: "vonage", Sender: vc.Voice()}},
		broadcast.FailoverOptions{Threshold: 2, Window: time.Minute, Cooldown: time.Hour})
	tw.SetFailRate(1, http.StatusInternalServerError)
	m := broadcast.Message{DeliveryID: "dlv_call", Channel: broadcast.ChannelVoice, To: "+34611111111", Language: "es", Title: "Alerta", Text: "Sismo"}
	var got []string
	for range 3 {
		p, retryable, err := fo.SendVia(context.Background(), m)
		got = append(got, fmt.Sprintf("%s:%v", p, err == nil))
		if err != nil && !retryable {
			t.Fatalf("a 500 through %s is not retryable: %v", p, err)
		}
	}
	if fmt.Sprint(got) != "[twilio:false twilio:false vonage:true]" {
		t.Errorf("calls went %v, want two failures through Twilio, then Vonage", got)
	}
	if calls := vf.Calls(); len(calls) != 1 || calls[0].To != "34611111111" {
		t.Errorf("Vonage calls = %+v", calls)
	}
}
