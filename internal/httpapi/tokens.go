package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum"
)

// createToken handles POST /api/v1/tokens; the secret is in the answer once, never again.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string       `json:"name"`
		Role optimum.Role `json:"role"`
		// Scope limits the token to teams and sites (docs/security.md, "Roles").
		Scope *optimum.Scope `json:"scope"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	t, secret, err := s.Auth.CreateScopedToken(r.Context(), body.Name, body.Role, body.Scope)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		ID    string         `json:"id"`
		Name  string         `json:"name"`
		Role  optimum.Role   `json:"role"`
		Token string         `json:"token"`
		Scope *optimum.Scope `json:"scope,omitempty"`
	}{t.ID, t.Name, t.Role, secret, t.Scope})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.Tokens(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
