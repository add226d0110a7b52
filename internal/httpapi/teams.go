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
	if err := idFromPath(r, &in.ID); err != nil {
		return err
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
	if err := idFromPath(r, &in.ID); err != nil {
		return err
	}
	sv, err := s.Directory.SaveService(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sv)
	return nil
}

// idFromPath puts the path's {id} (an update) into the body's id, refusing a body that
// names another; without {id} (a creation) the body's id stands.
func idFromPath(r *http.Request, bodyID *string) error {
	id := r.PathValue("id")
	if id == "" {
		return nil
	}
	if *bodyID != "" && *bodyID != id {
		return badRequest("The id in the body (%q) differs from the one in the path.", *bodyID)
	}
	*bodyID = id
	return nil
}
