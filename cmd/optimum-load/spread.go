package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/internal/loadgen"
)

// spread is the connections of one run, divided evenly over several nodes of one
// deployment (-url and -spread), used as one fleet: a declaration counts as delivered when
// the last connection on any node has it.
type spread []*loadgen.Fleet

// parseSpread reads -spread: comma-separated base URLs of the other nodes, loopback only.
func parseSpread(raw string) ([]string, []string) {
	var bases, problems []string
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, fmt.Sprintf("-spread: %q is not an http:// or https:// base URL", s))
			continue
		}
		if err := loadgen.CheckLoopback(u.Hostname()); err != nil {
			problems = append(problems, "-spread: "+err.Error())
			continue
		}
		bases = append(bases, strings.TrimRight(u.String(), "/"))
	}
	return bases, problems
}

// dialSpread opens clients connections divided over the bases (the first gets the
// remainder), each waiting for its ready frame.
func dialSpread(ctx context.Context, bases []string, token string, clients int, cfg loadgen.Config) (spread, error) {
	var s spread
	for i, base := range bases {
		n := clients / len(bases)
		if i == 0 {
			n += clients % len(bases)
		}
		c := cfg
		c.URL, c.Clients = base+"/api/v1/stream?token="+url.QueryEscape(token), n
		f, err := loadgen.Dial(ctx, c)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", base, err)
		}
		s = append(s, f)
	}
	return s, nil
}

func (s spread) Close() {
	for _, f := range s {
		f.Close()
	}
}

func (s spread) Lost() int {
	n := 0
	for _, f := range s {
		n += f.Lost()
	}
	return n
}

// expectations is one expected frame on every node's fleet.
type expectations []*loadgen.Expectation

func (s spread) Expect(markers ...string) expectations {
	var es expectations
	for _, f := range s {
		es = append(es, f.Expect(markers...))
	}
	return es
}

// Wait waits on every fleet within one timeout and merges the results: counts add up,
// First is the earliest and Last the latest receipt on any node.
func (es expectations) Wait(ctx context.Context, timeout time.Duration) loadgen.Result {
	deadline := time.Now().Add(timeout)
	var r loadgen.Result
	for _, e := range es {
		one := e.Wait(ctx, max(time.Until(deadline), time.Millisecond))
		r.Clients += one.Clients
		r.Received += one.Received
		r.Missing += one.Missing
		r.Lost += one.Lost
		if one.Received > 0 {
			if r.First == 0 || one.First < r.First {
				r.First = one.First
			}
			r.Last = max(r.Last, one.Last)
			if r.Sample == "" {
				r.Sample = one.Sample
			}
		}
	}
	return r
}

func (es expectations) Times() []int64 {
	var out []int64
	for _, e := range es {
		out = append(out, e.Times()...)
	}
	return out
}
