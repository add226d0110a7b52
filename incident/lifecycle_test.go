package incident_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var (
	mia     = optimum.Actor{ID: "tok_mia", Name: "Mia", Role: optimum.RoleManager}
	rosa    = optimum.Actor{ID: "tok_rosa", Name: "Rosa", Role: optimum.RoleReporter}
	t0      = time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	pathsTo = map[incident.Status][]incident.Status{
		incident.StatusDeclared:      {},
		incident.StatusAcknowledged:  {incident.StatusAcknowledged},
		incident.StatusInvestigating: {incident.StatusInvestigating},
		incident.StatusResolved:      {incident.StatusInvestigating, incident.StatusResolved},
		incident.StatusVerified:      {incident.StatusInvestigating, incident.StatusResolved, incident.StatusVerified},
		incident.StatusClosed:        {incident.StatusInvestigating, incident.StatusResolved, incident.StatusVerified, incident.StatusClosed},
		incident.StatusReopened:      {incident.StatusInvestigating, incident.StatusResolved, incident.StatusReopened},
		incident.StatusCancelled:     {incident.StatusCancelled},
	}
)

type deskFixture struct {
	*fixture
	desk *incident.Desk
	now  *time.Time
}

func newDesk(t testing.TB) *deskFixture {
	t.Helper()
	now := t0
	f := newFixture(t, func() time.Time { return now })
	return &deskFixture{fixture: f, now: &now, desk: incident.NewDesk(f.svc, f.db.Desk(), incident.DeskOptions{PublicURL: "https://bcp.example"})}
}

