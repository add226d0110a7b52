package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

// The example file documents every key with its default: loading it must give exactly
// the defaults, so the file cannot drift from the code.
func TestExampleFileMatchesDefaults(t *testing.T) {
	cfg, err := Load(env(map[string]string{"OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Server.AllowedOrigins = []string{}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("example file differs from Default():\n got %+v\nwant %+v", cfg, want)
	}
}

func TestEnvironmentWinsOverFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("server:\n  addr: \":9000\"\ntime_zone: Europe/Madrid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path, "OPTIMUM_ADDR": "127.0.0.1:0", "OPTIMUM_DATA": "/tmp/x", "OPTIMUM_BOOTSTRAP_TOKEN": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Server.Addr, "127.0.0.1:0"; got != want {
		t.Errorf("addr = %q, want %q", got, want)
	}
	if got, want := cfg.TimeZone, "Europe/Madrid"; got != want {
		t.Errorf("time zone = %q, want %q (from the file)", got, want)
	}
	if cfg.Server.DataDir != "/tmp/x" || cfg.Server.BootstrapToken != "secret" {
		t.Errorf("env not applied: %+v", cfg.Server)
	}
	if got := cfg.Location().String(); got != "Europe/Madrid" {
		t.Errorf("location = %s", got)
	}
}

func TestMissingExplicitFileIsAnError(t *testing.T) {
	if _, err := Load(env(map[string]string{"OPTIMUM_CONFIG": "/nonexistent/optimum.yaml"})); err == nil {
		t.Fatal("want an error for a missing OPTIMUM_CONFIG file")
	}
}

func TestUnknownKeyIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("servr:\n  addr: x\n"), 0o600)
	_, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path}))
	if err == nil || !strings.Contains(err.Error(), "servr") {
		t.Fatalf("err = %v, want it to name the unknown key", err)
	}
}

func TestBadDurationNamesTheLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("incident:\n  sla:\n    P1: {acknowledge: soon, resolve: 4h}\n"), 0o600)
	_, err := Load(env(map[string]string{"OPTIMUM_CONFIG": path}))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("err = %v, want it to name line 3", err)
	}
}

// Validate lists every problem at once.
func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Server.Addr = ""
	cfg.TimeZone = "Mars/Olympus"
	cfg.Database.URL = "mysql://x"
	cfg.Incident.DefaultTeams = []string{"nobody"}
	cfg.Incident.Matrix["high"]["low"] = "P9"
	delete(cfg.Incident.Matrix, "low")
	cfg.Incident.SLA["P2"] = SLA{Acknowledge: Duration(time.Hour), Resolve: Duration(time.Minute)}
	cfg.Teams = append(cfg.Teams, Team{ID: "Bad Id", Name: Names{ES: "x"}})
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"server.addr", "time_zone", "database.url", "incident.default_teams", "incident.matrix.high.low", "incident.matrix.low", "incident.sla.P2", "teams[4].id", "teams[4].name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

func TestLimitsAreValidated(t *testing.T) {
	cfg := Default()
	cfg.Limits.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.1", "::1", "proxy.local"}
	cfg.Limits.DeclarePerActor = Rate{PerMinute: 0, Burst: 10}
	cfg.Limits.Lockout.Max = Duration(time.Millisecond)
	cfg.Limits.MaxKeys = 1
	err := cfg.Validate()
	for _, want := range []string{`limits.trusted_proxies: "proxy.local"`, "limits.declare_per_actor", "limits.lockout", "limits.max_keys"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	cfg.Limits.TrustedProxies = cfg.Limits.TrustedProxies[:3]
	got, err := cfg.Limits.Proxies()
	if err != nil {
		t.Fatal(err)
	}
	if want := "[10.0.0.0/8 192.168.1.1/32 ::1/128]"; fmt.Sprint(got) != want {
		t.Errorf("proxies = %v, want %s", got, want)
	}
}
