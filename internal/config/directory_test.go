package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/config"
)

func TestDirectorySyncValidation(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	good := config.DirectorySync{URL: "https://hr.example.com/optimum.csv", Schedule: "0 0 2 * * *", MaxDeactivatePercent: 10,
		Timeout: config.Duration(60e9), PageTeam: "continuity"}
	for _, tc := range []struct {
		name   string
		change func(*config.DirectorySync)
		field  string // "" when valid
	}{
		{"valid", func(*config.DirectorySync) {}, ""},
		{"off", func(d *config.DirectorySync) { *d = config.DirectorySync{} }, ""},
		{"plain http", func(d *config.DirectorySync) { d.URL = "http://hr.example.com/optimum.csv" }, "directory_sync.url"},
		{"not a URL", func(d *config.DirectorySync) { d.URL = "hr.example.com" }, "directory_sync.url"},
		{"no schedule", func(d *config.DirectorySync) { d.Schedule = "" }, "directory_sync.schedule"},
		{"bad schedule", func(d *config.DirectorySync) { d.Schedule = "every night" }, "directory_sync.schedule"},
		{"percent above 100", func(d *config.DirectorySync) { d.MaxDeactivatePercent = 150 }, "directory_sync.max_deactivate_percent"},
		{"negative percent", func(d *config.DirectorySync) { d.MaxDeactivatePercent = -1 }, "directory_sync.max_deactivate_percent"},
		{"timeout too long", func(d *config.DirectorySync) { d.Timeout = config.Duration(3600e9) }, "directory_sync.timeout"},
		{"unknown page team", func(d *config.DirectorySync) { d.PageTeam = "nobody" }, "directory_sync.page_team"},
		{"missing CA file", func(d *config.DirectorySync) { d.CAFile = "/nonexistent/ca.pem" }, "directory_sync.ca_file"},
		{"CA file without PEM", func(d *config.DirectorySync) { d.CAFile = notPEM }, "directory_sync.ca_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.DirectorySync = good
			tc.change(&cfg.DirectorySync)
			err := cfg.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("valid config refused: %v", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
				t.Errorf("err = %v, want a problem with %s", err, tc.field)
			}
		})
	}
	cfg := config.Default()
	cfg.SCIM.Token = "short"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "OPTIMUM_SCIM_TOKEN") {
		t.Errorf("short SCIM token: %v", err)
	}
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"OPTIMUM_SCIM_TOKEN": "0123456789abcdef0123456789abcdef", "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}[k]
	})
	if err != nil || cfg.SCIM.Token != "0123456789abcdef0123456789abcdef" || cfg.DirectorySync.MaxDeactivatePercent != 10 {
		t.Errorf("load: %v %+v %+v", err, cfg.SCIM, cfg.DirectorySync)
	}
}
