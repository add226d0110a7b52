package drill_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/drill"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var manager = optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_mgr", Name: "Carla Continuidad", Role: optimum.RoleManager})

// clock is a test's time: it only moves when the test says so.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// t0 is a Monday, 16:00 UTC (10:00 in Mexico City).
var t0 = time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)

// node is one process on the shared database: its own services, same clock.
type node struct {
	db        *store.DB
	incidents *incident.Service
	engine    *escalation.Engine
	ladders   *escalation.Ladders
	drills    *drill.Service
	dir       *contacts.Directory
}

type env struct {
	t      *testing.T
	openDB func() *store.DB
	clock  *clock
	cfg    config.Config
	*node
}

// newEnv is a SQLite database in a temporary folder with one node on it.
func newEnv(t *testing.T) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "drill.db")
	return newEnvOn(t, func() *store.DB {
		t.Helper()
		db, err := store.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
}

func newEnvOn(t *testing.T, open func() *store.DB) *env {
	t.Helper()
	e := &env{t: t, openDB: open, clock: &clock{t: t0}, cfg: config.Default()}
	e.node = e.open("node-a")
	return e
}

// eachBackend runs fn on SQLite and on PostgreSQL (a fresh database each).
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.EachShared(t, func(t *testing.T, open func() *store.DB) { fn(t, newEnvOn(t, open)) })
}

// open builds a process on the database.
func (e *env) open(owner string) *node {
	e.t.Helper()
	ctx := context.Background()
	db := e.openDB()
	n := &node{db: db}
	n.dir = contacts.NewDirectory(db.Contacts(), e.clock.Now)
	if err := n.dir.EnsureTeams(ctx, e.cfg.TeamInputs()); err != nil {
		e.t.Fatal(err)
	}
	n.incidents = incident.NewService(db.Incidents(), e.cfg.IncidentPolicy(), n.dir, e.clock.Now)
	n.ladders = escalation.NewLadders(db.Escalation(), e.clock.Now)
	tpl, err := escalation.NewTemplates()
	if err != nil {
		e.t.Fatal(err)
	}
	n.engine = escalation.New(db.Escalation(), tpl, nil, escalation.Options{
		PublicURL: "https://bcp.example.com", Channels: []string{"webpush", "sms", "voice"}, Owner: owner, Now: e.clock.Now,
	})
	loc, _ := time.LoadLocation("America/Mexico_City")
	n.drills = drill.NewService(db.Drills(), n.incidents, n.dir, n.engine, drill.Options{
		Location: loc, Owner: owner, Now: e.clock.Now,
		Ladder: func(ctx context.Context, id string) error { _, err := n.ladders.Get(ctx, id); return err },
	})
	return n
}

// importPeople loads a CSV of people (name,email,phone,language,teams,manager_email).
func (e *env) importPeople(csv string) {
	e.t.Helper()
	rows, err := contacts.ParseCSV(strings.NewReader("name,email,phone,language,teams,manager_email\n" + csv))
	if err != nil {
		e.t.Fatal(err)
	}
	admin := optimum.WithActor(context.Background(), optimum.Actor{ID: "tok_admin", Name: "Admin", Role: optimum.RoleAdmin})
	if _, err := e.dir.Import(admin, rows, nil, nil, false); err != nil {
		e.t.Fatal(err)
	}
}

// people returns the directory's people by email.
func (e *env) people() map[string]contacts.Person {
	e.t.Helper()
	ps, err := e.dir.People(context.Background(), contacts.Filter{})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]contacts.Person{}
	for _, p := range ps {
		out[p.Email] = p
	}
	return out
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

// claim takes the queued deliveries of a channel as the dispatcher would.
func (e *env) claim(channel string) []broadcast.Delivery {
	e.t.Helper()
	ds, err := e.db.Deliveries().Claim(context.Background(), "test", channel, e.clock.Now(), time.Minute, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

func (e *env) savePlan(p drill.Plan) drill.Plan {
	e.t.Helper()
	saved, err := e.drills.SavePlan(manager, p, true)
	if err != nil {
		e.t.Fatalf("save plan: %v %v", err, optimum.ErrorFields(err))
	}
	return saved
}

func (e *env) at(d time.Duration) { e.clock.Set(t0.Add(d)) }

func (e *env) ack(incidentID string, p contacts.Person, channel string) {
	e.t.Helper()
	if _, err := e.incidents.AcknowledgeAsPerson(context.Background(), incidentID, p.ID, p.Name, channel); err != nil {
		e.t.Fatalf("ack by %s: %v", p.Name, err)
	}
}

func email(team string, i int) string { return fmt.Sprintf("%s%03d@example.com", team, i) }

func incidentFilter(drill *bool) incident.Filter { return incident.Filter{Drill: drill} }
