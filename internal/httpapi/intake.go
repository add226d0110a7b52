package httpapi

import (
	"net/http"
	"time"
)

// declareGate lets at most Config.Intake.DeclareInFlight declarations reach h at once; the
// next ones wait for a turn at most DeclareWait, then get 429 with a Retry-After. So a
// burst of a thousand declarations is answered within seconds, 201 or 429, never left to
// time out behind the store, and the declarations that do run are not slowed by the
// others.
func (s *Server) declareGate(h http.Handler) http.Handler {
	turns := make(chan struct{}, max(1, s.Config.Intake.DeclareInFlight))
	wait := time.Duration(s.Config.Intake.DeclareWait)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case turns <- struct{}{}:
		default:
			t := time.NewTimer(wait)
			select {
			case turns <- struct{}{}:
				t.Stop()
			case <-t.C:
				writeError(w, r, s.Logger, rateLimited(w, time.Second, "The server is busy with many declarations at once. Nothing was declared; try again in a moment."))
				return
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		defer func() { <-turns }()
		h.ServeHTTP(w, r)
	})
}
