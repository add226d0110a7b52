package httpapi

import (
	"mime"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum/drill"
)

// listDrills handles GET /api/v1/drills.
func (s *Server) listDrills(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Drills.Plans(r.Context())
	if err != nil {
		return err
	}
	if scoped(r.Context()) != nil { // scope.go: only the plans of the caller's teams and sites
		mine := ps[:0:0]
		for _, p := range ps {
			if ok, err := s.planCovered(r.Context(), p); err != nil {
				return err
			} else if ok {
				mine = append(mine, p)
			}
		}
		ps = mine
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

func (s *Server) getDrill(w http.ResponseWriter, r *http.Request) error {
	p, err := s.scopedPlan(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// saveDrill handles POST /api/v1/drills (201) and PUT /api/v1/drills/{id} (200). A
// refused plan (every problem named at once) changes nothing.
func (s *Server) saveDrill(w http.ResponseWriter, r *http.Request) error {
	var p drill.Plan
	if err := decode(w, r, &p); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id != "" {
		if p.ID == "" {
			p.ID = id
		} else if !strings.EqualFold(strings.TrimSpace(p.ID), id) {
			return badRequest("The id in the body (%q) differs from the one in the path.", p.ID)
		}
	}
	if scoped(r.Context()) != nil { // scope.go
		if id != "" {
			if _, err := s.scopedPlan(r.Context(), id); err != nil {
				return err // missing, or not theirs
			}
		}
		if ok, err := s.planCovered(r.Context(), p); err != nil {
			return err
		} else if !ok && len(p.Teams)+len(p.Sites) > 0 {
			return errScope("The drill's audience")
		}
	}
	saved, err := s.Drills.SavePlan(r.Context(), p, id == "")
	if err != nil {
		return err
	}
	status := http.StatusOK
	if id == "" {
		status = http.StatusCreated
	}
	w.Header().Set("Location", "/api/v1/drills/"+saved.ID)
	writeJSON(w, status, saved)
	return nil
}

func (s *Server) deleteDrill(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.scopedPlan(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	if err := s.Drills.DeletePlan(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// startDrill handles POST /api/v1/drills/{id}/runs: the plan runs now. The body is
// optional: {"force": true} starts even while another drill runs for the same teams.
func (s *Server) startDrill(w http.ResponseWriter, r *http.Request) error {
	var o struct {
		Force bool `json:"force"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &o); err != nil {
			return err
		}
	}
	if _, err := s.scopedPlan(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	run, err := s.Drills.Start(r.Context(), r.PathValue("id"), drill.StartOptions{Force: o.Force})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/drill-runs/"+run.ID)
	writeJSON(w, http.StatusCreated, run)
	return nil
}

// listDrillRuns handles GET /api/v1/drills/{id}/runs and GET /api/v1/drill-runs.
func (s *Server) listDrillRuns(w http.ResponseWriter, r *http.Request) error {
	if id := r.PathValue("id"); id != "" {
		if _, err := s.scopedPlan(r.Context(), id); err != nil {
			return err
		}
	}
	runs, err := s.Drills.Runs(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if scoped(r.Context()) != nil {
		mine := runs[:0:0]
		for _, run := range runs {
			if ok, err := s.planCovered(r.Context(), run.Plan); err != nil {
				return err
			} else if ok {
				mine = append(mine, run)
			}
		}
		runs = mine
	}
	writeJSON(w, http.StatusOK, runs)
	return nil
}

// drillBoard handles GET /api/v1/drill-runs/{id}: the live board, the report as of now
// (who was reached, on which channel, who acknowledged, who is pending, each criterion).
func (s *Server) drillBoard(w http.ResponseWriter, r *http.Request) error {
	if err := s.scopedRun(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	rep, err := s.Drills.Report(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// drillReport handles GET /api/v1/drill-runs/{id}/report (JSON, or CSV when the client
// accepts only text/csv) and GET /api/v1/drill-runs/{id}/report.csv.
func (s *Server) drillReport(asCSV bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := s.scopedRun(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		rep, err := s.Drills.Report(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		csv := asCSV
		if !csv {
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Accept")); err == nil && mt == "text/csv" {
				csv = true
			}
		}
		if !csv {
			writeJSON(w, http.StatusOK, rep)
			return nil
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		name := "simulacro-" + rep.Header.PlanID + "-" + rep.Run.ID + ".csv"
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		return drill.WriteCSV(w, rep)
	}
}

// cancelDrill handles POST /api/v1/drill-runs/{id}/cancel.
func (s *Server) cancelDrill(w http.ResponseWriter, r *http.Request) error {
	if err := s.scopedRun(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	run, err := s.Drills.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}
