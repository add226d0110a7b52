package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A wrong or unreachable PostgreSQL fails start-up with one line naming the server.
func TestStartFailsClearlyOnABadDatabaseURL(t *testing.T) {
	cases := map[string]struct{ url, want string }{
		"nobody listens": {"postgres://postgres@127.0.0.1:1/optimum?sslmode=disable",
			"database: cannot connect to PostgreSQL at 127.0.0.1:1/optimum: connection refused"},
		"no such database": {"postgres://postgres@127.0.0.1:5432/optimum_no_such_db_xyz?sslmode=disable",
			`database: cannot connect to PostgreSQL at 127.0.0.1:5432/optimum_no_such_db_xyz: database "optimum_no_such_db_xyz" does not exist`},
		"not a URL": {"postgres://user:%zz@host/db",
			"database: the PostgreSQL URL is not valid"},
	}
	storetest.PostgresURL(t) // the machine's server must be there for the second case
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_DATA": t.TempDir(), "OPTIMUM_DATABASE_URL": c.url}
			var out bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, &out, &out)
			if err == nil {
				t.Fatal("run started on a bad database URL")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "%zz") {
				t.Errorf("error = %q, want one line starting %q", msg, c.want)
			}
		})
	}
}

// When the database goes away at run time the node says so (/readyz 503, requests get a
// 503 problem) and, once it is back, works again without a restart. The database is made
// unreachable by refusing connections to it and ending its sessions: the machine's
// PostgreSQL, shared with others, keeps running.
func TestLosingPostgreSQLDegradesAndRecovers(t *testing.T) {
	u := storetest.PostgresURL(t)
	parsed, _ := url.Parse(u)
	name := strings.TrimPrefix(parsed.Path, "/")
	admin, err := sql.Open("pgx", storetest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	allow := func(yes bool) {
		t.Helper()
		stmt := "ALTER DATABASE " + name + " ALLOW_CONNECTIONS true"
		if !yes {
			stmt = "ALTER DATABASE " + name + " ALLOW_CONNECTIONS false"
		}
		if _, err := admin.Exec(stmt); err != nil {
			t.Fatal(err)
		}
		if !yes {
			if _, err := admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { admin.Exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true") })

	const token = "pg-admin-token-0123456789"
	base, logs := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_DATABASE_URL": u})
	api := client{t, base, token}
	if want := "database=postgres://" + parsed.Host + "/" + name; !strings.Contains(logs.String(), want) {
		t.Errorf("the start-up line does not say %q:\n%s", want, logs)
	}
	ready := func() int {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	declare := `{"title":"Incendio en el almacén","impact":"high","urgency":"high","location":"Madrid"}`
	if status := ready(); status != 200 {
		t.Fatalf("readyz = %d before the outage", status)
	}
	before := `{"title":"Inundación en el sótano","impact":"high","urgency":"high","location":"CDMX"}`
	if status, body := api.do("POST", "/api/v1/incidents", "application/json", before); status != 201 {
		t.Fatalf("declare before the outage = %d %s", status, body)
	}

	allow(false)
	eventually(t, "readyz says 503 while the database is away", func() bool { return ready() == 503 })
	for _, req := range []struct{ method, path, body string }{{"GET", "/api/v1/incidents", ""}, {"POST", "/api/v1/incidents", declare}} {
		r, _ := http.NewRequest(req.method, base+req.path, strings.NewReader(req.body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept-Language", "es-MX")
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		status := res.StatusCode
		var p struct{ Code, Detail string }
		json.Unmarshal(body, &p)
		if status != 503 || p.Code != "unavailable" || !strings.Contains(p.Detail, "base de datos") ||
			!strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s during the outage = %d %s, want 503 unavailable in Spanish\n%s", req.method, req.path, status, body, logs)
		}
	}

	allow(true)
	eventually(t, "readyz says 200 once the database is back", func() bool { return ready() == 200 })
	status, body := api.do("POST", "/api/v1/incidents", "application/json", declare)
	if status != 201 {
		t.Fatalf("declare after the outage = %d %s\n%s", status, body, logs)
	}
	status, body = api.do("GET", "/api/v1/incidents", "", "")
	if status != 200 || bytes.Count(body, []byte("Incendio en el almacén")) != 1 || bytes.Count(body, []byte("Inundación en el sótano")) != 1 {
		t.Errorf("incidents after the outage = %d %s (want the one declared before and the one after, once each)", status, body)
	}
}
