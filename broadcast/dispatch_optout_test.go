package broadcast_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Twilio refuses an SMS with 21610 when the person replied STOP to that number (the
// reply may never have reached us). The delivery fails without retries and the person
// is recorded as opted out of SMS, with the same event as a STOP reply.
func TestARecipientOptedOutAtTwilioIsRecordedAsAStop(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		db, q, c := setup(t)
		ctx := context.Background()
		err := db.Contacts().Tx(ctx, func(tx contacts.Tx) error {
			return tx.SavePerson(ctx, contacts.Person{ID: "per_stop", Name: "Eva Stop", Phone: twiliotest.OptedOutNumber, Language: "es",
				Active: true, CreatedAt: c.now(), UpdatedAt: c.now()}, true)
		})
		if err != nil {
			t.Fatal(err)
		}
		fake := twiliotest.New(t, twiliotest.Options{})
		tc, err := twilio.New(twilio.Config{AccountSID: fake.AccountSID(), AuthToken: fake.AuthToken(), From: []string{"+15005550006"},
			APIURL: fake.URL(), PublicURL: "https://optimum.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tc.Close() })
		err = q.Enqueue(ctx, []broadcast.Delivery{{
			Message: broadcast.Message{DeliveryID: "dlv_stop", Channel: broadcast.ChannelSMS, To: twiliotest.OptedOutNumber, Language: "es", Text: "hola"},
			Subject: "inc_1", Recipient: "per_stop", DueAt: c.now(), Deadline: c.now().Add(time.Hour),
		}})
		if err != nil {
			t.Fatal(err)
		}
		d := broadcast.NewDispatcher(q, map[string]broadcast.Sender{broadcast.ChannelSMS: tc.SMS()}, broadcast.DispatcherOptions{Now: c.now, Poll: 10 * time.Millisecond})
		run(t, d)
		d.Wake()
		waitFor(t, "the delivery failed", func() bool { return statusOf(t, q, "inc_1", "dlv_stop").Status == broadcast.StatusFailed })
		p, err := db.Contacts().Person(ctx, "per_stop")
		if err != nil {
			t.Fatal(err)
		}
		if p.Channels.SMSOptedOutAt == nil {
			t.Error("the person is not recorded as opted out of SMS")
		}
		events, err := db.EventsAfter(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var stops int
		for _, e := range events {
			if e.Type == "person.sms_opted_out" && strings.Contains(string(e.Data), `"per_stop"`) {
				stops++
			}
		}
		if stops != 1 {
			t.Errorf("%d person.sms_opted_out events, want 1", stops)
		}
		if n := len(fake.Messages()); n != 1 {
			t.Errorf("%d requests to Twilio, want 1 (no retry)", n)
		}
	})
}
