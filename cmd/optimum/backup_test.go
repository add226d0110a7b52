package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// loadLimitsConfig writes a configuration whose declaration limits let a test declare
// 50 times a second (the defaults allow 30 a minute).
func loadLimitsConfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "optimum.yaml")
	body := "limits:\n  declare_per_client: {per_minute: 60000, burst: 10000}\n  declare_per_actor: {per_minute: 60000, burst: 10000}\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCmd runs one command of the program with env and returns its output and error.
func runCmd(env map[string]string, args ...string) (string, error) {
	var out bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, &out, &bytes.Buffer{})
	return out.String(), err
}

// declarer declares incidents about every 20 ms (50 a second) until stopped, and
// remembers when each 201 arrived. It calls no t.Fatal: it runs on its own goroutine.
type declarer struct {
	mu       sync.Mutex
	answered []declared
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

type declared struct {
	id string
	at time.Time
}

func startDeclaring(base, token string) *declarer {
	d := &declarer{stop: make(chan struct{}), done: make(chan struct{})}
	// One declaration every 20 ms, each on its own goroutine (at most 8 in flight), so a
	// slow answer does not lower the rate.
	one := func() {
		body, _ := json.Marshal(map[string]string{"title": "Simulacro de respaldo " + time.Now().Format("150405.000"), "impact": "high", "urgency": "high"})
		req, _ := http.NewRequest("POST", base+"/api/v1/incidents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			d.fail(err.Error())
			return
		}
		var inc struct{ ID string }
		json.NewDecoder(res.Body).Decode(&inc)
		res.Body.Close()
		if res.StatusCode != 201 || inc.ID == "" {
			d.fail(res.Status)
			return
		}
		d.mu.Lock()
		d.answered = append(d.answered, declared{inc.ID, time.Now()})
		d.mu.Unlock()
	}
	go func() {
		defer close(d.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		slots := make(chan struct{}, 8)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-tick.C:
			}
			select {
			case slots <- struct{}{}:
				wg.Go(func() { defer func() { <-slots }(); one() })
			default: // 8 in flight: skip this tick rather than pile up
			}
		}
	}()
	return d
}

func (d *declarer) fail(s string) {
	d.mu.Lock()
	d.failures = append(d.failures, s)
	d.mu.Unlock()
}

func (d *declarer) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.answered)
}

func (d *declarer) halt() ([]declared, []string) {
	close(d.stop)
	<-d.done
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.answered, d.failures
}

