package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum/contacts"
)

func (s *Server) listTeams(w http.ResponseWriter, r *http.Request) error {
	teams, err := s.Directory.Teams(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, teams)
	return nil
}

// saveTeam handles POST /api/v1/teams and PUT /api/v1/teams/{id}.
func (s *Server) saveTeam(w http.ResponseWriter, r *http.Request) error {
	var in contacts.TeamInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if id := r.PathValue("id"); id != "" {
		if in.ID != "" && in.ID != id {
			return badRequest("The id in the body (%q) differs from the one in the path.", in.ID)
		}
		in.ID = id
	}
	t, err := s.Directory.SaveTeam(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Directory.Services(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// saveService handles POST /api/v1/services and PUT /api/v1/services/{id}.
func (s *Server) saveService(w http.ResponseWriter, r *http.Request) error {
	var in contacts.ServiceInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if id := r.PathValue("id"); id != "" {
		if in.ID != "" && in.ID != id {
			return badRequest("The id in the body (%q) differs from the one in the path.", in.ID)
		}
		in.ID = id
	}
	sv, err := s.Directory.SaveService(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sv)
	return nil
}
