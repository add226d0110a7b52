package httpapi

import (
	"net/http"

	"github.com/optimum-bcp/optimum/internal/httpapi/openapi"
)

// openAPI handles GET /api/v1/openapi.json: the OpenAPI 3.1 description of this API,
// merged from the fragments in internal/httpapi/openapi. It is documentation, so public.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	doc, err := openapi.JSON()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(doc)
	return err
}
