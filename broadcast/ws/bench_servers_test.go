package ws_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
)

// The two sides of BenchmarkFanout.

// listen serves h on a fresh loopback port.
func listen(b *testing.B, h http.Handler) (url string, stop func()) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/api/v1/stream", func() { srv.Close() }
}

var benchActor = optimum.Actor{ID: "tok_bench", Name: "Benchmark", Role: optimum.RoleResponder}

// startHub runs the real hub on a real SQLite store; events are declared through the
// incident service, as the API does.
func startHub(b *testing.B) fanoutServer {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "optimum.db"))
	if err != nil {
		b.Fatal(err)
	}
	bus := broadcast.NewLocalBus()
	var notifiedAt int64 // written by the notifier, read after Declare returns
	db.SetNotifier(func(id int64) {
		notifiedAt = time.Now().UnixNano()
		_ = bus.Publish(context.Background(), id)
	})
	svc := incident.NewService(db.Incidents(), benchPolicy(), nil, nil)
	hub := ws.New(db, bus, ws.Options{})
	done := make(chan error, 1)
	go func() { done <- hub.Run(ctx) }()
	url, stopHTTP := listen(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := hub.Serve(w, r, benchActor, 0, false); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	asActor := optimum.WithActor(ctx, benchActor)
	return fanoutServer{
		url: url,
		e2e: true,
		publish: func(_ context.Context, marker string) (int64, int64, error) {
			start := time.Now().UnixNano()
			_, _, err := svc.Declare(asActor, benchDeclaration(marker), "")
			return notifiedAt, start, err
		},
		stop: func() {
			stopHTTP()
			cancel()
			if err := <-done; err != nil {
				b.Error(err)
			}
			db.Close()
		},
	}
}

func benchDeclaration(title string) incident.Declaration {
	return incident.Declaration{
		Title:       title,
		Description: "UPS on battery in the main data centre; the generator did not start.",
		Services:    []string{"erp", "email"},
		Causes:      []string{"power"},
		Impact:      incident.High,
		Urgency:     incident.High,
		Location:    "CDMX-1",
	}
}

func benchPolicy() incident.Policy {
	cfg := config.Default()
	p := incident.Policy{Matrix: map[incident.Level]map[incident.Level]incident.Priority{}, Ack: map[incident.Priority]time.Duration{}, Resolve: map[incident.Priority]time.Duration{}, Teams: cfg.TeamIDs(), DefaultTeams: cfg.Incident.DefaultTeams, Location: cfg.Location()}
	for i, row := range cfg.Incident.Matrix {
		p.Matrix[incident.Level(i)] = map[incident.Level]incident.Priority{}
		for u, pr := range row {
			p.Matrix[incident.Level(i)][incident.Level(u)] = incident.Priority(pr)
		}
	}
	for pr, s := range cfg.Incident.SLA {
		p.Ack[incident.Priority(pr)], p.Resolve[incident.Priority(pr)] = time.Duration(s.Acknowledge), time.Duration(s.Resolve)
	}
	return p
}

// startBare runs the reference, the bare loop. It sends template, the frame the hub sent,
// with each event's title in place of the hub's, so both sides send the same bytes; with
// no template (hub filtered out), it encodes a similar event itself.
func startBare(b *testing.B, template string) fanoutServer {
	b.Helper()
	s := &bareServer{}
	url, stopHTTP := listen(b, s)
	_, useTemplate := withTitle(template, "")
	var id int64
	return fanoutServer{
		url: url,
		publish: func(_ context.Context, marker string) (int64, int64, error) {
			start := time.Now()
			var data []byte
			if useTemplate {
				frame, _ := withTitle(template, marker)
				data = []byte(frame)
			} else {
				id++
				data = syntheticEvent(id, marker, start)
			}
			return start.UnixNano(), start.UnixNano(), s.broadcast(data)
		},
		stop: func() { stopHTTP(); s.close() },
	}
}

// syntheticEvent is an incident.declared event like the hub's.
func syntheticEvent(id int64, title string, at time.Time) []byte {
	d := benchDeclaration(title)
	inc, _ := json.Marshal(incident.Incident{
		ID: "inc_" + rand.Text(), Folio: incident.Folio(at.Year(), int(id)), Title: d.Title,
		Description: d.Description, Services: d.Services, Causes: d.Causes, Impact: d.Impact,
		Urgency: d.Urgency, Priority: "P2", Status: incident.StatusDeclared, Location: d.Location,
		Reporter: incident.Person{ID: benchActor.ID, Name: benchActor.Name},
		Teams:    config.Default().Incident.DefaultTeams, Assigned: []incident.Person{},
		CreatedAt: at.UTC(), UpdatedAt: at.UTC(),
	})
	data, _ := json.Marshal(optimum.Event{ID: id, Type: incident.EventDeclared, At: at.UTC(), Actor: &benchActor, Incident: inc})
	return data
}