// openSQLiteFile opens a SQLite file for reading in the test.
func openSQLiteFile(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func eventIDs(t *testing.T, db *sql.DB, upTo int64) []int64 {
	t.Helper()
	rows, err := db.Query("SELECT id FROM events WHERE id <= $1 ORDER BY id", upTo)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}

// A backup taken while 50 declarations a second are made, restored into an empty
// folder, holds every event committed before the backup began (and every declaration
// answered 201 before then), and the server starts on it.
func TestBackupWhileDeclaringRestoresEverythingCommittedBeforeIt(t *testing.T) {
	const token = "backup-admin-token-0123456789"
	live := t.TempDir()
	env := map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_DATA": live, "OPTIMUM_CONFIG": loadLimitsConfig(t)}
	base, _ := startServer(t, env)

	d := startDeclaring(base, token)
	eventually(t, "30 declarations answered", func() bool { return d.count() >= 30 })
	// What is committed now must be in the backup: the events up to the log's head and
	// the declarations already answered.
	liveDB := openSQLiteFile(t, filepath.Join(live, "optimum.db"))
	var head int64
	if err := liveDB.QueryRow("SELECT max(id) FROM events").Scan(&head); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	before := append([]declared(nil), d.answered...)
	d.mu.Unlock()
	began := time.Now()

	file := filepath.Join(t.TempDir(), "optimum.backup")
	out, err := runCmd(env, "backup", file)
	if err != nil {
		t.Fatalf("backup while declaring: %v", err)
	}
	ended := time.Now()
	eventually(t, "declarations after the backup", func() bool { return d.count() >= len(before)+10 })
	answered, failures := d.halt()
	if len(failures) > 0 {
		t.Errorf("%d declarations failed while the backup ran, e.g. %s", len(failures), failures[0])
	}
	during := 0
	for _, a := range answered {
		if a.at.After(began) && a.at.Before(ended) {
			during++
		}
	}
	rate := float64(len(answered)-1) / answered[len(answered)-1].at.Sub(answered[0].at).Seconds()
	t.Logf("%s(%d declarations answered before the backup, %d while it ran, %d in all, %.0f a second)", out, len(before), during, len(answered), rate)

	restored := filepath.Join(t.TempDir(), "restored") // absent: restore creates it
	renv := map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_DATA": restored, "OPTIMUM_CONFIG": env["OPTIMUM_CONFIG"]}
	if out, err := runCmd(renv, "restore", file); err != nil || !strings.Contains(out, "restored") {
		t.Fatalf("restore = %q, %v", out, err)
	}
	back := openSQLiteFile(t, filepath.Join(restored, "optimum.db"))
	got, want := eventIDs(t, back, head), eventIDs(t, liveDB, head)
	if len(want) == 0 || !equalIDs(got, want) {
		t.Fatalf("restored events up to id %d: %d, want the live database's %d", head, len(got), len(want))
	}
	for _, a := range before {
		var n int
		back.QueryRow("SELECT count(*) FROM events WHERE incident_id = $1 AND type = 'incident.declared'", a.id).Scan(&n)
		if n != 1 {
			t.Errorf("incident %s, answered 201 before the backup, has %d declared events in the restore", a.id, n)
		}
	}
	// The VAPID keys came along: browsers' push subscriptions stay valid.
	k1, _ := os.ReadFile(filepath.Join(live, "vapid.json"))
	k2, err := os.ReadFile(filepath.Join(restored, "vapid.json"))
	if err != nil || len(k1) == 0 || !bytes.Equal(k1, k2) {
		t.Errorf("restored vapid.json differs from the live one (err %v)", err)
	}
	back.Close()

	rbase, _ := startServer(t, renv)
	c := client{t, rbase, token}
	if status, body := c.do("GET", "/api/v1/incidents/"+before[len(before)-1].id, "", ""); status != 200 {
		t.Fatalf("incident on the restored server = %d %s", status, body)
	}
	declare(t, rbase, token, "Primera crisis tras la restauración")
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// listing is the names in a folder ("absent" when it does not exist), to show that a
// refused restore changed nothing.
func listing(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return "absent"
	} else if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Restore refuses, with a clear error and nothing written, a file that is not a backup,
// a live database copied by hand, a backup from a newer schema or format, a damaged
// backup, and a data folder that is not empty. Backup refuses to overwrite a file and,
// on PostgreSQL, points to pg_dump.
func TestBackupAndRestoreRefuseBadInputAndChangeNothing(t *testing.T) {
	live := t.TempDir()
	env := map[string]string{"OPTIMUM_DATA": live, "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}
	if _, err := runCmd(env, "migrate"); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	good := filepath.Join(files, "good.backup")
	if _, err := runCmd(env, "backup", good); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(env, "backup", good); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("backup onto an existing file: %v, want a refusal", err)
	}
	pgEnv := map[string]string{"OPTIMUM_DATA": live, "OPTIMUM_CONFIG": env["OPTIMUM_CONFIG"], "OPTIMUM_DATABASE_URL": "postgres://u@127.0.0.1:1/x"}
	if _, err := runCmd(pgEnv, "backup", filepath.Join(files, "pg.backup")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v, want a pointer to pg_dump", err)
	}

	text := filepath.Join(files, "notes.txt")
	os.WriteFile(text, []byte("esto no es un respaldo\n"), 0o600)
	// A copy of a backup edited as a newer optimum would have written it.
	edited := func(name, stmt string) string {
		p := filepath.Join(files, name)
		data, _ := os.ReadFile(good)
		os.WriteFile(p, data, 0o600)
		db, err := sql.Open("sqlite", "file:"+p)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newer := edited("newer.backup", "INSERT INTO schema_migrations (version, applied_at) VALUES ('0099_from_the_future', 0)")
	format := edited("format.backup", "UPDATE optimum_backup SET value = 'optimum-backup-9' WHERE key = 'format'")
	damaged := filepath.Join(files, "damaged.backup")
	data, _ := os.ReadFile(good)
	os.WriteFile(damaged, data[:len(data)/3], 0o600)
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "keep.txt"), []byte("x"), 0o600)

	for _, tt := range []struct {
		name, file, dir, want string
	}{
		{"a text file", text, "", "not a SQLite database"},
		{"the live database copied by hand", filepath.Join(live, "optimum.db"), "", "without the mark of `optimum backup`"},
		{"a backup from a newer schema", newer, "", "newer schema than this binary knows (migrations 0099_from_the_future)"},
		{"a backup in a newer format", format, "", "does not know"},
		{"a damaged backup", damaged, "", "not an OPTIMUM backup"},
		{"a missing file", filepath.Join(files, "nope.backup"), "", "no such file"},
		{"a folder that is not empty", good, full, "is not empty"},
	} {
		dir := tt.dir
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "data")
		}
		before := listing(t, dir)
		_, err := runCmd(map[string]string{"OPTIMUM_DATA": dir, "OPTIMUM_CONFIG": env["OPTIMUM_CONFIG"]}, "restore", tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "optimum error") {
			t.Errorf("restore %s: %v, want a clear error with %q", tt.name, err, tt.want)
		}
		if after := listing(t, dir); after != before {
			t.Errorf("restore %s changed the data folder: %s, was %s", tt.name, after, before)
		}
	}
	// The refusals left the good backup usable.
	if _, err := runCmd(map[string]string{"OPTIMUM_DATA": filepath.Join(t.TempDir(), "d"), "OPTIMUM_CONFIG": env["OPTIMUM_CONFIG"]}, "restore", good); err != nil {
		t.Errorf("restore of the good backup: %v", err)
	}
}

