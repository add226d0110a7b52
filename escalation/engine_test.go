package escalation_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// clock is a test's time: it only moves when the test says so.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var t0 = time.Date(2026, 12, 7, 15, 0, 0, 0, time.UTC)

// org is a small company: technology and operations each have a lead, the continuity
// team one manager, the directors one director. Reporting lines go up to the director.
const org = "name,email,phone,language,teams,manager_email\n" +
	"Dora Directora,dora@example.com,+525500000001,es,directors,\n" +
	"Carla Continuidad,carla@example.com,+525500000002,es,continuity,dora@example.com\n" +
	"Ana Líder TI,ana@example.com,+525500000003,es,technology:lead,dora@example.com\n" +
	"Bob Developer,bob@example.com,+34600000004,en,technology,ana@example.com\n" +
	"Ed Ops Lead,ed@example.com,+34600000005,en,operations:lead,dora@example.com\n"

type env struct {
	t         *testing.T
	opener    func() *store.DB
	db        *store.DB
	clock     *clock
	cfg       config.Config
	dir       *contacts.Directory
	incidents *incident.Service
	inbound   *escalation.Inbound
	engine    *escalation.Engine
	ladders   *escalation.Ladders
}

// newEnv opens a fresh database (open opens it again as another process would) with the
// org and the example configuration's ladders.
func newEnv(t *testing.T, open func() *store.DB) *env {
	t.Helper()
	e := &env{t: t, opener: open, clock: &clock{t: t0}, cfg: config.Default()}
	e.open("engine-a")
	rows, err := contacts.ParseCSV(strings.NewReader(org))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.dir.Import(admin, rows, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := e.ladders.Seed(context.Background(), e.cfg.Escalation.Ladders); err != nil {
		t.Fatal(err)
	}
	return e
}

// open (re)opens the database and builds a process on it: a restart keeps nothing
// but the database.
func (e *env) open(owner string) {
	e.t.Helper()
	ctx := context.Background()
	db := e.opener()
	e.db = db
	e.dir = contacts.NewDirectory(db.Contacts(), e.clock.Now)
	if err := e.dir.EnsureTeams(ctx, e.cfg.TeamInputs()); err != nil {
		e.t.Fatal(err)
	}
	e.incidents = incident.NewService(db.Incidents(), e.cfg.IncidentPolicy(), e.dir, e.clock.Now)
	e.inbound = escalation.NewInbound(db.Escalation(), e.incidents, e.clock.Now)
	e.ladders = escalation.NewLadders(db.Escalation(), e.clock.Now)
	e.engine = e.newEngine(owner)
}

func (e *env) newEngine(owner string) *escalation.Engine { return e.engineOn(e.db, owner) }

func (e *env) engineOn(db *store.DB, owner string) *escalation.Engine {
	tpl, err := escalation.NewTemplates()
	if err != nil {
		e.t.Fatal(err)
	}
	return escalation.New(db.Escalation(), tpl, nil, escalation.Options{
		PublicURL: "https://bcp.example.com", Channels: []string{"webpush", "sms", "voice"}, Owner: owner,
		SLATeam: "continuity", SLAJump: true, Now: e.clock.Now,
	})
}

func (e *env) declare(d incident.Declaration) incident.Incident {
	e.t.Helper()
	inc, _, err := e.incidents.Declare(admin, d, "")
	if err != nil {
		e.t.Fatal(err)
	}
	e.consume()
	return inc
}

func (e *env) consume() {
	e.t.Helper()
	for {
		n, err := e.engine.Consume(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// at moves time to t0+d and runs a tick, as cron would.
func (e *env) at(d time.Duration) escalation.TickResult {
	e.t.Helper()
	e.clock.Set(t0.Add(d))
	res, err := e.engine.Tick(context.Background(), e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// sent takes every queued delivery as the dispatcher would, as "name/channel".
func (e *env) sent() []string {
	e.t.Helper()
	ds := e.claimAt(e.clock.Now())
	names := map[string]string{}
	ps, _ := e.dir.People(context.Background(), contacts.Filter{})
	for _, p := range ps {
		names[p.ID] = strings.Fields(p.Name)[0]
	}
	var out []string
	for _, d := range ds {
		if err := e.db.Deliveries().Sent(context.Background(), d.DeliveryID, d.Attempts, e.clock.Now()); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, names[d.Recipient]+"/"+d.Channel)
	}
	slices.Sort(out)
	return out
}

func (e *env) expectSent(when string, want ...string) {
	e.t.Helper()
	got := e.sent()
	if want == nil {
		want = []string{}
	}
	if got == nil {
		got = []string{}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Errorf("%s: sent %v, want %v", when, got, want)
	}
}

func (e *env) view(id string) *escalation.View {
	e.t.Helper()
	v, err := e.engine.View(context.Background(), id)
	if err != nil || v == nil {
		e.t.Fatalf("view = %v, %v", v, err)
	}
	return v
}

// events returns the incident's events of a type, with their data.
func (e *env) events(id, typ string) []map[string]any {
	e.t.Helper()
	tl, err := e.incidents.Timeline(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, ev := range tl {
		if ev.Type == typ {
			var m map[string]any
			json.Unmarshal(ev.Data, &m)
			out = append(out, m)
		}
	}
	return out
}

var p1 = incident.Declaration{Title: "Caída del centro de datos", Impact: "critical", Urgency: "critical", Teams: []string{"technology"}}

// The product's story: a P1 is declared; the leads are paged at once (the audience,
// technology, too); nobody acknowledges, so the SMS comes again at 2 minutes and a call
// at 4; at 5 minutes the continuity team is paged (and the SLA breach is recorded); at
// 10 the directors; a director answers "1" by SMS and all nagging stops.
func TestP1NobodyAnswersTheLadderClimbsAndADirectorsSMSStopsAllNagging(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		inc := e.declare(p1)
		e.expectSent("at declaration", "Ana/sms", "Bob/sms", "Ed/sms")
		v := e.view(inc.ID)
		if v.Ladder != "p1" || v.Step != 1 || v.State != escalation.StateRunning || v.NextStepAt == nil || !v.NextStepAt.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("after declaration: %+v", v)
		}
		e.at(time.Minute)
		e.expectSent("at 1 min")
		e.at(2 * time.Minute)
		e.expectSent("at 2 min (SMS again)", "Ana/sms", "Bob/sms", "Ed/sms")
		e.at(4 * time.Minute)
		e.expectSent("at 4 min (a call)", "Ana/voice", "Bob/voice", "Ed/voice")
		e.at(5*time.Minute - time.Millisecond)
		e.expectSent("just before 5 min")
		e.at(5 * time.Minute)
		e.expectSent("at 5 min: the continuity team", "Carla/sms")
		if b := e.events(inc.ID, escalation.EventBreached); len(b) != 1 || b[0]["kind"] != "acknowledge" {
			t.Errorf("SLA breach events = %v", b)
		}
		if v := e.view(inc.ID); v.Step != 2 || v.SLA.Acknowledge != escalation.SLABreached {
			t.Errorf("at 5 min: step %d, sla %s", v.Step, v.SLA.Acknowledge)
		}
		e.at(7 * time.Minute)
		e.expectSent("at 7 min: Carla's call", "Carla/voice")
		e.at(10 * time.Minute)
		e.expectSent("at 10 min: the directors", "Dora/sms", "Dora/voice")
		v = e.view(inc.ID)
		if v.Step != 3 || !slices.Contains(v.Pending, "Dora Directora") || !slices.Contains(v.Pending, "Carla Continuidad") {
			t.Fatalf("at 10 min: %+v", v)
		}

		// Dora's call has not gone out yet when she answers the SMS: it is cancelled.
		var queued []broadcast.Delivery
		e.clock.Set(t0.Add(10*time.Minute + 30*time.Second))
		reply, err := e.inbound.SMS(context.Background(), "+525500000001", "1", func(bool) (string, string) { return escalation.ReplyAck, "" })
		if err != nil || !strings.Contains(reply, inc.Folio) {
			t.Fatalf("reply = %q, %v", reply, err)
		}
		e.consume()
		if queued = e.claim(); len(queued) != 0 {
			t.Errorf("deliveries still queued after the acknowledgement: %v", queued)
		}
		v = e.view(inc.ID)
		if v.State != escalation.StateOwned || len(v.Pending) != 3 || v.NextStepAt != nil {
			t.Errorf("owned: %+v", v)
		}
		for _, p := range v.Paged {
			if p.NextReminderAt != nil || (p.AcknowledgedAt == nil && p.StoppedAt == nil) {
				t.Errorf("%s is still nagged: %+v", p.Name, p)
			}
		}
		if o := e.events(inc.ID, escalation.EventOwned); len(o) != 1 {
			t.Errorf("owned events = %v", o)
		}
		for _, d := range []time.Duration{11 * time.Minute, 13 * time.Minute, 20 * time.Minute, 30 * time.Minute, 4 * time.Hour} {
			e.at(d)
		}
		e.expectSent("after the acknowledgement; at 4 h the resolve SLA tells the continuity team", "Carla/sms")
		if b := e.events(inc.ID, escalation.EventBreached); len(b) != 2 || b[1]["kind"] != "resolve" {
			t.Errorf("SLA breach events = %v", b)
		}
	})
}

func (e *env) claim() []broadcast.Delivery { return e.claimAt(e.clock.Now().Add(time.Hour)) }

// claimAt claims every delivery due at now, on every channel, as the dispatcher would.
func (e *env) claimAt(now time.Time) []broadcast.Delivery {
	e.t.Helper()
	var out []broadcast.Delivery
	for _, ch := range []string{"webpush", "sms", "voice", "email"} {
		ds, err := e.db.Deliveries().Claim(context.Background(), "dispatcher", ch, now, time.Minute, 10000)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ds...)
	}
	return out
}

// An acknowledgement stops that person's reminders at once and cancels what was queued
// for them and not sent yet (kept, as cancelled); the others are still nagged.
func TestAnAcknowledgementStopsOnlyThatPersonsReminders(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		inc := e.declare(p1)
		// Nothing is sent yet (the dispatcher has not run) when Bob taps the link in the web app.
		if _, err := e.incidents.AcknowledgeAsPerson(context.Background(), inc.ID, personID(t, e, "bob@example.com"), "Bob Developer", "web"); err != nil {
			t.Fatal(err)
		}
		e.consume()
		e.expectSent("Bob acknowledged before his SMS left", "Ana/sms", "Ed/sms")
		ds, _ := e.incidents.Recipients(context.Background(), inc.ID)
		for _, r := range ds {
			if strings.HasPrefix(r.Name, "Bob") && (len(r.Deliveries) != 1 || r.Deliveries[0].Status != broadcast.StatusCancelled) {
				t.Errorf("Bob's delivery = %+v, want kept as cancelled", r.Deliveries)
			}
		}
		e.at(2 * time.Minute)
		e.expectSent("at 2 min, Bob (audience) is no longer nagged; the leads are", "Ana/sms", "Ed/sms")
		if v := e.view(inc.ID); v.State != escalation.StateRunning {
			t.Errorf("an audience member's acknowledgement does not own a P1: %s", v.State)
		}
	})
}

