package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The binary syncs the directory from an HR server over HTTPS (loopback, a test CA given
// as directory_sync.ca_file), refuses a file that would deactivate most people, pages the
// continuity team about it once, and shows it on /readyz; SCIM answers OPTIMUM_SCIM_TOKEN.
func TestDirectorySyncAndSCIMEndToEnd(t *testing.T) {
	const admin = "dirsync-admin-token-0123456789"
	const scimToken = "dirsync-scim-token-0123456789abcdef"
	var mu sync.Mutex
	export := "name,email,phone,language,teams,manager_email\n"
	for n := 1; n <= 10; n++ {
		export += fmt.Sprintf("Persona %d,p%d@example.com,,es,operations,\n", n, n)
	}
	hr := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, export)
	}))
	defer hr.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hr.Certificate().Raw}), 0o600)
	example, err := os.ReadFile("../../configs/optimum.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), `directory_sync:
  url: ""          # e.g. https://hr.example.com/exports/optimum.csv
  schedule: ""     # e.g. "0 0 2 * * *" (every night at 02:00)`, `directory_sync:
  url: "`+hr.URL+`/optimum.csv"
  schedule: "* * * * * *"`, 1)
	cfg = strings.Replace(cfg, "  page_team: continuity\n  ca_file: \"\"", "  page_team: continuity\n  ca_file: \""+ca+"\"", 1)
	if !strings.Contains(cfg, ca) || !strings.Contains(cfg, hr.URL) {
		t.Fatal("the example configuration's directory_sync section moved: update this test")
	}
	cfgFile := filepath.Join(dir, "optimum.yaml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	base, _ := startServer(t, map[string]string{"OPTIMUM_CONFIG": cfgFile, "OPTIMUM_BOOTSTRAP_TOKEN": admin,
		"OPTIMUM_OUTBOUND_ALLOW": "127.0.0.1", "OPTIMUM_SCIM_TOKEN": scimToken})

	get := func(path, token string) (int, []byte) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	activePeople := func() int {
		_, b := get("/api/v1/people", admin)
		var list []struct{ Active bool }
		json.Unmarshal(b, &list)
		n := 0
		for _, p := range list {
			if p.Active {
				n++
			}
		}
		return n
	}
	eventually(t, "the first sync imported the 10 people", func() bool { return activePeople() == 10 })

	// SCIM sees them, with the token from the environment.
	status, body := get("/scim/v2/Users?filter="+strings.ReplaceAll(`userName eq "p3@example.com"`, " ", "%20"), scimToken)
	if status != 200 || !bytes.Contains(body, []byte(`"totalResults":1`)) {
		t.Errorf("SCIM: %d %s", status, body)
	}

	// The HR export is cut to 3 people: 7 of 10 would be deactivated.
	mu.Lock()
	export = strings.Join(strings.SplitAfter(export, "\n")[:4], "")
	mu.Unlock()
	type incident struct{ ID, Title string }
	pages := func() []incident {
		_, b := get("/api/v1/incidents", admin)
		var list []incident
		json.Unmarshal(b, &list)
		var out []incident
		for _, i := range list {
			if strings.Contains(i.Title, "Sincronización del directorio rechazada") {
				out = append(out, i)
			}
		}
		return out
	}
	eventually(t, "the continuity team paged about the refused sync", func() bool { return len(pages()) == 1 })
	var last struct {
		Last struct{ At, Status string }
	}
	_, b := get("/api/v1/directory/sync", admin)
	json.Unmarshal(b, &last)
	first := last.Last.At
	eventually(t, "two more refused syncs", func() bool {
		_, b := get("/api/v1/directory/sync", admin)
		json.Unmarshal(b, &last)
		return last.Last.Status == "refused" && last.Last.At > first
	})
	if n := len(pages()); n != 1 {
		t.Errorf("%d pages for the same refused file, want 1", n)
	}
	if n := activePeople(); n != 10 {
		t.Errorf("%d active people after the refused syncs, want 10", n)
	}
	if status, body := get("/readyz", ""); status != 200 || !bytes.Contains(body, []byte("directory_sync")) {
		t.Errorf("/readyz: %d %s", status, body)
	}
	_, inc := get("/api/v1/incidents/"+pages()[0].ID, admin)
	var page struct{ Teams []string }
	json.Unmarshal(inc, &page)
	if strings.Join(page.Teams, ",") != "continuity" {
		t.Errorf("page teams %v, want continuity", page.Teams)
	}
	// A dry run by hand reports, and changes nothing.
	req, _ := http.NewRequestWithContext(context.Background(), "POST", base+"/api/v1/directory/sync?dry_run=true", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`"status":"refused"`)) {
		t.Errorf("manual dry run: %d %s", res.StatusCode, b)
	}
}

func TestTokenCreateSCIM(t *testing.T) {
	data := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"OPTIMUM_DATA": data, "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}[k]
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "-name", "entra", "-role", "scim"}, getenv, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "obcp_") || !strings.Contains(out.String(), "scim") {
		t.Errorf("token output = %q", out.String())
	}
}