// declareIn declares an incident as Rosa and moves it, as Mia, along the path to status.
func (f *deskFixture) declareIn(t testing.TB, status incident.Status) incident.Incident {
	t.Helper()
	inc, _, err := f.svc.Declare(as(rosa), power(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range pathsTo[status] {
		if inc, err = f.desk.Transition(as(mia), inc.ID, to, "paso a "+string(to)); err != nil {
			t.Fatalf("path to %s: %v", status, err)
		}
	}
	return inc
}

// documentedMoves is the lifecycle table of docs/incident-work.md, written by hand (not
// read from the code): a move the code allows or refuses against it fails the test.
var documentedMoves = map[incident.Status][]incident.Status{
	"declared":      {"acknowledged", "investigating", "cancelled"},
	"acknowledged":  {"investigating", "resolved", "cancelled"},
	"investigating": {"resolved", "cancelled"},
	"resolved":      {"verified", "reopened"},
	"verified":      {"closed", "reopened"},
	"reopened":      {"investigating", "resolved", "cancelled"},
	"closed":        {},
	"cancelled":     {},
}

func documented(from, to incident.Status) bool {
	for _, s := range documentedMoves[from] {
		if s == to {
			return true
		}
	}
	return false
}

// The state machine's own answers agree with the documented table, for every pair of
// the eight documented states.
func TestStateMachineIsTheDocumentedOne(t *testing.T) {
	for from := range documentedMoves {
		for to := range documentedMoves {
			if got, want := incident.CanMove(from, to), documented(from, to); got != want {
				t.Errorf("CanMove(%s, %s) = %v, docs/incident-work.md says %v", from, to, got, want)
			}
		}
		if got := len(incident.Moves(from)); got != len(documentedMoves[from]) {
			t.Errorf("Moves(%s) = %v, docs/incident-work.md says %v", from, incident.Moves(from), documentedMoves[from])
		}
	}
	if len(incident.Statuses) != len(documentedMoves) {
		t.Errorf("statuses = %v, the docs know %d", incident.Statuses, len(documentedMoves))
	}
}

func TestEveryTransitionIsAllowedOrRefusedByTheStateMachine(t *testing.T) {
	storetest.Each(t, testEveryTransitionIsAllowedOrRefusedByTheStateMachine)
}

func testEveryTransitionIsAllowedOrRefusedByTheStateMachine(t *testing.T) {
	f := newDesk(t)
	for from := range documentedMoves {
		for to := range documentedMoves {
			inc := f.declareIn(t, from)
			before := len(f.events(t))
			got, err := f.desk.Transition(as(mia), inc.ID, to, "motivo")
			if documented(from, to) {
				if err != nil || got.Status != to {
					t.Errorf("%s → %s: got %s, %v; want allowed", from, to, got.Status, err)
					continue
				}
				var last optimum.Event
				for _, e := range f.events(t)[before:] {
					if e.Type == incident.EventTransitioned {
						last = e
					}
				}
				if last.Type != incident.EventTransitioned || last.Actor == nil || last.Actor.ID != mia.ID || !strings.Contains(string(last.Data), `"note":"motivo"`) ||
					!strings.Contains(string(last.Data), `"from":"`+string(from)+`"`) {
					t.Errorf("%s → %s: last event %s %s, want the transition by Mia with why", from, to, last.Type, last.Data)
				}
				continue
			}
			if optimum.ErrorCode(err) != optimum.ECONFLICT {
				t.Errorf("%s → %s: err %v, want a conflict", from, to, err)
				continue
			}
			msg := optimum.ErrorMessage(err)
			for _, allowed := range documentedMoves[from] {
				if !strings.Contains(msg, string(allowed)) {
					t.Errorf("%s → %s: %q does not name the allowed move %s", from, to, msg, allowed)
				}
			}
			now, _ := f.svc.Get(context.Background(), inc.ID)
			if now.Status != from || len(f.events(t)) != before {
				t.Errorf("%s → %s refused but the incident changed: %s, %d events (was %d)", from, to, now.Status, len(f.events(t)), before)
			}
		}
	}
}

func TestMovesThatNeedAReasonOrAManager(t *testing.T) {
	storetest.Each(t, testMovesThatNeedAReasonOrAManager)
}

func testMovesThatNeedAReasonOrAManager(t *testing.T) {
	f := newDesk(t)
	cases := []struct {
		from incident.Status
		to   incident.Status
		who  optimum.Actor
		note string
		code string
	}{
		{incident.StatusResolved, incident.StatusReopened, mia, "", optimum.EINVALID},
		{incident.StatusDeclared, incident.StatusCancelled, mia, "  ", optimum.EINVALID},
		{incident.StatusInvestigating, incident.StatusResolved, alice, "", optimum.EINVALID},
		{incident.StatusVerified, incident.StatusClosed, mia, "", optimum.EINVALID},
		{incident.StatusVerified, incident.StatusClosed, alice, "sin respuesta", optimum.EFORBIDDEN},
		{incident.StatusDeclared, "archived", mia, "x", optimum.EINVALID},
		{incident.StatusDeclared, incident.StatusInvestigating, mia, strings.Repeat("x", incident.MaxNote+1), optimum.EINVALID},
	}
	for _, c := range cases {
		inc := f.declareIn(t, c.from)
		before := len(f.events(t))
		_, err := f.desk.Transition(as(c.who), inc.ID, c.to, c.note)
		if got := optimum.ErrorCode(err); got != c.code {
			t.Errorf("%s → %s by %s with %q: code %q, want %q", c.from, c.to, c.who.Role, truncateNote(c.note), got, c.code)
		}
		if got, _ := f.svc.Get(context.Background(), inc.ID); got.Status != c.from || len(f.events(t)) != before {
			t.Errorf("%s → %s: refused but changed", c.from, c.to)
		}
	}
	// A manager closing without conformity waives it, on the record.
	inc := f.declareIn(t, incident.StatusVerified)
	got, err := f.desk.Transition(as(mia), inc.ID, incident.StatusClosed, "el solicitante dejó la empresa")
	if err != nil || got.Conformity != incident.ConformityWaived || got.ClosedAt == nil {
		t.Errorf("manager close = %+v, %v; want closed, conformity waived", got.Work, err)
	}
}

func truncateNote(s string) string {
	if len(s) > 10 {
		return s[:10] + "…"
	}
	return s
}

func TestAcknowledgeMovesADeclaredIncidentToAcknowledged(t *testing.T) {
	storetest.Each(t, testAcknowledgeMovesADeclaredIncidentToAcknowledged)
}

func testAcknowledgeMovesADeclaredIncidentToAcknowledged(t *testing.T) {
	f := newDesk(t)
	inc := f.declareIn(t, incident.StatusDeclared)
	got, err := f.svc.Acknowledge(as(alice), inc.ID, "web")
	if err != nil || got.Status != incident.StatusAcknowledged {
		t.Fatalf("ack = %s, %v", got.Status, err)
	}
	if _, err := f.desk.Transition(as(mia), inc.ID, incident.StatusAcknowledged, ""); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("acknowledging twice through the state machine: %v, want conflict", err)
	}
}

func TestReclassificationNeedsANoteAndKeepsEveryChange(t *testing.T) {
	storetest.Each(t, testReclassificationNeedsANoteAndKeepsEveryChange)
}

func testReclassificationNeedsANoteAndKeepsEveryChange(t *testing.T) {
	f := newDesk(t)
	inc := f.declareIn(t, incident.StatusInvestigating) // critical × high = P1
	before := len(f.events(t))
	if _, err := f.desk.Reclassify(as(alice), inc.ID, incident.Reclassification{Impact: incident.Low, Urgency: incident.Low}); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Fatalf("without a note: %v, want invalid", err)
	}
	if len(f.events(t)) != before {
		t.Fatal("a refused reclassification appended an event")
	}
	got, err := f.desk.Reclassify(as(alice), inc.ID, incident.Reclassification{Impact: incident.Low, Urgency: incident.Low, Note: "solo afecta a una sala"})
	if err != nil || got.Priority == inc.Priority || !got.SLA.ResolveBy.After(inc.SLA.ResolveBy) {
		t.Fatalf("reclassify = %s %+v, %v; want a lower priority and a later SLA", got.Priority, got.SLA, err)
	}
	got, err = f.desk.Reclassify(as(alice), inc.ID, incident.Reclassification{Impact: incident.Critical, Urgency: incident.Critical, Note: "se extendió al CPD"})
	if err != nil || got.Priority != "P1" {
		t.Fatalf("reclassify back = %s, %v", got.Priority, err)
	}
	var n int
	for _, e := range f.events(t) {
		if e.Type == incident.EventReclassified {
			n++
			if !strings.Contains(string(e.Data), `"before"`) || !strings.Contains(string(e.Data), `"note"`) {
				t.Errorf("reclassified event %s lacks before or note", e.Data)
			}
		}
	}
	if n != 2 {
		t.Errorf("%d reclassified events, want 2", n)
	}
}