func personID(t *testing.T, e *env, email string) string {
	t.Helper()
	p, err := e.dir.Person(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// The process dies in the middle of the ladder, after it claimed step 2 and before it
// wrote anything; another process on the same database takes over once the lease
// expires, and every step fires exactly once, none skipped, even after a long pause.
func TestRestartMidLadderContinuesWithoutRepeatingOrSkipping(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		inc := e.declare(p1)
		e.at(4 * time.Minute)
		e.sent()
		// Crash: at 5 min the dying process claims the run, then stops.
		if ids, err := e.db.Escalation().ClaimRuns(context.Background(), "engine-a", t0.Add(5*time.Minute), 30*time.Second, 10); err != nil || len(ids) != 1 {
			t.Fatalf("claim = %v, %v", ids, err)
		}
		e.db.Close()
		e.open("engine-b")
		e.at(5*time.Minute + 10*time.Second) // the dead process's lease still holds
		if v := e.view(inc.ID); v.Step != 1 {
			t.Fatalf("step %d fired while another process held it", v.Step)
		}
		e.at(5*time.Minute + 31*time.Second) // lease expired: taken over
		e.expectSent("after take-over", "Carla/sms")
		e.at(5*time.Minute + 32*time.Second)
		e.expectSent("once only")
		// Down again for 19 minutes: the directors' step and the repeat are both due.
		e.db.Close()
		e.open("engine-c")
		e.at(24 * time.Minute)
		steps := []float64{}
		for _, d := range e.events(inc.ID, escalation.EventEscalated) {
			steps = append(steps, d["step"].(float64))
		}
		if want := []float64{1, 2, 3, 1}; !slices.Equal(steps, want) {
			t.Errorf("steps fired %v, want %v (3 at 10 min, then the repeat from the top at 20)", steps, want)
		}
	})
}

