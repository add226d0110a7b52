package config

import (
	"fmt"
	"strings"

	"github.com/optimum-bcp/optimum/internal/netguard"
)

// Outbound bounds the requests the server makes to URLs its users chose (web push
// endpoints now, webhooks later): only public addresses over https, checked on the
// resolved address when connecting (internal/netguard).
type Outbound struct {
	// AllowNetworks lists networks (CIDRs or addresses) such requests may reach although
	// they are loopback, private, link-local, multicast or unspecified: a push service
	// inside the organisation's network, or a local fake in tests. Plain http is allowed
	// only to a loopback address listed here. OPTIMUM_OUTBOUND_ALLOW (comma separated)
	// replaces the list; OPTIMUM_PUSH_ALLOW_PRIVATE=1 adds 127.0.0.0/8 and ::1.
	AllowNetworks []string `yaml:"allow_networks"`
}

func defaultOutbound() Outbound { return Outbound{AllowNetworks: []string{}} }

func (o *Outbound) applyEnv(getenv func(string) string) {
	if v := getenv("OPTIMUM_OUTBOUND_ALLOW"); v != "" {
		o.AllowNetworks = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				o.AllowNetworks = append(o.AllowNetworks, s)
			}
		}
	}
	if getenv("OPTIMUM_PUSH_ALLOW_PRIVATE") == "1" {
		o.AllowNetworks = append(o.AllowNetworks, "127.0.0.0/8", "::1/128")
	}
}

func (o Outbound) validate(p *problems) {
	if _, err := netguard.ParseAllow(o.AllowNetworks); err != nil {
		p.add("outbound.allow_networks", "%v", err)
	}
}

// OutboundGuard is the policy of requests to user-given URLs. Call Validate first.
func (c Config) OutboundGuard() netguard.Policy {
	allow, err := netguard.ParseAllow(c.Outbound.AllowNetworks)
	if err != nil {
		panic(fmt.Sprintf("config: OutboundGuard before Validate: %v", err))
	}
	return netguard.Policy{Allow: allow}
}
