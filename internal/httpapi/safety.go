package httpapi

import (
	"net/http"
)

// setSafety handles POST /api/v1/incidents/{id}/safety {"person_id", "answer", "note"}:
// a responder records a person's safety-poll answer heard by other means (a call, in
// person). It is the only way, besides the person signed in, to take back a "necesito
// ayuda" — a one-tap link cannot. The note is required and goes on the timeline.
func (s *Server) setSafety(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		PersonID string `json:"person_id"`
		Answer   string `json:"answer"`
		Note     string `json:"note"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	inc, err := s.Incidents.SetSafetyFor(r.Context(), r.PathValue("id"), body.PersonID, body.Answer, body.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}
