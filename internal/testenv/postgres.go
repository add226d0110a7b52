package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// PrivatePostgres is a PostgreSQL server of the test's own (initdb and pg_ctl in a
// temporary folder, on a free loopback port), which the test may stop and start again:
// the machine's shared PostgreSQL must never be stopped.
type PrivatePostgres struct {
	URL  string // postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
	tb   testing.TB
	bin  string
	dir  string
	port int
	asPG bool // run the tools as the postgres user (initdb refuses root)
}

// StartPrivatePostgres creates and starts a PostgreSQL cluster; it is stopped and deleted
// when the test ends. The test fails if CI is set and initdb is missing, else it is
// skipped. It takes a few seconds (initdb), so use it only where a test must stop the
// server.
func StartPrivatePostgres(tb testing.TB) *PrivatePostgres {
	tb.Helper()
	bin := postgresBin()
	if bin == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("initdb and pg_ctl are not installed and CI is set")
		}
		tb.Skip("initdb and pg_ctl are not installed")
	}
	p := &PrivatePostgres{tb: tb, bin: bin, asPG: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "optimum-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	p.dir = filepath.Join(dir, "data")
	if p.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			tb.Fatalf("running as root, and there is no postgres user to run initdb as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	if out, err := p.tool("initdb", "-D", p.dir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	// Small and fast, loopback only. fsync is off (the machine does not crash in a
	// test), but synchronous_commit stays on: Stop kills the server at once, and with it
	// off a commit already answered could still be in the server's memory and be lost,
	// which a production server (synchronous_commit on) never does.
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nfull_page_writes = off\nmax_connections = 60\nshared_buffers = 16MB\n", p.port, dir)
	f, err := os.OpenFile(filepath.Join(p.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	p.Start()
	tb.Cleanup(func() { p.tool("pg_ctl", "-D", p.dir, "-m", "immediate", "-w", "stop").Run() })
	return p
}

// Start starts the server (again) and waits until it accepts queries.
func (p *PrivatePostgres) Start() {
	p.tb.Helper()
	if out, err := p.tool("pg_ctl", "-D", p.dir, "-l", filepath.Join(filepath.Dir(p.dir), "log"), "-w", "-t", "30", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(p.dir), "log"))
		p.tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	db, err := sql.Open("pgx", p.URL)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for db.PingContext(context.Background()) != nil {
		if time.Now().After(deadline) {
			p.tb.Fatalf("private PostgreSQL on port %d never answered", p.port)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the server at once (pg_ctl -m immediate: connections cut, as in a crash).
func (p *PrivatePostgres) Stop() {
	p.tb.Helper()
	if out, err := p.tool("pg_ctl", "-D", p.dir, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		p.tb.Fatalf("pg_ctl stop: %v\n%s", err, out)
	}
}

// CreateDB creates a database on the server and returns its URL.
func (p *PrivatePostgres) CreateDB(name string) string {
	p.tb.Helper()
	db, err := sql.Open("pgx", p.URL)
	if err != nil {
		p.tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		p.tb.Fatal(err)
	}
	return strings.Replace(p.URL, "/postgres?", "/"+name+"?", 1)
}

func (p *PrivatePostgres) tool(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if p.asPG {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// postgresBin is the folder of initdb and pg_ctl: the newest /usr/lib/postgresql/*/bin
// (Debian's layout), else the folder of initdb on PATH; "" when there is none.
func postgresBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(found, func(i, j int) bool { return pgVersion(found[i]) > pgVersion(found[j]) })
	if len(found) > 0 {
		return filepath.Dir(found[0])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "pg_ctl")); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

func pgVersion(path string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return v
}
