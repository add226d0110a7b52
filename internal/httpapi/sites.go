package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum/contacts"
)

// listSites handles GET /api/v1/sites: the buildings and campuses, with their people.
func (s *Server) listSites(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Directory.Sites(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// saveSite handles POST /api/v1/sites and PUT /api/v1/sites/{id}.
func (s *Server) saveSite(w http.ResponseWriter, r *http.Request) error {
	var in contacts.SiteInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := idFromPath(r, &in.ID); err != nil {
		return err
	}
	st, err := s.Directory.SaveSite(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
