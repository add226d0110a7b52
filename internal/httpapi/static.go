package httpapi

import (
	"net/http"
	"strings"
)

// staticFiles serves the embedded web app with headers that keep it fresh and contained.
func (s *Server) staticFiles() http.Handler {
	files := http.FileServerFS(s.Static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, s.Logger, &requestError{status: http.StatusMethodNotAllowed, detail: "Only GET and HEAD are allowed here."})
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/" || strings.HasSuffix(r.URL.Path, ".html") || strings.HasSuffix(r.URL.Path, ".js") || strings.HasSuffix(r.URL.Path, ".css") {
			h.Set("Cache-Control", "no-cache")
		}
		if r.URL.Path == "/sw.js" {
			h.Set("Service-Worker-Allowed", "/")
		}
		files.ServeHTTP(w, r)
	})
}
