package escalation_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The rules of a person's channels, written out by hand (docs/sites.md, "Alerts follow
// the person's channels"): the directory's phone goes first unless it is unverified and
// the second phone is verified; an unverified second phone is never used.
func TestPhonesFirstAndFallback(t *testing.T) {
	const one, two = "+525500000001", "+525500000002"
	for _, tc := range []struct {
		name                    string
		c                       escalation.Contact
		wantFirst, wantFallback string
	}{
		{"one phone, unverified", escalation.Contact{Phone: one}, one, ""},
		{"one phone, verified", escalation.Contact{Phone: one, PhoneVerified: true}, one, ""},
		{"second phone unverified: never used", escalation.Contact{Phone: one, Phone2: two}, one, ""},
		{"both verified: the first, then the second", escalation.Contact{Phone: one, PhoneVerified: true, Phone2: two, Phone2Verified: true}, one, two},
		{"first unverified, second verified: the proved one first", escalation.Contact{Phone: one, Phone2: two, Phone2Verified: true}, two, one},
		{"only a verified second phone", escalation.Contact{Phone2: two, Phone2Verified: true}, two, ""},
		{"only an unverified second phone", escalation.Contact{Phone2: two}, "", ""},
	} {
		first, fallback := tc.c.Phones()
		if first != tc.wantFirst || fallback != tc.wantFallback {
			t.Errorf("%s: Phones() = %q, %q; want %q, %q", tc.name, first, fallback, tc.wantFirst, tc.wantFallback)
		}
	}
}

func TestOrderedKeepsTheLaddersChannelsInThePersonsOrder(t *testing.T) {
	for _, tc := range []struct {
		order, ladder, want []string
	}{
		{nil, []string{"webpush", "sms"}, []string{"webpush", "sms"}},
		{[]string{"sms", "webpush"}, []string{"webpush", "sms"}, []string{"sms", "webpush"}},
		// A channel the person did not list still goes, after theirs.
		{[]string{"sms"}, []string{"webpush", "email", "sms"}, []string{"sms", "webpush", "email"}},
		// A channel the ladder does not name is not added.
		{[]string{"voice", "email", "sms"}, []string{"webpush", "sms"}, []string{"sms", "webpush"}},
	} {
		if got := (escalation.Contact{Order: tc.order}).Ordered(tc.ladder); !slices.Equal(got, tc.want) {
			t.Errorf("order %v, ladder %v: %v, want %v", tc.order, tc.ladder, got, tc.want)
		}
	}
}

// orderLadder pages Ana on push and SMS at once, then SMS and a call at 2 minutes.
var orderLadder = escalation.Ladder{ID: "order", Name: escalation.Names{ES: "Orden", EN: "Order"}, Steps: []escalation.Step{{
	Targets: []escalation.Target{{Person: "ana@example.com"}},
	Reminders: []escalation.Reminder{
		{After: 0, Channels: []string{"webpush", "sms"}},
		{After: escalation.Duration(2 * time.Minute), Channels: []string{"sms", "voice"}},
	},
}}}

func (e *env) profile(email string, pr contacts.Profile) contacts.Person {
	e.t.Helper()
	p, err := e.dir.Person(context.Background(), email)
	if err != nil {
		e.t.Fatal(err)
	}
	pr.Phone, pr.Language = p.Phone, p.Language
	p, err = e.dir.UpdateProfile(admin, p.ID, pr)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// verify marks a phone of the person verified, as a right code does.
func (e *env) verify(p contacts.Person, phone string) {
	e.t.Helper()
	ev := optimum.Event{Type: contacts.EventPersonUpdated, At: e.clock.Now(), Actor: &optimum.System, Data: []byte(`{}`)}
	if err := e.db.Contacts().PhoneVerified(context.Background(), p.ID, phone, e.clock.Now(), ev); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) subscribe(p contacts.Person) {
	e.t.Helper()
	sub := webpush.Subscription{Endpoint: "https://push.example.com/" + p.ID, Keys: webpush.BrowserKeys{P256dh: "BNc", Auth: "x"}}
	if _, _, err := e.db.Push().Save(context.Background(), p.ID, sub, "test"); err != nil {
		e.t.Fatal(err)
	}
}

// A person who put SMS before push in "Mi perfil" gets the SMS first: the push of the
// same page is due ChannelGap (10 s by default) later, and an acknowledgement in between
// cancels it. Each message goes once.
func TestAPersonsChannelOrderDecidesWhatReachesThemFirst(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		if err := e.ladders.Seed(context.Background(), []escalation.Ladder{orderLadder}); err != nil {
			t.Fatal(err)
		}
		ana := e.profile("ana@example.com", contacts.Profile{ChannelOrder: []string{"sms", "webpush"}})
		e.subscribe(ana)
		bob, _ := e.dir.Person(context.Background(), "bob@example.com")
		e.subscribe(bob) // Bob chose no order: his channels go together, as the ladder lists them

		e.declare(incident.Declaration{Title: "Orden", Impact: "low", Urgency: "low", Ladder: "order", Teams: []string{"technology"}})
		e.expectSent("at declaration", "Ana/sms", "Bob/webpush", "Bob/sms")
		e.at(escalation.DefaultChannelGap - time.Millisecond)
		e.expectSent("just before the gap")
		e.at(escalation.DefaultChannelGap)
		e.expectSent("after the gap: Ana's push", "Ana/webpush")
		e.at(2 * time.Minute)
		// Bob is the audience: he is nagged on the step's schedule too, all at once.
		e.expectSent("at 2 min: Ana's SMS first again", "Ana/sms", "Bob/sms", "Bob/voice")
		e.at(2*time.Minute + 5*time.Second)
		// She acknowledges before the call is due: it is cancelled, never sent.
		if _, err := e.incidents.AcknowledgeAsPerson(context.Background(), incidentID(t, e), ana.ID, ana.Name, "web"); err != nil {
			t.Fatal(err)
		}
		e.consume()
		e.at(2*time.Minute + escalation.DefaultChannelGap)
		e.expectSent("after her acknowledgement")
		if left := e.claim(); len(left) != 0 {
			t.Errorf("still queued: %v", left)
		}
	})
}