// Two engines tick the same database at the same moments: each step and each reminder
// is fired by one of them only.
func TestTwoEnginesNeverFireTheSameStep(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		var ids []string
		for range 12 {
			ids = append(ids, e.declare(p1).ID)
		}
		e.sent()
		// The second engine has its own connections, as another node would.
		a, b := e.engine, e.engineOn(open(), "engine-b")
		for _, d := range []time.Duration{2, 4, 5, 7, 10, 13, 20} {
			now := t0.Add(d * time.Minute)
			e.clock.Set(now)
			var wg sync.WaitGroup
			for _, eng := range []*escalation.Engine{a, b, a, b} {
				wg.Go(func() {
					if _, err := eng.Tick(context.Background(), now); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		for _, id := range ids {
			var steps []float64
			for _, d := range e.events(id, escalation.EventEscalated) {
				steps = append(steps, d["step"].(float64))
			}
			if want := []float64{1, 2, 3, 1}; !slices.Equal(steps, want) {
				t.Errorf("%s: steps fired %v, want %v", id, steps, want)
			}
		}
		// Per incident: Ana's SMS at 2 min, her call at 4 and her SMS again at 20 (the repeat);
		// Carla's SMS at 5 and call at 7; Dora's SMS and call at 10 and call again at 13.
		count := map[string]int{}
		for _, s := range e.sent() {
			count[s]++
		}
		n := len(ids)
		want := map[string]int{"Ana/sms": 2 * n, "Ana/voice": n, "Ed/sms": 2 * n, "Ed/voice": n, "Bob/sms": n, "Bob/voice": n,
			"Carla/sms": n, "Carla/voice": n, "Dora/sms": n, "Dora/voice": 2 * n}
		for k, v := range want {
			if count[k] != v {
				t.Errorf("%s sent %d times, want %d (%d incidents)", k, count[k], v, n)
			}
		}
	})
}

// A step whose team has nobody is reported on the timeline, loudly, and the ladder
// goes on.
func TestAStepWithNobodyIsReportedOnTheTimeline(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		l := e.cfg.Escalation.Ladders[0]
		l.ID, l.Priorities = "night", nil
		l.Steps = slices.Clone(l.Steps)
		l.Steps[1].Targets = []escalation.Target{{Team: "operations", Roles: []string{"backup"}}}
		if _, err := e.ladders.Save(admin, l); err != nil {
			t.Fatal(err)
		}
		d := p1
		d.Ladder = "night"
		inc := e.declare(d)
		e.at(5 * time.Minute)
		empty := e.events(inc.ID, escalation.EventEmpty)
		if len(empty) != 1 || empty[0]["step"].(float64) != 2 {
			t.Fatalf("empty-step events = %v", empty)
		}
		e.at(10 * time.Minute)
		if v := e.view(inc.ID); v.Step != 3 {
			t.Errorf("the ladder stopped at the empty step: %+v", v)
		}
	})
}