func TestConformityUnansweredClosesAfterItsTime(t *testing.T) {
	storetest.Each(t, testConformityUnansweredClosesAfterItsTime)
}

func testConformityUnansweredClosesAfterItsTime(t *testing.T) {
	f := newDesk(t)
	inc := f.declareIn(t, incident.StatusResolved)
	if n, err := f.desk.Tick(context.Background(), t0.Add(71*time.Hour)); err != nil || n != 0 {
		t.Fatalf("tick before expiry closed %d, %v", n, err)
	}
	for range 2 { // idempotent
		if _, err := f.desk.Tick(context.Background(), t0.Add(73*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := f.svc.Get(context.Background(), inc.ID)
	if got.Status != incident.StatusClosed || got.Conformity != incident.ConformityTimedOut {
		t.Errorf("after expiry: %s, conformity %s; want closed, timed_out", got.Status, got.Conformity)
	}
	var closes int
	for _, e := range f.events(t) {
		if e.Type == incident.EventTransitioned && strings.Contains(string(e.Data), `"to":"closed"`) {
			closes++
			if e.Actor.ID != optimum.System.ID || !strings.Contains(string(e.Data), "no answer") {
				t.Errorf("timeout close %s by %v: want the system, saying why", e.Data, e.Actor)
			}
		}
	}
	if closes != 1 {
		t.Errorf("%d close events, want 1", closes)
	}
}

func TestRequesterIsToldTheFolioAtOnce(t *testing.T) {
	storetest.Each(t, testRequesterIsToldTheFolioAtOnce)
}

func testRequesterIsToldTheFolioAtOnce(t *testing.T) {
	f := newDesk(t)
	inc := f.declareIn(t, incident.StatusDeclared)
	ms, err := f.desk.Messages(context.Background(), inc.ID)
	if err != nil || len(ms) != 1 || ms[0].Kind != incident.MessageFolio || !strings.Contains(ms[0].Text, inc.Folio) || ms[0].To.ID != rosa.ID {
		t.Fatalf("messages = %+v, %v; want the folio to Rosa", ms, err)
	}
	if !strings.HasPrefix(ms[0].Text, "Recibimos") {
		t.Errorf("text %q: want Spanish by default", ms[0].Text)
	}
	ev := f.events(t)
	if len(ev) != 1 || ev[0].Type != incident.EventDeclared || !strings.Contains(string(ev[0].Data), inc.Folio) {
		t.Errorf("events %d, want incident.declared carrying the folio message", len(ev))
	}
}

// A queued message to the requester keeps a slot for its conformity link; each send mints
// a new link to the open request, and a send after the request ended is superseded.
func TestConformityLinksAreMintedAsTheyAreSent(t *testing.T) {
	storetest.Each(t, testConformityLinksAreMintedAsTheyAreSent)
}

func testConformityLinksAreMintedAsTheyAreSent(t *testing.T) {
	f := newDesk(t)
	ctx := context.Background()
	inc := f.declareIn(t, incident.StatusResolved)
	ms, _ := f.desk.Messages(ctx, inc.ID)
	stored := ms[len(ms)-1]
	if stored.Kind != incident.MessageConformity || !strings.Contains(stored.Text, "/c/"+incident.ConformitySlot) {
		t.Fatalf("stored conformity message %+v: want the slot, not a link", stored)
	}
	if len(incident.ConformitySlot) != 32 {
		t.Errorf("the slot is %d characters; a token is 32", len(incident.ConformitySlot))
	}
	send := func() (broadcast.Delivery, error) {
		del := broadcast.Delivery{Message: broadcast.Message{Text: stored.Text, URL: stored.URL}, Subject: inc.ID, Recipient: "per_rosa"}
		err := f.desk.PrepareConformity(ctx, &del)
		return del, err
	}
	sms, err := send()
	if err != nil || strings.Contains(sms.Text, incident.ConformitySlot) || !strings.HasPrefix(sms.URL, "https://bcp.example/c/") || !strings.Contains(sms.Text, sms.URL) {
		t.Fatalf("prepared = %+v, %v", sms.Message, err)
	}
	push, _ := send()
	if push.URL == sms.URL {
		t.Error("two sends got the same link")
	}
	for _, d := range []broadcast.Delivery{sms, push} {
		if _, _, err := f.desk.Conformity(ctx, strings.TrimPrefix(d.URL, "https://bcp.example/c/")); err != nil {
			t.Errorf("link %s: %v", d.URL, err)
		}
	}
	if _, err := f.desk.Transition(as(mia), inc.ID, incident.StatusReopened, "sigue fallando"); err != nil {
		t.Fatal(err)
	}
	if _, err := send(); !errors.Is(err, broadcast.ErrSuperseded) {
		t.Errorf("a send after the request ended = %v, want superseded", err)
	}
	if _, _, err := f.desk.Conformity(ctx, strings.TrimPrefix(sms.URL, "https://bcp.example/c/")); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("a link of the ended request = %v, want a conflict", err)
	}
	other := broadcast.Delivery{Message: broadcast.Message{Text: "Sin enlace"}, Subject: inc.ID}
	if err := f.desk.PrepareConformity(ctx, &other); err != nil || other.Text != "Sin enlace" {
		t.Errorf("a message without the slot = %q, %v", other.Text, err)
	}
}