// incidentID is the id of the env's one incident.
func incidentID(t *testing.T, e *env) string {
	t.Helper()
	list, err := e.incidents.List(context.Background(), incident.Filter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("incidents = %v, %v", list, err)
	}
	return list[0].ID
}

// A person whose first phone fails for good (Twilio refuses the number: 21211) gets the
// same SMS on their verified second phone, through the real dispatcher and a fake Twilio;
// nobody gets anything twice, and a person without a second phone gets no copy.
func TestAnSMSTheFirstPhoneRefusesGoesToTheSecondPhoneOnce(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		tw := twiliotest.New(t, twiliotest.Options{})
		tc, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), From: []string{"+15005550006"},
			APIURL: tw.URL(), PublicURL: "https://bcp.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		const second = "+525511112222"
		ana := e.profile("ana@example.com", contacts.Profile{Phone2: ptr(second)})
		e.verify(ana, ana.Phone)
		e.verify(ana, second)
		tw.RejectTo(ana.Phone, 21211)       // her first phone is no longer a valid number
		tw.RejectTo("+34600000005", 21211)  // Ed's only phone, too
		tw.RejectTo("+525500000009", 21211) // nobody's
		e.declare(p1)                       // pages the leads Ana and Ed; Bob is the audience
		d := broadcast.NewDispatcher(e.db.Deliveries(), map[string]broadcast.Sender{"sms": tc.SMS()},
			broadcast.DispatcherOptions{Owner: "test", Poll: 20 * time.Millisecond, Now: e.clock.Now, MinBackoff: time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
		defer func() { cancel(); wg.Wait() }()

		to := func() map[string]int {
			n := map[string]int{}
			for _, m := range tw.Messages() {
				n[m.Form.Get("To")]++
			}
			return n
		}
		deadline := time.Now().Add(15 * time.Second)
		for to()[second] == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // anything more would have gone by now
		want := map[string]int{ana.Phone: 1, second: 1, "+34600000004": 1, "+34600000005": 1}
		got := to()
		for number, n := range want {
			if got[number] != n {
				t.Errorf("messages to %s: %d, want %d (all: %v)", number, got[number], n, got)
			}
		}
		if len(got) != len(want) {
			t.Errorf("messages to %v, want only %v", got, want)
		}
		// Accepted only on the second phone: the refused attempt is failed, its copy sent.
		var anaStates []string
		states, err := e.db.Deliveries().SubjectDeliveries(context.Background(), incidentID(t, e))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.Recipient == ana.ID {
				anaStates = append(anaStates, s.Status)
			}
		}
		slices.Sort(anaStates)
		if !slices.Equal(anaStates, []string{broadcast.StatusFailed, broadcast.StatusSent}) {
			t.Errorf("Ana's deliveries: %v, want one failed and one sent", anaStates)
		}
	})
}

