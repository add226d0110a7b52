package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/canary"
)

// Canary is the scheduled end-to-end test alert as the API shows it.
type Canary struct {
	// Runs returns the latest runs, newest first.
	Runs func(ctx context.Context, limit int) ([]canary.Run, error)
	// Trigger asks for a canary now; nil when the canary is not configured. It reports
	// false when one is already waiting to start.
	Trigger  func() bool
	Schedule string
	Channels []string
	// Team or Person is the canary's audience (config canary.team, canary.person): a
	// manager limited to teams and sites sees and runs the canary only when it is
	// theirs (canaryCovered).
	Team, Person string
}

// canaryCovered is nil when the caller may see and run the canary: unscoped, or the
// canary's audience (its team, or its person) is within their teams and sites. A
// canary reaching people beyond them is the organisation's, not theirs: 403, as for a
// ladder (the canary is one, known to exist, so hiding it would be pointless).
func (s *Server) canaryCovered(ctx context.Context) error {
	if scoped(ctx) == nil || s.Canary == nil {
		return nil
	}
	ok := true
	switch {
	case s.Canary.Team != "":
		var err error
		if ok, err = s.Directory.Covers(ctx, []string{s.Canary.Team}, nil); err != nil {
			return err
		}
	case s.Canary.Person != "":
		// The directory hides people beyond the caller's scope (ENOTFOUND).
		_, err := s.Directory.Person(ctx, s.Canary.Person)
		if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
			return err
		}
		ok = err == nil
	}
	if !ok {
		return errScope("The canary")
	}
	return nil
}

// canaryView is GET /api/v1/canary.
type canaryView struct {
	Enabled  bool         `json:"enabled"`
	Schedule string       `json:"schedule,omitempty"`
	Channels []string     `json:"channels"`
	Runs     []canary.Run `json:"runs"`
}

// canaryRuns handles GET /api/v1/canary?limit=n: whether the canary is on, its schedule
// and channels, and its latest runs (20 unless limit says, at most 200) with their
// outcome, reason and timings.
func (s *Server) canaryRuns(w http.ResponseWriter, r *http.Request) error {
	if err := s.canaryCovered(r.Context()); err != nil {
		return err
	}
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return optimum.Invalid("The query has errors.", []optimum.FieldError{{Field: "limit", Message: "must be a whole number from 1 to 200"}})
		}
		limit = n
	}
	view := canaryView{Channels: []string{}, Runs: []canary.Run{}}
	if c := s.Canary; c != nil {
		view.Enabled, view.Schedule = c.Trigger != nil, c.Schedule
		if c.Channels != nil {
			view.Channels = c.Channels
		}
		runs, err := c.Runs(r.Context(), limit)
		if err != nil {
			return err
		}
		view.Runs = runs
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, view)
	return nil
}

// runCanary handles POST /api/v1/canary/run: a canary now, outside its schedule. 202: its
// outcome appears in GET /api/v1/canary.
func (s *Server) runCanary(w http.ResponseWriter, r *http.Request) error {
	if s.Canary == nil || s.Canary.Trigger == nil {
		return optimum.Errorf(optimum.ECONFLICT, "The canary is not configured: set canary.schedule and canary.person or canary.team.")
	}
	if err := s.canaryCovered(r.Context()); err != nil {
		return err
	}
	if !s.Canary.Trigger() {
		return optimum.Errorf(optimum.ECONFLICT, "A canary is already waiting to start.")
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "started"})
	return nil
}
