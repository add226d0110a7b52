package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// listLadders handles GET /api/v1/ladders.
func (s *Server) listLadders(w http.ResponseWriter, r *http.Request) error {
	ls, err := s.Ladders.List(r.Context())
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []escalation.LadderRecord{}
	}
	writeJSON(w, http.StatusOK, ls)
	return nil
}

func (s *Server) getLadder(w http.ResponseWriter, r *http.Request) error {
	l, err := s.Ladders.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// saveLadder handles POST /api/v1/ladders and PUT /api/v1/ladders/{id}: the ladder is
// checked with the others and against the directory; a refused one changes nothing.
func (s *Server) saveLadder(w http.ResponseWriter, r *http.Request) error {
	var l escalation.Ladder
	if err := decode(w, r, &l); err != nil {
		return err
	}
	status := http.StatusCreated
	if id := r.PathValue("id"); id != "" {
		if l.ID == "" {
			l.ID = id
		} else if l.ID != id {
			return badRequest("The id in the body (%q) differs from the one in the path.", l.ID)
		}
		status = http.StatusOK
	}
	if err := s.scopedLadderChange(r, l.ID, &l); err != nil { // scope.go
		return err
	}
	saved, err := s.Ladders.Save(r.Context(), l)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/ladders/"+saved.ID)
	writeJSON(w, status, saved)
	return nil
}

func (s *Server) deleteLadder(w http.ResponseWriter, r *http.Request) error {
	if err := s.scopedLadderChange(r, r.PathValue("id"), nil); err != nil { // scope.go
		return err
	}
	if err := s.Ladders.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// escalate handles POST /api/v1/incidents/{id}/escalate: a functional or hierarchical
// escalation by hand, with a reason; it answers the incident's escalation afterwards.
func (s *Server) escalate(w http.ResponseWriter, r *http.Request) error {
	var m escalation.Manual
	if err := decode(w, r, &m); err != nil {
		return err
	}
	inc, err := s.visible(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.Escalation.Escalate(r.Context(), inc.ID, m); err != nil {
		return err
	}
	view, err := s.Escalation.View(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// getEscalation handles GET /api/v1/incidents/{id}/escalation.
func (s *Server) getEscalation(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.visible(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	view, err := s.Escalation.View(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	if view == nil {
		return optimum.Errorf(optimum.ENOTFOUND, "Incident %s has no escalation.", inc.Folio)
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// withEscalation writes a list of incidents, each with its escalation in a line.
func (s *Server) withEscalation(w http.ResponseWriter, r *http.Request, list []incident.Incident) error {
	ids := make([]string, len(list))
	for i, inc := range list {
		ids[i] = inc.ID
	}
	sums, err := s.Escalation.Summaries(r.Context(), ids)
	if err != nil {
		return err
	}
	type item struct {
		incident.Incident
		Escalation *escalation.Summary `json:"escalation,omitempty"`
	}
	out := make([]item, len(list))
	for i, inc := range list {
		out[i].Incident = inc
		if sum, ok := sums[inc.ID]; ok {
			out[i].Escalation = &sum
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// checkLadder refuses a declaration naming a ladder that does not exist.
func (s *Server) checkLadder(r *http.Request, id string) error {
	if id == "" || s.Ladders == nil {
		return nil
	}
	if _, err := s.Ladders.Get(r.Context(), id); optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return optimum.Invalid("The declaration has errors.", []optimum.FieldError{{Field: "ladder", Message: "is not an escalation ladder"}})
	} else if err != nil {
		return err
	}
	return nil
}