// The provider's later report that the first phone did not take an accepted SMS
// ("undelivered") sends the copy too, once however often the report comes; the
// incident's later reminders go straight to the second phone; after the person
// acknowledged, a failure of the first phone sends nothing more.
func TestAnUndeliveredReportFallsBackOnceAndNotAfterTheAcknowledgement(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		const second = "+525511112222"
		ana := e.profile("ana@example.com", contacts.Profile{Phone2: ptr(second)})
		e.verify(ana, ana.Phone)
		e.verify(ana, second)
		e.declare(p1)
		later := func(old, new string) bool { return true }
		ctx := context.Background()
		var first broadcast.Delivery
		for _, d := range e.claimAt(e.clock.Now()) {
			if d.Recipient == ana.ID {
				first = d
			}
			if err := e.db.Deliveries().Sent(ctx, d.DeliveryID, d.Attempts, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		if first.To != ana.Phone {
			t.Fatalf("Ana's SMS went to %q, want her first phone", first.To)
		}
		for _, st := range []string{"undelivered", "failed", "undelivered"} {
			if _, _, err := e.db.Deliveries().ProviderUpdate(ctx, first.DeliveryID, "SM1", st, "30003", e.clock.Now(), later); err != nil {
				t.Fatal(err)
			}
		}
		copies := e.claimAt(e.clock.Now())
		if len(copies) != 1 || copies[0].To != second || copies[0].Recipient != ana.ID || copies[0].Text != first.Text {
			t.Fatalf("after undelivered: %+v, want one copy to the second phone", copies)
		}
		if err := e.db.Deliveries().Sent(ctx, copies[0].DeliveryID, copies[0].Attempts, e.clock.Now()); err != nil {
			t.Fatal(err)
		}

		// At 2 minutes the reminder goes straight to the second phone: the first failed
		// for good on this incident.
		e.at(2 * time.Minute)
		reminders := map[string]string{}
		for _, d := range e.claimAt(e.clock.Now()) {
			if d.Recipient == ana.ID {
				reminders[d.Channel] = d.To
			}
			e.db.Deliveries().Sent(ctx, d.DeliveryID, d.Attempts, e.clock.Now())
		}
		if reminders["sms"] != second {
			t.Errorf("the reminder went to %v, want the second phone", reminders)
		}

		// Another incident starts on the first phone again; she acknowledges before its
		// failure is reported: no copy.
		other := e.declare(p1).ID
		var page broadcast.Delivery
		for _, d := range e.claimAt(e.clock.Now()) {
			if d.Recipient == ana.ID && d.Subject == other {
				page = d
			}
			e.db.Deliveries().Sent(ctx, d.DeliveryID, d.Attempts, e.clock.Now())
		}
		if page.To != ana.Phone {
			t.Fatalf("the other incident's SMS went to %q, want her first phone", page.To)
		}
		if _, err := e.incidents.AcknowledgeAsPerson(ctx, other, ana.ID, ana.Name, "web"); err != nil {
			t.Fatal(err)
		}
		e.consume()
		if _, _, err := e.db.Deliveries().ProviderUpdate(ctx, page.DeliveryID, "SM2", "undelivered", "30003", e.clock.Now(), later); err != nil {
			t.Fatal(err)
		}
		for _, d := range e.claim() {
			if d.Recipient == ana.ID {
				t.Errorf("queued for Ana after her acknowledgement: %+v", d)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// The same through the real dispatcher, a fake Twilio and a fake push service: Ana, who
// put SMS before push, gets the SMS at the declaration and the push only once the gap has
// passed; each once.
func TestTheChosenOrderHoldsThroughTheDispatcher(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		if err := e.ladders.Seed(context.Background(), []escalation.Ladder{orderLadder}); err != nil {
			t.Fatal(err)
		}
		tw := twiliotest.New(t, twiliotest.Options{})
		tc, err := twilio.New(twilio.Config{AccountSID: tw.AccountSID(), AuthToken: tw.AuthToken(), From: []string{"+15005550006"},
			APIURL: tw.URL(), PublicURL: "https://bcp.example.com"})
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		keys, err := webpush.LoadKeys(t.TempDir(), func(k string) string {
			if k == "VAPID_SUBJECT" {
				return "mailto:ops@example.com"
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		push := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: keys.Public})
		ana := e.profile("ana@example.com", contacts.Profile{ChannelOrder: []string{"sms", "webpush"}})
		raw, _ := push.NewSubscription()
		var sub webpush.Subscription
		if err := json.Unmarshal(raw, &sub); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.db.Push().Save(context.Background(), ana.ID, sub, "test"); err != nil {
			t.Fatal(err)
		}

		d := broadcast.NewDispatcher(e.db.Deliveries(), map[string]broadcast.Sender{
			"sms": tc.SMS(), "webpush": webpush.New(keys, webpush.Options{AllowPrivateEndpoints: true}),
		}, broadcast.DispatcherOptions{Owner: "test", Poll: 20 * time.Millisecond, Now: e.clock.Now})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); d.Run(ctx) }()
		defer func() { cancel(); wg.Wait() }()

		e.declare(incident.Declaration{Title: "Orden", Impact: "low", Urgency: "low", Ladder: "order", Teams: []string{"operations"}})
		toAna := func() int {
			n := 0
			for _, m := range tw.Messages() {
				if m.Form.Get("To") == ana.Phone {
					n++
				}
			}
			return n
		}
		waitFor(t, "Ana's SMS", func() bool { return toAna() == 1 })
		time.Sleep(300 * time.Millisecond) // a push due now would have gone by now
		if got := len(push.Received()); got != 0 {
			t.Fatalf("pushes before the gap: %d, want 0", got)
		}
		e.clock.Set(t0.Add(escalation.DefaultChannelGap))
		d.Wake()
		waitFor(t, "Ana's push", func() bool { return len(push.Received()) == 1 })
		time.Sleep(300 * time.Millisecond)
		if n, p := toAna(), len(push.Received()); n != 1 || p != 1 {
			t.Errorf("Ana got %d SMS and %d pushes, want one each", n, p)
		}
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
