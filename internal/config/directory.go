package config

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/optimum-bcp/optimum/drill"
)

// SCIM is the SCIM 2.0 provisioning endpoint (/scim/v2). It is always on for tokens of
// role scim (optimum token create -role scim); Token adds one more credential.
type SCIM struct {
	// Token, from OPTIMUM_SCIM_TOKEN only, is accepted as a bearer token of role scim.
	Token string `yaml:"-"`
}

func (s SCIM) validate(p *problems) {
	if s.Token != "" && len(s.Token) < 32 {
		p.add("OPTIMUM_SCIM_TOKEN", "must be a random secret of at least 32 characters")
	}
}

// DirectorySync is the scheduled "replace" import of the directory from a CSV at an
// HTTPS URL (an HR system's export): whoever the file lists is created or updated, and
// every active person it no longer lists is deactivated (never deleted). A sync that
// would deactivate more than MaxDeactivatePercent of the active people is refused,
// changing nothing, and the admins are alerted. Off while URL is empty.
type DirectorySync struct {
	// URL of the CSV (the header of POST /api/v1/people/import): https only, fetched
	// through the outbound guard (outbound.allow_networks for a host inside the network).
	URL string `yaml:"url"`
	// Schedule is a cron spec with seconds ("0 0 2 * * *": every night at 02:00) in the
	// configured zone.
	Schedule string `yaml:"schedule"`
	// MaxDeactivatePercent is the most of the active people one sync may deactivate
	// (default 10): a truncated or wrong file must not switch off half the company.
	MaxDeactivatePercent float64 `yaml:"max_deactivate_percent"`
	// Timeout bounds the download (default 1m).
	Timeout Duration `yaml:"timeout"`
	// PageTeam is alerted, on every channel, when a sync is refused or fails (default
	// continuity).
	PageTeam string `yaml:"page_team"`
	// CAFile is a PEM file of certificate authorities trusted besides the system's, for
	// an HR server whose certificate an internal CA signed.
	CAFile string `yaml:"ca_file"`
	// Authorization, from OPTIMUM_DIRECTORY_SYNC_AUTHORIZATION only, is sent as the
	// download's Authorization header ("Bearer …" or "Basic …").
	Authorization string `yaml:"-"`
}

func defaultDirectorySync() DirectorySync {
	return DirectorySync{MaxDeactivatePercent: 10, Timeout: Duration(time.Minute), PageTeam: "continuity"}
}

func (d DirectorySync) validate(p *problems, teams map[string]bool) {
	if d.URL == "" {
		return
	}
	if u, err := url.Parse(d.URL); err != nil || u.Scheme != "https" || u.Host == "" {
		p.add("directory_sync.url", "must be an absolute https URL")
	}
	if _, err := drill.ParseSchedule(d.Schedule); err != nil || d.Schedule == "" {
		p.add("directory_sync.schedule", "%q is not a cron spec with seconds such as \"0 0 2 * * *\"", d.Schedule)
	}
	if d.MaxDeactivatePercent < 0 || d.MaxDeactivatePercent > 100 {
		p.add("directory_sync.max_deactivate_percent", "must be from 0 to 100")
	}
	if d.Timeout < Duration(time.Second) || d.Timeout > Duration(10*time.Minute) {
		p.add("directory_sync.timeout", "must be from 1s to 10m")
	}
	if d.CAFile != "" {
		if _, err := d.RootCAs(); err != nil {
			p.add("directory_sync.ca_file", "%v", err)
		}
	}
	if !teams[d.PageTeam] {
		p.add("directory_sync.page_team", "%q is not one of the teams", d.PageTeam)
	}
}

// RootCAs returns the system's certificate authorities plus those of CAFile; nil (the
// system's) without a CAFile.
func (d DirectorySync) RootCAs() (*x509.CertPool, error) {
	if d.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(d.CAFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", d.CAFile, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", d.CAFile)
	}
	return pool, nil
}
