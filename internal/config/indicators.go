package config

import (
	"net/netip"
	"time"

	"github.com/optimum-bcp/optimum/indicators"
)

// Metrics guards GET /metrics, the Prometheus scrape. A request from one of AllowNetworks
// is served without credentials (the scraper on the same host or network); any other
// needs an admin bearer token.
type Metrics struct {
	// AllowNetworks lists CIDRs or addresses (the client address as limits.trusted_proxies
	// resolves it). Default: loopback only.
	AllowNetworks []string `yaml:"allow_networks"`
}

// DefaultMetrics allows loopback only.
func DefaultMetrics() Metrics {
	return Metrics{AllowNetworks: []string{"127.0.0.0/8", "::1/128"}}
}

// Networks parses AllowNetworks; a bare address counts as a one-address range.
func (m Metrics) Networks() ([]netip.Prefix, error) {
	return Limits{TrustedProxies: m.AllowNetworks}.Proxies()
}

func (m Metrics) validate(p *problems) {
	if _, err := m.Networks(); err != nil {
		p.add("metrics.allow_networks", "%v", err)
	}
	for _, s := range m.AllowNetworks {
		if pr, err := netip.ParsePrefix(s); err == nil && pr.Bits() == 0 {
			p.add("metrics.allow_networks", "%q allows every address; name the scraper's network", s)
		}
	}
}

// IndicatorOptions are the dashboard's settings from the configuration: the time zone of
// its day and hour buckets and the SLA targets per priority. now is the clock (nil is
// time.Now). Call Validate first.
func (c Config) IndicatorOptions(now func() time.Time) indicators.Options {
	opt := indicators.Options{Location: c.Location(), Now: now,
		AckTargets: map[string]time.Duration{}, ResolveTargets: map[string]time.Duration{}}
	for pr, s := range c.Incident.SLA {
		opt.AckTargets[pr], opt.ResolveTargets[pr] = time.Duration(s.Acknowledge), time.Duration(s.Resolve)
	}
	return opt
}
