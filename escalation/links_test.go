package escalation_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

type linkClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *linkClock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *linkClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// linkWorld is a world whose incidents and links run on a clock the test moves.
func linkWorld(t *testing.T, ttl time.Duration) (*world, *escalation.Links, *linkClock) {
	t.Helper()
	w := newWorld(t, broadcast.ChannelSMS)
	clk := &linkClock{t: time.Now().UTC().Truncate(time.Millisecond)}
	return w, escalation.NewLinks(w.db.Escalation(), ttl, clk.Now), clk
}

// sentLink claims the queued SMS of the person who speaks lang, fills in its link as the
// dispatcher does right before sending, and returns the token and the delivery.
func sentLink(t *testing.T, w *world, links *escalation.Links, lang string) (string, broadcast.Delivery) {
	t.Helper()
	for _, d := range w.claimAll(t) {
		if d.Language != lang {
			continue
		}
		if !strings.HasSuffix(d.URL, "/a/"+escalation.LinkSlot) || !strings.Contains(d.Text, escalation.LinkSlot) {
			t.Fatalf("queued message holds more than the link's slot: %q / %q", d.URL, d.Text)
		}
		if err := links.Prepare(context.Background(), &d); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(d.URL+d.Text, escalation.LinkSlot) || !strings.Contains(d.Text, d.URL) {
			t.Fatalf("prepared message = %q / %q", d.URL, d.Text)
		}
		return d.URL[strings.LastIndex(d.URL, "/")+1:], d
	}
	t.Fatalf("no queued SMS in %s", lang)
	return "", broadcast.Delivery{}
}

// A one-tap link is made when its message is sent: the deliveries table never holds a
// working token, and the link sent works.
func TestOneTapLinkIsMadeWhenSentAndNeverStored(t *testing.T) {
	storetest.Each(t, testOneTapLinkIsMadeWhenSentAndNeverStored)
}

func testOneTapLinkIsMadeWhenSentAndNeverStored(t *testing.T) {
	w, links, _ := linkWorld(t, time.Hour)
	w.declare(t, "Ransomware", false)
	w.notifier.Consume(context.Background())
	token, d := sentLink(t, w, links, "en")
	// The send failed and is retried: what is stored, claimed again, is still the slot,
	// and the retry gets a token of its own.
	if err := w.db.Deliveries().Retry(context.Background(), d.DeliveryID, d.Attempts, time.Now(), time.Now(), "503"); err != nil {
		t.Fatal(err)
	}
	again, _ := sentLink(t, w, links, "en")
	if again == token {
		t.Errorf("the retry was sent the same token")
	}
	if got, l, err := w.incidents.AcknowledgeByLink(context.Background(), token, "link"); err != nil || l.Name != "Bob" || got.AckCount != 1 {
		t.Errorf("ack by the sent link = %+v %+v %v", got, l, err)
	}
}

// A link works for the configured lifetime after it was sent, and not after; it stops
// working as soon as its incident is cancelled (or closed).
func TestOneTapLinkStopsWorking(t *testing.T) { storetest.Each(t, testOneTapLinkStopsWorking) }

func testOneTapLinkStopsWorking(t *testing.T) {
	w, links, clk := linkWorld(t, 72*time.Hour)
	svc := incident.NewService(w.db.Incidents(), config.Default().IncidentPolicy(), nil, clk.Now)
	w.declare(t, "Ransomware", false)
	w.notifier.Consume(context.Background())
	token, _ := sentLink(t, w, links, "en")
	clk.Advance(72*time.Hour - time.Minute)
	if _, _, err := svc.Link(context.Background(), token); err != nil {
		t.Fatalf("a link 1 minute before its end: %v", err)
	}
	clk.Advance(time.Minute)
	if _, _, err := svc.Link(context.Background(), token); optimum.ErrorCode(err) != optimum.ENOTFOUND {
		t.Errorf("a link at its end: %v, want not found", err)
	}

	inc := w.declare(t, "Incendio en la planta", false)
	w.notifier.Consume(context.Background())
	token, _ = sentLink(t, w, links, "es")
	desk := incident.NewDesk(svc, w.db.Desk(), incident.DeskOptions{})
	if _, err := desk.Transition(admin, inc.ID, incident.StatusCancelled, "Falsa alarma"); err != nil {
		t.Fatal(err)
	}
	got, _, err := svc.Link(context.Background(), token)
	if optimum.ErrorCode(err) != optimum.ECONFLICT || got.ID != inc.ID {
		t.Errorf("the link of a cancelled incident: %v (incident %q), want a conflict naming it", err, got.ID)
	}
	if _, _, err := svc.AcknowledgeByLink(context.Background(), token, "link"); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("acknowledging by the link of a cancelled incident: %v", err)
	}
}

