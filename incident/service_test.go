package incident_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var (
	alice = optimum.Actor{ID: "tok_alice", Name: "Alice", Role: optimum.RoleResponder}
	bob   = optimum.Actor{ID: "tok_bob", Name: "Bob", Role: optimum.RoleResponder}
)

type fixture struct {
	db       *store.DB
	svc      *incident.Service
	mu       sync.Mutex
	notified []int64
}

func newFixture(t testing.TB, now func() time.Time) *fixture {
	t.Helper()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	f := &fixture{db: db}
	db.SetNotifier(func(id int64) {
		f.mu.Lock()
		f.notified = append(f.notified, id)
		f.mu.Unlock()
	})
	f.svc = incident.NewService(db.Incidents(), config.Default().IncidentPolicy(), nil, now)
	return f
}

func as(a optimum.Actor) context.Context { return optimum.WithActor(context.Background(), a) }

func power() incident.Declaration {
	return incident.Declaration{Title: "Corte de energía en el CPD principal", Description: "UPS en batería", Services: []string{"erp"}, Causes: []string{"energía"}, Impact: incident.Critical, Urgency: incident.High, Location: "CDMX-1"}
}

func (f *fixture) events(t testing.TB) []optimum.Event {
	t.Helper()
	ev, err := f.db.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDeclareRegistersAndLogsTheIncident(t *testing.T) {
	storetest.Each(t, testDeclareRegistersAndLogsTheIncident)
}

func testDeclareRegistersAndLogsTheIncident(t *testing.T) {
	now := time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)
	f := newFixture(t, func() time.Time { return now })
	inc, created, err := f.svc.Declare(as(alice), power(), "")
	if err != nil || !created {
		t.Fatalf("Declare = %v, %v", created, err)
	}
	if inc.Folio != "BCP-2026-000001" || inc.Priority != "P1" || inc.Status != incident.StatusDeclared {
		t.Errorf("got folio %s priority %s status %s", inc.Folio, inc.Priority, inc.Status)
	}
	if !inc.SLA.AckBy.Equal(now.Add(5*time.Minute)) || !inc.SLA.ResolveBy.Equal(now.Add(4*time.Hour)) {
		t.Errorf("sla = %+v", inc.SLA)
	}
	if len(inc.Teams) != 4 || inc.Reporter.ID != alice.ID {
		t.Errorf("teams %v reporter %+v: want the default audience and Alice", inc.Teams, inc.Reporter)
	}
	ev := f.events(t)
	if len(ev) != 1 || ev[0].Type != incident.EventDeclared || ev[0].IncidentID != inc.ID || ev[0].Actor.ID != alice.ID {
		t.Fatalf("events = %+v", ev)
	}
	if len(f.notified) != 1 || f.notified[0] != ev[0].ID {
		t.Errorf("notified %v, want [%d]", f.notified, ev[0].ID)
	}
	got, err := f.svc.Get(context.Background(), "bcp-2026-000001")
	if err != nil || got.ID != inc.ID {
		t.Errorf("Get by folio (any case) = %v, %v", got.ID, err)
	}
}

func TestInvalidDeclarationStoresAndLogsNothing(t *testing.T) {
	storetest.Each(t, testInvalidDeclarationStoresAndLogsNothing)
}

func testInvalidDeclarationStoresAndLogsNothing(t *testing.T) {
	f := newFixture(t, nil)
	d := power()
	d.Impact = "apocalyptic"
	if _, _, err := f.svc.Declare(as(alice), d, "k1"); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Fatalf("err = %v, want invalid", err)
	}
	if ev := f.events(t); len(ev) != 0 {
		t.Errorf("events = %d, want 0", len(ev))
	}
	list, _ := f.svc.List(context.Background(), incident.Filter{})
	if len(list) != 0 || len(f.notified) != 0 {
		t.Errorf("stored %d incidents, notified %v", len(list), f.notified)
	}
}

