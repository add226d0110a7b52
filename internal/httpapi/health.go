package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// ReadyCheck is one dependency /readyz reports on besides the database (Redis, when
// configured).
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// Concern is a part that works but needs an operator (late work, a parked event, a failed
// canary): while it has reasons, /readyz says "degraded" with them but still answers 200,
// since the node serves and taking it out of a load balancer would help nobody.
type Concern struct {
	Name    string
	Reasons func(ctx context.Context) []string
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 only when every dependency answers within two seconds. Otherwise it
// answers 503 with each part's state, so an operator (or a load balancer's log) sees which
// part is degraded: {"status":"degraded","degraded":["redis"],"checks":{"database":"ok",
// "redis":"unavailable"}}. The reasons are logged, not shown: the endpoint is public.
// A concern (late work, a parked event, a failed canary) with reasons makes the answer
// {"status":"degraded", …, "reasons":{"work":["2 reminders overdue"]}} with 200: its
// reasons say what and how much, never an incident's contents.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := append([]ReadyCheck{{Name: "database", Check: s.Ready}}, s.ReadyChecks...)
	errs := make([]error, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() { errs[i] = c.Check(ctx) })
	}
	wg.Wait()
	states := map[string]string{}
	degraded := []string{}
	for i, c := range checks {
		states[c.Name] = "ok"
		if errs[i] != nil {
			states[c.Name] = "unavailable"
			degraded = append(degraded, c.Name)
			s.Logger.Warn("not ready", "part", c.Name, "err", errs[i])
		}
	}
	unavailable := len(degraded) > 0
	body := map[string]any{"status": "ready", "checks": states}
	if p := s.directoryProblems(ctx); len(p) > 0 {
		body["problems"] = map[string]any{"directory": p}
	}
	reasons := map[string][]string{}
	for _, c := range s.Concerns {
		if r := c.Reasons(ctx); len(r) > 0 {
			reasons[c.Name], states[c.Name] = r, "degraded"
			degraded = append(degraded, c.Name)
		} else {
			states[c.Name] = "ok"
		}
	}
	if len(reasons) > 0 {
		body["reasons"] = reasons
	}
	if len(degraded) > 0 {
		body["status"], body["degraded"] = "degraded", degraded
	}
	if unavailable {
		writeJSON(w, http.StatusServiceUnavailable, body)
		return nil
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// directoryProblems lists what is wrong in the directory's data: phone numbers several
// active people have ("shared_phones: 2"). They do not make the node unready, since
// taking it out of a load balancer would fix nothing, but an operator watching /readyz
// sees them. The endpoint is public: counts only, never numbers or names (those are on
// the readiness page, for managers).
func (s *Server) directoryProblems(ctx context.Context) []string {
	if s.Directory == nil {
		return nil
	}
	shared, err := s.Directory.SharedPhones(ctx)
	if err != nil {
		s.Logger.Warn("readyz: directory problems unknown", "err", err)
		return nil
	}
	if len(shared) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("shared_phones: %d phone numbers belong to more than one active person", len(shared))}
}
