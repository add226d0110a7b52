package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// stream handles GET /api/v1/stream: the event log over a websocket, resumable with ?since=.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	var (
		since    int64
		hasSince bool
	)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return optimum.Invalid("The stream parameters have errors.", []optimum.FieldError{{Field: "since", Message: "must be an event id (a whole number, 0 or more)"}})
		}
		since, hasSince = n, true
	}
	actor, _ := optimum.ActorFrom(r.Context())
	if err := s.Hub.Serve(w, r, actor, since, hasSince); err != nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "The server is shutting down; try again.")
	}
	return nil
}

// StreamAudience says who sees an event on the stream: incident events go to responders
// and above, and to the reporter who declared the incident; accounts (users, tokens) to
// admins; every other event (the directory) to managers and above.
func StreamAudience(e optimum.Event) (optimum.Role, string) {
	switch {
	case strings.HasPrefix(e.Type, "user.") || strings.HasPrefix(e.Type, "token."):
		return optimum.RoleAdmin, ""
	case !strings.HasPrefix(e.Type, "incident."):
		return optimum.RoleManager, ""
	}
	var inc struct {
		Reporter struct {
			ID string `json:"id"`
		} `json:"reporter"`
	}
	_ = json.Unmarshal(e.Incident, &inc)
	return optimum.RoleResponder, inc.Reporter.ID
}