// Bad ladders are refused with every problem named, and the stored ladders stay as they
// were.
func TestBadLaddersAreRefusedAndNothingChanges(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		before, _ := e.ladders.List(context.Background())
		good := e.cfg.Escalation.Ladders[1]
		cases := map[string]struct {
			edit  func(l *escalation.Ladder)
			field string
			msg   string
		}{
			"negative delay":  {func(l *escalation.Ladder) { l.Steps[0].Wait = escalation.Duration(-time.Minute) }, "steps[0].wait", "must be from 0s"},
			"absurd delay":    {func(l *escalation.Ladder) { l.Steps[0].Wait = escalation.Duration(30 * 24 * time.Hour) }, "steps[0].wait", "must be from 0s"},
			"unknown team":    {func(l *escalation.Ladder) { l.Steps[1].Targets = []escalation.Target{{Team: "legal"}} }, "steps[1].targets[0].team", `"legal" is not a team`},
			"quorum too big":  {func(l *escalation.Ladder) { l.Steps[1].Owned = "3" }, "steps[1].owned", "asks for 3 acknowledgements but the step pages only 1 people"},
			"cycle to itself": {func(l *escalation.Ladder) { l.Then = "p2" }, "then", "makes a cycle"},
			"cycle by two":    {func(l *escalation.Ladder) { l.ID, l.Then = "p2", "standard" }, "", ""},
			"reminders back":  {func(l *escalation.Ladder) { l.Steps[0].Reminders[1].After = 0 }, "steps[0].reminders[1].after", "must come after"},
			"bad channel":     {func(l *escalation.Ladder) { l.Steps[0].Reminders[0].Channels = []string{"fax"} }, "steps[0].reminders[0].channels", `"fax" is not a channel`},
			"unknown person":  {func(l *escalation.Ladder) { l.Steps[2].Targets = []escalation.Target{{Person: "nadie@example.com"}} }, "steps[2].targets[0].person", `"nadie@example.com" is not an active person`},
			"unknown service": {func(l *escalation.Ladder) { l.Steps[2].Targets = []escalation.Target{{Service: "erp"}} }, "steps[2].targets[0].service", `"erp" is not a service`},
		}
		// A cycle through two ladders: standard continues with p2, p2 with standard.
		std := e.cfg.Escalation.Ladders[2]
		std.Then = "p2"
		if _, err := e.ladders.Save(admin, std); err != nil {
			t.Fatal(err)
		}
		before, _ = e.ladders.List(context.Background())
		for name, c := range cases {
			l := good
			l.Steps = slices.Clone(good.Steps)
			for i := range l.Steps {
				l.Steps[i].Reminders = slices.Clone(l.Steps[i].Reminders)
			}
			c.edit(&l)
			_, err := e.ladders.Save(admin, l)
			if optimum.ErrorCode(err) != optimum.EINVALID {
				t.Errorf("%s: err = %v, want invalid", name, err)
				continue
			}
			fields := optimum.ErrorFields(err)
			if c.field != "" && !slices.ContainsFunc(fields, func(f optimum.FieldError) bool {
				return f.Field == c.field && strings.Contains(f.Message, c.msg)
			}) {
				t.Errorf("%s: problems %v, want %s: %s", name, fields, c.field, c.msg)
			}
			if c.field == "" && !slices.ContainsFunc(fields, func(f optimum.FieldError) bool { return strings.Contains(f.Message, "cycle") }) {
				t.Errorf("%s: problems %v, want a cycle", name, fields)
			}
		}
		after, _ := e.ladders.List(context.Background())
		if !slices.EqualFunc(before, after, func(a, b escalation.LadderRecord) bool {
			x, _ := json.Marshal(a)
			y, _ := json.Marshal(b)
			return string(x) == string(y)
		}) {
			t.Error("a refused ladder changed the stored ones")
		}

		// At load: a configuration with a bad ladder and a bad cron spec is refused whole.
		cfg := config.Default()
		cfg.Escalation.Tick = "every second"
		cfg.Escalation.Ladders[0].Steps[0].Targets = []escalation.Target{{Team: "legal"}}
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "escalation.tick") || !strings.Contains(err.Error(), `"legal" is not a team`) {
			t.Errorf("config.Validate = %v", err)
		}
		// At start: a quorum larger than the team in the file stops the start.
		cfg = config.Default()
		cfg.Escalation.Ladders[0].Steps[1].Owned = "2"
		if err := e.ladders.Seed(context.Background(), cfg.Escalation.Ladders); err == nil || !strings.Contains(optimum.ErrorMessage(err)+fieldsOf(err), "asks for 2") {
			t.Errorf("seed = %v %s", err, fieldsOf(err))
		}
	})
}

