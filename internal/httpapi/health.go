package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 200 only when every dependency answers within two seconds.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Ready(ctx); err != nil {
		s.Logger.Warn("not ready", "err", err)
		if optimum.ErrorCode(err) != optimum.EINTERNAL {
			return err // an application error (the database is unreachable): its message, not the driver's text
		}
		return optimum.Errorf(optimum.EUNAVAILABLE, "Not ready: %v", err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
