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

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 only when every dependency answers within two seconds. Otherwise it
// answers 503 with each part's state, so an operator (or a load balancer's log) sees which
// part is degraded: {"status":"degraded","degraded":["redis"],"checks":{"database":"ok",
// "redis":"unavailable"}}. The reasons are logged, not shown: the endpoint is public.
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
	body := map[string]any{"status": "ready", "checks": states}
	if p := s.directoryProblems(ctx); len(p) > 0 {
		body["problems"] = map[string]any{"directory": p}
	}
	if len(degraded) > 0 {
		body["status"], body["degraded"] = "degraded", degraded
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