func fieldsOf(err error) string {
	var b strings.Builder
	for _, f := range optimum.ErrorFields(err) {
		b.WriteString(f.Field + ": " + f.Message + "\n")
	}
	return b.String()
}

// Manual escalation: hierarchical with nobody named goes to the managers of whoever owns
// the incident now; functional to a named team; a reason is required.
func TestManualEscalationPagesAtOnceAndIsOnTheTimeline(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		inc := e.declare(p1)
		e.sent()
		ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "usr_carla", Name: "Carla", Role: optimum.RoleResponder})
		if _, err := e.engine.Escalate(ctx, inc.Folio, escalation.Manual{Kind: "hierarchical"}); optimum.ErrorCode(err) != optimum.EINVALID {
			t.Errorf("without a reason: %v", err)
		}
		if _, err := e.engine.Escalate(ctx, inc.ID, escalation.Manual{Kind: "functional", To: "legal", Reason: "x"}); optimum.ErrorCode(err) != optimum.EINVALID {
			t.Errorf("unknown team: %v", err)
		}
		e.expectSent("after refused escalations")
		// Ana (technology lead) owns it; her manager is Dora.
		if _, err := e.incidents.AcknowledgeAsPerson(context.Background(), inc.ID, personID(t, e, "ana@example.com"), "Ana Líder TI", "web"); err != nil {
			t.Fatal(err)
		}
		e.consume()
		paged, err := e.engine.Escalate(ctx, inc.ID, escalation.Manual{Kind: "hierarchical", Reason: "Hace falta autorizar el plan B"})
		if err != nil || len(paged) != 1 || paged[0].Name != "Dora Directora" {
			t.Fatalf("hierarchical = %v, %v", paged, err)
		}
		e.expectSent("Dora at once", "Dora/sms")
		if _, err := e.engine.Escalate(ctx, inc.ID, escalation.Manual{Kind: "functional", To: "continuity", Reason: "Activar el sitio alterno"}); err != nil {
			t.Fatal(err)
		}
		e.expectSent("continuity at once", "Carla/sms")
		ev := e.events(inc.ID, escalation.EventEscalated)
		last := ev[len(ev)-1]
		if last["kind"] != "functional" || last["reason"] != "Activar el sitio alterno" {
			t.Errorf("timeline = %v", last)
		}
	})
}