func TestDeclareWithoutActorIsUnauthorized(t *testing.T) {
	storetest.Each(t, testDeclareWithoutActorIsUnauthorized)
}

func testDeclareWithoutActorIsUnauthorized(t *testing.T) {
	f := newFixture(t, nil)
	if _, _, err := f.svc.Declare(context.Background(), power(), ""); optimum.ErrorCode(err) != optimum.EUNAUTHORIZED {
		t.Fatalf("err = %v", err)
	}
}

// Folios are unique and without gaps, also when many people declare at once.
func TestConcurrentDeclaresGetGaplessFolios(t *testing.T) {
	storetest.Each(t, testConcurrentDeclaresGetGaplessFolios)
}

func testConcurrentDeclaresGetGaplessFolios(t *testing.T) {
	f := newFixture(t, nil)
	const n = 40
	folios := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			d := power()
			d.Title = fmt.Sprintf("incident %d", i)
			inc, _, err := f.svc.Declare(as(alice), d, "")
			if err != nil {
				errs <- err
				return
			}
			folios[i] = inc.Folio
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Strings(folios)
	year := time.Now().In(config.Default().Location()).Year()
	for i, got := range folios {
		if want := incident.Folio(year, i+1); got != want {
			t.Fatalf("folio[%d] = %s, want %s (all: %v)", i, got, want, folios)
		}
	}
}

// A declaration whose transaction fails gives its folio number back.
func TestRolledBackDeclarationLeavesNoGap(t *testing.T) {
	storetest.Each(t, testRolledBackDeclarationLeavesNoGap)
}

func testRolledBackDeclarationLeavesNoGap(t *testing.T) {
	f := newFixture(t, nil)
	boom := errors.New("boom")
	err := f.db.Incidents().Tx(context.Background(), func(tx incident.Tx) error {
		if _, err := tx.NextFolio(context.Background(), 2026); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	var n int
	f.db.Incidents().Tx(context.Background(), func(tx incident.Tx) error {
		n, err = tx.NextFolio(context.Background(), 2026)
		return err
	})
	if n != 1 {
		t.Errorf("next folio after rollback = %d, want 1", n)
	}
}

func TestIdempotencyKey(t *testing.T) { storetest.Each(t, testIdempotencyKey) }

func testIdempotencyKey(t *testing.T) {
	f := newFixture(t, nil)
	first, created, err := f.svc.Declare(as(alice), power(), "key-1")
	if err != nil || !created {
		t.Fatal(created, err)
	}
	again, created, err := f.svc.Declare(as(alice), power(), "key-1")
	if err != nil || created || again.ID != first.ID {
		t.Errorf("retry: created=%v id=%s err=%v; want the first incident %s", created, again.ID, err, first.ID)
	}
	other := power()
	other.Title = "Otra cosa"
	if _, _, err := f.svc.Declare(as(alice), other, "key-1"); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("same key, other body: err = %v, want conflict", err)
	}
	if _, created, err := f.svc.Declare(as(bob), power(), "key-1"); err != nil || !created {
		t.Errorf("another caller's key is separate: created=%v err=%v", created, err)
	}
	if got := len(f.events(t)); got != 2 {
		t.Errorf("events = %d, want 2", got)
	}
}

// Keys are kept for the retention period, then forgotten.
func TestIdempotencyKeyExpires(t *testing.T) { storetest.Each(t, testIdempotencyKeyExpires) }

func testIdempotencyKeyExpires(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, func() time.Time { return now })
	first, _, _ := f.svc.Declare(as(alice), power(), "key-1")
	now = now.Add(24 * time.Hour)
	if again, created, _ := f.svc.Declare(as(alice), power(), "key-1"); created || again.ID != first.ID {
		t.Errorf("after 24 h the key must still be remembered")
	}
	now = now.Add(incident.IdempotencyRetention)
	if _, created, _ := f.svc.Declare(as(alice), power(), "key-1"); !created {
		t.Errorf("after the retention the key is forgotten and a new incident is declared")
	}
}