// pgTool finds a PostgreSQL client program: the newest under /usr/lib/postgresql/*/bin
// (Debian's layout, where the version matches the server's), else on PATH. Missing, the
// test fails under CI and is skipped otherwise.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	sort.Slice(found, func(i, j int) bool { return pgMajor(found[i]) > pgMajor(found[j]) })
	if len(found) > 0 {
		return found[0]
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed and CI is set", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

func pgMajor(path string) int {
	var n int
	for _, c := range filepath.Base(filepath.Dir(filepath.Dir(path))) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// The PostgreSQL backup of docs/operations.md: pg_dump of a serving node's database,
// pg_restore into a fresh database, and a node starts on it with everything there.
func TestPostgresDumpRestoresIntoAFreshDatabaseAndANodeStartsOnIt(t *testing.T) {
	dump, restore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	const token = "pgdump-admin-token-0123456789"
	src := storetest.PostgresURL(t)
	base, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_DATABASE_URL": src})
	var ids []string
	for _, title := range []string{"Caída del enlace principal", "Fuga de agua en el piso 3", "Corte de energía"} {
		ids = append(ids, declare(t, base, token, title))
	}
	if status, body := (client{t, base, token}).do("POST", "/api/v1/incidents/"+ids[0]+"/ack", "", ""); status != 200 {
		t.Fatalf("ack = %d %s", status, body)
	}

	file := filepath.Join(t.TempDir(), "optimum.dump")
	// The commands as docs/operations.md gives them (while the node serves).
	if out, err := exec.Command(dump, "--format=custom", "--file="+file, src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	dst := storetest.PostgresURL(t)
	if out, err := exec.Command(restore, "--no-owner", "--exit-on-error", "--dbname="+dst, file).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	// The node kept writing after the dump (delivery progress): the dump holds the log
	// up to some id, every event up to it, and the three declarations.
	open := func(u string) *sql.DB {
		db, err := sql.Open("pgx", u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	srcDB, dstDB := open(src), open(dst)
	var head int64
	if err := dstDB.QueryRow("SELECT COALESCE(max(id), 0) FROM events").Scan(&head); err != nil {
		t.Fatal(err)
	}
	if got, want := eventIDs(t, dstDB, head), eventIDs(t, srcDB, head); len(want) == 0 || !equalIDs(got, want) {
		t.Fatalf("restored events up to id %d: %d, want %d", head, len(got), len(want))
	}
	for _, id := range ids {
		var n int
		dstDB.QueryRow("SELECT count(*) FROM events WHERE incident_id = $1 AND type = 'incident.declared'", id).Scan(&n)
		if n != 1 {
			t.Errorf("incident %s has %d declared events in the restored database", id, n)
		}
	}
	dstDB.Close()
	rbase, _ := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_DATABASE_URL": dst})
	c := client{t, rbase, token}
	status, body := c.do("GET", "/api/v1/incidents/"+ids[0], "", "")
	if status != 200 || !bytes.Contains(body, []byte(`"status":"acknowledged"`)) {
		t.Fatalf("acknowledged incident on the restored node = %d %s", status, body)
	}
	declare(t, rbase, token, "Primera crisis tras la restauración")
}