// At start, the file's ladders replace those it seeded before (one it no longer has is
// removed), while a ladder edited in the app is kept.
func TestSeedKeepsLaddersEditedInTheApp(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		edited := e.cfg.Escalation.Ladders[1]
		edited.Name.ES = "P2 editada en la aplicación"
		if _, err := e.ladders.Save(admin, edited); err != nil {
			t.Fatal(err)
		}
		file := []escalation.Ladder{e.cfg.Escalation.Ladders[0], e.cfg.Escalation.Ladders[1]} // "standard" left the file
		if err := e.ladders.Seed(context.Background(), file); err != nil {
			t.Fatal(err)
		}
		ls, _ := e.ladders.List(context.Background())
		var got []string
		for _, l := range ls {
			got = append(got, l.ID+":"+l.Source+":"+l.Name.ES)
		}
		if want := []string{"p1:config:Crisis P1", "p2:api:P2 editada en la aplicación"}; !slices.Equal(got, want) {
			t.Errorf("ladders = %v, want %v", got, want)
		}
	})
}

// When the incident is owned, the reminders queued for others and not sent yet are
// cancelled too; the audience's first alert still goes out.
func TestOwningCancelsQueuedRemindersButNotTheAudiencesAlert(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		inc := e.declare(p1)
		e.expectSent("at declaration", "Ana/sms", "Bob/sms", "Ed/sms")
		e.at(2 * time.Minute) // reminders queued, not sent yet
		d := p1
		d.Title, d.Teams = "Segundo incidente", []string{"continuity"}
		e.declare(d) // another incident: its alerts are not touched
		if _, err := e.incidents.AcknowledgeAsPerson(context.Background(), inc.ID, personID(t, e, "ed@example.com"), "Ed Ops Lead", "web"); err != nil {
			t.Fatal(err)
		}
		e.consume()
		if v := e.view(inc.ID); v.State != escalation.StateOwned {
			t.Fatalf("state = %s", v.State)
		}
		// Left: the second incident's page of its leads and its audience (Carla).
		e.expectSent("after the lead owned it", "Ana/sms", "Carla/sms", "Ed/sms")
	})
}

// A reminder says it is one, after the drill word of a drill.
func TestRemindersSayTheyAreReminders(t *testing.T) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) {
		e := newEnv(t, open)
		d := p1
		d.Drill = true
		e.declare(d)
		first := e.claimAt(t0)
		for _, m := range first {
			if err := e.db.Deliveries().Sent(context.Background(), m.DeliveryID, m.Attempts, t0); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Set(t0.Add(2 * time.Minute))
		if _, err := e.engine.Tick(context.Background(), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		again := e.claimAt(e.clock.Now())
		if len(first) == 0 || len(again) == 0 {
			t.Fatalf("first %d, reminders %d", len(first), len(again))
		}
		for _, m := range first {
			if strings.Contains(m.Text, "RECORDATORIO") || strings.Contains(m.Text, "REMINDER") {
				t.Errorf("the first alert says reminder: %q", m.Text)
			}
		}
		for _, m := range again {
			if !strings.HasPrefix(m.Text, "SIMULACRO. RECORDATORIO: P") && !strings.HasPrefix(m.Text, "DRILL. REMINDER: P") {
				t.Errorf("reminder = %q", m.Text)
			}
		}
	})
}