func TestAcknowledgeIsIdempotentPerPerson(t *testing.T) {
	storetest.Each(t, testAcknowledgeIsIdempotentPerPerson)
}

func testAcknowledgeIsIdempotentPerPerson(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f := newFixture(t, func() time.Time { now = now.Add(time.Second); return now })
	inc, _, _ := f.svc.Declare(as(alice), power(), "")
	got, err := f.svc.Acknowledge(as(bob), inc.Folio, "web")
	if err != nil || got.Status != incident.StatusAcknowledged || got.AcknowledgedAt == nil {
		t.Fatalf("ack: %+v %v", got, err)
	}
	first := *got.AcknowledgedAt
	if _, err := f.svc.Acknowledge(as(bob), inc.ID, "web"); err != nil {
		t.Fatal(err)
	}
	got, _ = f.svc.Acknowledge(as(alice), inc.ID, "web")
	if got.AckCount != 2 {
		t.Errorf("ack_count = %d, want 2", got.AckCount)
	}
	if !got.AcknowledgedAt.Equal(first) {
		t.Errorf("first acknowledgement time changed")
	}
	ev := f.events(t)
	if len(ev) != 3 || ev[1].Type != incident.EventAcknowledged || ev[2].Type != incident.EventAcknowledged {
		t.Errorf("want declared + 2 acknowledged events (Bob once, Alice once), got %d", len(ev))
	}
	rec, _ := f.svc.Recipients(context.Background(), inc.ID)
	if len(rec) != 2 || rec[0].Name != "Bob" || rec[0].AcknowledgedAt == nil {
		t.Errorf("recipients = %+v", rec)
	}
	if _, err := f.svc.Acknowledge(as(bob), "BCP-1999-000001", "web"); optimum.ErrorCode(err) != optimum.ENOTFOUND {
		t.Errorf("unknown incident: %v", err)
	}
}

func TestListFilters(t *testing.T) { storetest.Each(t, testListFilters) }

func testListFilters(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	f := newFixture(t, func() time.Time { now = now.Add(time.Minute); return now })
	mk := func(title string, impact incident.Level, drill bool) incident.Incident {
		d := power()
		d.Title, d.Impact, d.Urgency, d.Drill = title, impact, incident.Low, drill
		inc, _, err := f.svc.Declare(as(alice), d, "")
		if err != nil {
			t.Fatal(err)
		}
		return inc
	}
	a := mk("Inundación en almacén", incident.Critical, false) // P3
	b := mk("Ransomware en ERP", incident.High, false)         // P4
	c := mk("Simulacro de sismo", incident.Low, true)          // P5
	f.svc.Acknowledge(as(bob), b.ID, "web")
	ids := func(list []incident.Incident) string {
		s := ""
		for _, i := range list {
			s += i.Title[:4] + ";"
		}
		return s
	}
	yes, no := true, false
	for _, tt := range []struct {
		name string
		f    incident.Filter
		want string
	}{
		{"all newest first", incident.Filter{}, "Simu;Rans;Inun;"},
		{"status", incident.Filter{Status: []incident.Status{incident.StatusAcknowledged}}, "Rans;"},
		{"priority", incident.Filter{Priority: []incident.Priority{"P3", "P5"}}, "Simu;Inun;"},
		{"drills only", incident.Filter{Drill: &yes}, "Simu;"},
		{"real only", incident.Filter{Drill: &no}, "Rans;Inun;"},
		{"text", incident.Filter{Text: "ERP ransom"}, "Rans;"},
		{"text with LIKE wildcards is literal", incident.Filter{Text: "%"}, ""},
		{"time range", incident.Filter{From: a.CreatedAt.Add(time.Second), To: c.CreatedAt}, "Rans;"},
		{"paging", incident.Filter{Before: c.ID, Limit: 1}, "Rans;"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			list, err := f.svc.List(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(list); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := f.svc.List(context.Background(), incident.Filter{From: c.CreatedAt, To: a.CreatedAt}); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("reversed range: %v", err)
	}
}
