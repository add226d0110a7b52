package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/optimum-bcp/optimum/internal/httpapi"
	"github.com/optimum-bcp/optimum/internal/httpapi/openapi/openapitest"
)

// described serves next behind the OpenAPI check (openapitest.Handler): every request to
// a route of s.Routes(), and its answer, must agree with the description.
func described(t *testing.T, s *httpapi.Server, next http.Handler) http.Handler {
	var patterns []string
	for _, rt := range s.Routes() {
		patterns = append(patterns, rt.Pattern)
	}
	return openapitest.Handler(t, patterns, next)
}
