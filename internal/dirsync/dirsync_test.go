package dirsync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/dirsync"
	"github.com/optimum-bcp/optimum/internal/netguard"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

const header = "name,email,phone,language,teams,manager_email\n"

// row is one person of the HR export; n numbers them 1…10.
func row(n int, phone string) string {
	return fmt.Sprintf("Persona %d,p%d@example.com,%s,es,operations,\n", n, n, phone)
}

func rows(from, to int) string {
	var b strings.Builder
	b.WriteString(header)
	for n := from; n <= to; n++ {
		b.WriteString(row(n, ""))
	}
	return b.String()
}

// hr is the HR system's HTTPS endpoint serving the export, on loopback with a test CA.
type hr struct {
	mu     sync.Mutex
	csv    string
	status int
	auth   string // the Authorization header it requires, when set
	srv    *httptest.Server
}

func newHR(t *testing.T) *hr {
	h := &hr{status: 200, auth: "Bearer hr-export-secret"}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.auth != "" && r.Header.Get("Authorization") != h.auth {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.WriteHeader(h.status)
		fmt.Fprint(w, h.csv)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hr) serve(csv string, status int) {
	h.mu.Lock()
	h.csv, h.status = csv, status
	h.mu.Unlock()
}

// client is the outbound guard's client, allowing loopback and trusting the test CA.
func (h *hr) client(allow bool) *http.Client {
	p := netguard.Policy{}
	if allow {
		p.Allow = netguard.Loopback
	}
	tr := p.Transport()
	tr.TLSClientConfig = h.srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	return &http.Client{Transport: p.RoundTripper(tr), Timeout: 10 * time.Second}
}

type alert struct{ title, detail, key string }

type fixture struct {
	mu     sync.Mutex
	dir    *contacts.Directory
	db     *store.DB
	hr     *hr
	alerts []alert
	syncer *dirsync.Syncer
}

func newFixture(t *testing.T, maxPercent float64, allowLoopback bool) *fixture {
	f := &fixture{db: storetest.Open(t), hr: newHR(t)}
	f.dir = contacts.NewDirectory(f.db.Contacts(), nil)
	if err := f.dir.EnsureTeams(context.Background(), []contacts.TeamInput{{ID: "operations", NameES: "Operaciones", NameEN: "Operations"}}); err != nil {
		t.Fatal(err)
	}
	rs, err := contacts.ParseCSV(strings.NewReader(rows(1, 10)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.dir.Import(context.Background(), rs, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	f.syncer = f.node("node-a", maxPercent, allowLoopback)
	return f
}

// node is one server's syncer over the fixture's database.
func (f *fixture) node(name string, maxPercent float64, allowLoopback bool) *dirsync.Syncer {
	return dirsync.New(f.dir, dirsync.Options{URL: f.hr.srv.URL + "/export.csv", MaxPercent: maxPercent, Client: f.hr.client(allowLoopback),
		Authorization: "Bearer hr-export-secret",
		Store:         f.db.DirectorySyncs(), Owner: name,
		Alert: func(_ context.Context, title, detail, key string) {
			f.mu.Lock()
			f.alerts = append(f.alerts, alert{title, detail, key})
			f.mu.Unlock()
		}})
}

// active lists who is active, by email, as the directory has it.
func (f *fixture) active(t *testing.T) map[string]bool {
	t.Helper()
	snap, err := f.dir.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, p := range snap.People {
		out[p.Email] = p.Active
	}
	return out
}

func (f *fixture) state(t *testing.T) string {
	t.Helper()
	snap, err := f.dir.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(snap)
	head, _ := f.db.LastEventID(context.Background())
	return fmt.Sprintf("%d %s", head, b)
}

func (f *fixture) eventTypes(t *testing.T) []string {
	t.Helper()
	evs, err := f.db.EventsAfter(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}

func TestReplaceSync(t *testing.T) { storetest.Each(t, testReplaceSync) }

func testReplaceSync(t *testing.T) {
	f := newFixture(t, 10, true)
	ctx := context.Background()
	// p10 left, p11 joined, p1 has a phone now: 1 of 10 deactivated is 10 %, allowed.
	csv := header + row(1, "+525512345678") + rows(2, 9)[len(header):] + row(11, "")
	f.hr.serve(csv, 200)

	before := f.state(t)
	dry := f.syncer.Run(ctx, true)
	if dry.Status != dirsync.StatusOK || dry.Report == nil || dry.Report.Deactivated != 1 || dry.Report.Created != 1 || dry.Report.Updated != 1 || !dry.Report.DryRun {
		t.Fatalf("dry run: %+v %+v", dry, dry.Report)
	}
	if f.state(t) != before {
		t.Fatal("a dry run changed the directory")
	}

	res := f.syncer.Run(ctx, false)
	if res.Status != dirsync.StatusOK || res.Report.Deactivated != 1 || res.Report.Created != 1 || res.Report.Updated != 1 {
		t.Fatalf("sync: %+v %+v", res, res.Report)
	}
	want := map[string]bool{}
	for n := 1; n <= 9; n++ {
		want[fmt.Sprintf("p%d@example.com", n)] = true
	}
	want["p10@example.com"], want["p11@example.com"] = false, true // kept, inactive: never deleted
	if got := f.active(t); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("active after sync:\n got %v\nwant %v", got, want)
	}
	if types := f.eventTypes(t); !contains(types, "directory.imported") || !contains(types, "directory.people_deactivated") {
		t.Errorf("events: %v", types)
	}
	if len(f.alerts) != 0 || f.syncer.Concerns(ctx) != nil {
		t.Errorf("a good sync alerted: %v %v", f.alerts, f.syncer.Concerns(ctx))
	}
	// The same file again changes nothing.
	before = f.state(t)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK || f.state(t) != before {
		t.Errorf("second sync: %+v", res)
	}
	// p9 has a phone; then p9 leaves and p12 joins with it: the number is free once p9
	// is inactive, in the same sync.
	f.hr.serve(header+row(1, "+525512345678")+rows(2, 8)[len(header):]+row(9, "+525587654321")+row(11, ""), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK {
		t.Fatalf("p9's phone: %+v", res)
	}
	f.hr.serve(header+row(1, "+525512345678")+rows(2, 8)[len(header):]+row(11, "")+row(12, "+525587654321"), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK || f.active(t)["p9@example.com"] || !f.active(t)["p12@example.com"] {
		t.Fatalf("p12 taking p9's phone: %+v", res)
	}
	// p10 back in the file: reactivated.
	f.hr.serve(csv+row(10, ""), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK || !f.active(t)["p10@example.com"] {
		t.Errorf("p10 not reactivated: %+v", res)
	}
}

// A file that would deactivate half the company is refused: nothing changes, the
// refusal is in the log, /readyz's concern says so, and the admins are alerted.
func TestSyncRefusedAboveThreshold(t *testing.T) { storetest.Each(t, testSyncRefusedAboveThreshold) }

func testSyncRefusedAboveThreshold(t *testing.T) {
	f := newFixture(t, 10, true)
	ctx := context.Background()
	f.hr.serve(rows(1, 5), 200) // 5 of 10 would go: 50 %
	before := f.state(t)
	res := f.syncer.Run(ctx, false)
	if res.Status != dirsync.StatusRefused || !strings.Contains(res.Detail, "5 of 10") {
		t.Fatalf("result: %+v", res)
	}
	after := f.state(t)
	if after[strings.Index(after, " "):] != before[strings.Index(before, " "):] {
		t.Error("a refused sync changed the directory")
	}
	types := f.eventTypes(t)
	if types[len(types)-1] != "directory.sync_refused" {
		t.Errorf("last event %v, want directory.sync_refused", types[len(types)-1])
	}
	if len(f.alerts) != 1 || !strings.Contains(f.alerts[0].detail, "5 de 10") || !strings.HasPrefix(f.alerts[0].key, "directory-sync-refused:") {
		t.Fatalf("alerts: %+v", f.alerts)
	}
	if c := f.syncer.Concerns(ctx); len(c) != 1 || !strings.Contains(c[0], "refused") {
		t.Errorf("concerns: %v", c)
	}
	// The same file again alerts with the same key (the page is declared once).
	f.syncer.Run(ctx, false)
	if len(f.alerts) != 2 || f.alerts[1].key != f.alerts[0].key {
		t.Errorf("second refusal: %+v", f.alerts)
	}
	// Exactly the threshold is allowed: 1 of 10.
	f.hr.serve(rows(1, 9), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK || f.syncer.Concerns(ctx) != nil {
		t.Errorf("10 %%: %+v", res)
	}
}

func TestSyncFailures(t *testing.T) { storetest.Each(t, testSyncFailures) }

func testSyncFailures(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		csv      string
		status   int
		loopback bool
		detail   string
	}{
		{"server error", rows(1, 10), 500, true, "500"},
		{"not a directory CSV", "nombre,correo\nAna,ana@example.com\n", 200, true, "not a directory CSV"},
		{"a bad row", rows(1, 10) + "Sin Correo,,,es,,\n", 200, true, "line 12"},
		{"address the guard refuses", rows(1, 10), 200, false, "refused"},
		{"wrong credentials", rows(1, 10), 0, true, "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 10, tc.loopback)
			f.hr.serve(tc.csv, tc.status)
			if tc.status == 0 {
				f.hr.serve(tc.csv, 200)
				f.hr.mu.Lock()
				f.hr.auth = "Bearer another-secret"
				f.hr.mu.Unlock()
			}
			before := f.state(t)
			res := f.syncer.Run(ctx, false)
			if res.Status != dirsync.StatusFailed || !strings.Contains(res.Detail, tc.detail) {
				t.Errorf("result %+v, want failed with %q", res, tc.detail)
			}
			if f.state(t) != before {
				t.Error("a failed sync changed the directory")
			}
			if len(f.alerts) != 1 || !strings.HasPrefix(f.alerts[0].key, "directory-sync-failed:") {
				t.Errorf("alerts: %+v", f.alerts)
			}
		})
	}
}

// Two nodes on one database: each scheduled sync runs once, and both show it.
func TestSyncRunsOncePerSlot(t *testing.T) { storetest.Each(t, testSyncRunsOncePerSlot) }

func testSyncRunsOncePerSlot(t *testing.T) {
	f := newFixture(t, 10, true)
	ctx := context.Background()
	b := f.node("node-b", 10, true)
	f.hr.serve(rows(1, 5), 200) // refused: one alert per run
	slot := time.Date(2026, 12, 7, 2, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	wg.Go(func() { f.syncer.Tick(ctx, slot) })
	wg.Go(func() { b.Tick(ctx, slot) })
	wg.Wait()
	if len(f.alerts) != 1 {
		t.Errorf("%d alerts for one slot on two nodes, want 1", len(f.alerts))
	}
	for _, n := range []*dirsync.Syncer{f.syncer, b} {
		last, err := n.Last(ctx)
		if err != nil || last == nil || last.Status != dirsync.StatusRefused {
			t.Errorf("last: %+v %v", last, err)
		}
		if c := n.Concerns(ctx); len(c) != 1 {
			t.Errorf("concerns: %v", c)
		}
	}
	// The next slot runs again; a good file clears the concern on both nodes.
	f.hr.serve(rows(1, 10), 200)
	b.Tick(ctx, slot.Add(24*time.Hour))
	for _, n := range []*dirsync.Syncer{f.syncer, b} {
		if last, _ := n.Last(ctx); last == nil || last.Status != dirsync.StatusOK || last.Report == nil || last.Report.Unchanged != 10 {
			t.Errorf("last after a good sync: %+v", last)
		}
		if c := n.Concerns(ctx); c != nil {
			t.Errorf("concerns after a good sync: %v", c)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The HR export may carry a sites column (";" between sites, by id or name, the primary
// first; an empty cell clears them), as the CSV import does: the sync sets each listed
// person's sites, and a site the directory does not have fails the whole sync, with
// nothing changed.
func TestReplaceSyncCarriesSites(t *testing.T) { storetest.Each(t, testReplaceSyncCarriesSites) }

func testReplaceSyncCarriesSites(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10, true)
	for _, st := range []contacts.SiteInput{
		{ID: "torre-norte", Name: "Torre Norte", City: "CDMX", TimeZone: "America/Mexico_City"},
		{ID: "madrid", Name: "Oficina Madrid", City: "Madrid", TimeZone: "Europe/Madrid"},
	} {
		if _, err := f.dir.SaveSite(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	const withSites = "name,email,phone,language,teams,manager_email,sites\n"
	file := func(p1, p2 string) string {
		var b strings.Builder
		b.WriteString(withSites)
		for n := 1; n <= 10; n++ {
			sites := ""
			switch n {
			case 1:
				sites = p1
			case 2:
				sites = p2
			}
			fmt.Fprintf(&b, "Persona %d,p%d@example.com,,es,operations,,%s\n", n, n, sites)
		}
		return b.String()
	}
	sitesOf := func(email string) []string {
		t.Helper()
		p, err := f.dir.Person(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return p.Sites
	}
	f.hr.serve(file("Oficina Madrid;torre-norte", "Torre Norte"), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK {
		t.Fatalf("sync: %+v", res)
	}
	if got := sitesOf("p1@example.com"); fmt.Sprint(got) != "[madrid torre-norte]" {
		t.Errorf("p1's sites: %v, want [madrid torre-norte] (Madrid primary)", got)
	}
	if got := sitesOf("p2@example.com"); fmt.Sprint(got) != "[torre-norte]" {
		t.Errorf("p2's sites: %v", got)
	}

	// A site nobody defined: the file has an error, the sync changes nothing.
	f.hr.serve(file("Atlantis", ""), 200)
	before := f.state(t)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusFailed || !strings.Contains(res.Detail, "Atlantis") {
		t.Errorf("a sync naming an unknown site: %+v", res)
	}
	if f.state(t) != before {
		t.Error("a sync naming an unknown site changed the directory")
	}

	// An empty cell clears the sites.
	f.hr.serve(file("madrid", ""), 200)
	if res := f.syncer.Run(ctx, false); res.Status != dirsync.StatusOK {
		t.Fatalf("sync: %+v", res)
	}
	if got := sitesOf("p2@example.com"); len(got) != 0 {
		t.Errorf("p2's sites after an empty cell: %v", got)
	}
}
