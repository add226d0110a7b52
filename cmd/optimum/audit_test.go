package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/audit"
)

// An administrator exports a period of the log and an auditor checks the copy offline
// with `optimum audit verify -file`; `optimum audit verify` on the database holds until a
// row is edited in SQLite, and then names that event.
func TestAuditVerifyNamesTheEditedEvent(t *testing.T) {
	const token = "audit-admin-token-0123456789abcd"
	data := t.TempDir()
	env := map[string]string{"OPTIMUM_DATA": data, "OPTIMUM_BOOTSTRAP_TOKEN": token}
	start := time.Now().Add(-time.Minute)
	base, _ := startServer(t, env)
	api := client{t, base, token}
	for _, title := range []string{"Sismo: evacuación del edificio", "Inundación en el sótano", "Corte de energía en el CPD"} {
		if status, body := api.do("POST", "/api/v1/incidents", "application/json",
			`{"title":"`+title+`","impact":"critical","urgency":"critical","location":"Madrid"}`); status != 201 {
			t.Fatalf("declare = %d %s", status, body)
		}
	}
	status, export := api.do("GET", "/api/v1/audit/export?from="+start.UTC().Format(time.RFC3339)+"&to="+time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "", "")
	if status != 200 {
		t.Fatalf("export = %d %s", status, export)
	}
	var x audit.Export
	if err := json.Unmarshal(export, &x); err != nil || len(x.Events) < 3 {
		t.Fatalf("export: %v, %d events", err, len(x.Events))
	}
	file := filepath.Join(t.TempDir(), "export.json")
	os.WriteFile(file, export, 0o600)
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify", "-file", file}, getenv, &out, &out); err != nil || !strings.Contains(out.String(), "holds") {
		t.Fatalf("verify the export = %v: %s", err, out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"audit", "verify"}, getenv, &out, &out); err != nil || !strings.Contains(out.String(), "holds") {
		t.Fatalf("verify the database = %v: %s", err, out.String())
	}

	// Somebody with the database file changes the title of the second declaration.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "optimum.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var edited int64
	if err := db.QueryRow("SELECT id FROM events WHERE type = 'incident.declared' ORDER BY id LIMIT 1 OFFSET 1").Scan(&edited); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE events SET incident = replace(incident, 'sótano', 'ático') WHERE id = ?", edited); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"audit", "verify"}, getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "broken at event "+itoa(edited)+" (incident.declared)") {
		t.Fatalf("verify after the edit = %v, want a break at event %d", err, edited)
	}
	// The same edit in a copy of the export is found offline too.
	tampered := bytes.Replace(export, []byte("sótano"), []byte("ático"), 1)
	os.WriteFile(file, tampered, 0o600)
	if err := run(context.Background(), []string{"audit", "verify", "-file", file}, getenv, &out, &out); err == nil || !strings.Contains(err.Error(), "broken at event") {
		t.Fatalf("verify a tampered export = %v", err)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