// "Necesito ayuda" given by link cannot be taken back by whoever holds the link: only
// the person signed in, or a responder with a note on the timeline, changes it.
func TestALinkCannotTakeBackHelpNeeded(t *testing.T) {
	storetest.Each(t, testALinkCannotTakeBackHelpNeeded)
}

func testALinkCannotTakeBackHelpNeeded(t *testing.T) {
	w, links, _ := linkWorld(t, time.Hour)
	inc, _, err := w.incidents.Declare(admin, incident.Declaration{Title: "Sismo", Impact: "critical", Urgency: "critical",
		Teams: []string{"technology"}, SafetyPoll: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	w.notifier.Consume(context.Background())
	token, _ := sentLink(t, w, links, "en")
	ctx := context.Background()
	help := func(want int) {
		t.Helper()
		got, err := w.incidents.Get(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Safety == nil || got.Safety.HelpNeeded != want {
			t.Errorf("help needed = %+v, want %d", got.Safety, want)
		}
	}
	if _, _, err := w.incidents.AnswerSafetyByLink(ctx, token, "link", incident.SafetyHelpNeeded); err != nil {
		t.Fatal(err)
	}
	help(1)
	for _, ch := range []string{"link", "webpush"} {
		if _, _, err := w.incidents.AnswerSafetyByLink(ctx, token, ch, incident.SafetySafe); optimum.ErrorCode(err) != optimum.ECONFLICT {
			t.Errorf("the link (%s) took back help needed: %v", ch, err)
		}
	}
	help(1)

	rs, _ := w.incidents.Recipients(ctx, inc.ID)
	var bob string
	for _, r := range rs {
		if r.Name == "Bob" {
			bob = r.PersonID
		}
	}
	responder := optimum.WithActor(ctx, optimum.Actor{ID: "usr_resp", Name: "Rosa Responde", Role: optimum.RoleResponder})
	if _, err := w.incidents.SetSafetyFor(responder, inc.ID, bob, incident.SafetySafe, ""); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("a responder without a note: %v", err)
	}
	reporter := optimum.WithActor(ctx, optimum.Actor{ID: "usr_rep", Name: "Otro", Role: optimum.RoleReporter, PersonID: "per_other"})
	if _, err := w.incidents.SetSafetyFor(reporter, inc.ID, bob, incident.SafetySafe, "me dijo"); optimum.ErrorCode(err) != optimum.EFORBIDDEN {
		t.Errorf("a reporter changing Bob's answer: %v", err)
	}
	help(1)
	if _, err := w.incidents.SetSafetyFor(responder, inc.ID, bob, incident.SafetySafe, "Lo llamé: está en el punto de reunión"); err != nil {
		t.Fatal(err)
	}
	help(0)
	timeline, _ := w.incidents.Timeline(ctx, inc.ID)
	last := timeline[len(timeline)-1]
	if last.Type != incident.EventSafetyAnswered || last.Actor == nil || last.Actor.Name != "Rosa Responde" ||
		!strings.Contains(string(last.Data), "punto de reunión") || !strings.Contains(string(last.Data), `"previous":"help_needed"`) {
		t.Errorf("timeline entry = %+v %s", last, last.Data)
	}

	// Bob, signed in, may change his own answer both ways.
	bobIn := optimum.WithActor(ctx, optimum.Actor{ID: "usr_bob", Name: "Bob", Role: optimum.RoleReporter, PersonID: bob})
	for _, a := range []string{incident.SafetyHelpNeeded, incident.SafetySafe} {
		if _, err := w.incidents.AnswerSafetyAsActor(bobIn, inc.ID, "web", a); err != nil {
			t.Errorf("Bob signed in answers %s: %v", a, err)
		}
	}
	help(0)
}
