package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/ws"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// stream handles GET /api/v1/stream: the event log over a websocket, resumable with ?since=.
//
// Bad requests a browser can act on are answered before the upgrade with a problem (a
// since beyond the log); those a websocket client must be told in a close frame (a
// protocol version this server does not speak, too many streams) are upgraded and closed
// with a code and a reason.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) error {
	var (
		since    int64
		hasSince bool
	)
	q := r.URL.Query()
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return optimum.Invalid("The stream parameters have errors.", []optimum.FieldError{{Field: "since", Message: "must be an event id (a whole number, 0 or more)"}})
		}
		since, hasSince = n, true
	}
	if hasSince {
		// A since beyond the log would give a stream that never receives anything (every
		// event until then counts as seen): say so, with the id to resume from.
		head, err := s.Hub.Head(r.Context())
		if err != nil {
			return err
		}
		if since > head {
			return optimum.Invalid(fmt.Sprintf("The stream cannot resume after event %d: the newest event is %d.", since, head),
				[]optimum.FieldError{{Field: "since", Message: fmt.Sprintf("is beyond the newest event, %d", head)}})
		}
	}
	if v := q.Get("v"); v != "" && v != "1" {
		s.Hub.Refuse(w, r, ws.CloseBadRequest, fmt.Sprintf("protocol version %.20q is not supported; this server speaks version 1", v))
		return nil
	}
	actor, _ := optimum.ActorFrom(r.Context())
	max := s.Config.Stream.MaxPerToken
	if strings.HasPrefix(actor.ID, "usr_") {
		max = s.Config.Stream.MaxPerUser
	}
	err := s.Hub.ServeStream(w, r, ws.Stream{Actor: actor, Since: since, HasSince: hasSince, MaxPerActor: max, Recheck: s.streamRecheck(r)})
	if err != nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "The server is shutting down; try again.")
	}
	return nil
}

// streamRecheck returns how the stream authenticates its credentials again, later: the
// same credentials authenticate found on r (header, then cookie, then ?token=), kept
// without the request itself, which would cost every idle stream its memory.
func (s *Server) streamRecheck(r *http.Request) func(context.Context) (optimum.Role, bool, error) {
	var check func(context.Context) (optimum.Actor, error)
	if h := r.Header.Get("Authorization"); h != "" {
		_, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		check = func(ctx context.Context) (optimum.Actor, error) { return s.Auth.Authenticate(ctx, token) }
	} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		session := c.Value
		check = func(ctx context.Context) (optimum.Actor, error) { return s.Auth.Session(ctx, session) }
	} else if t := r.URL.Query().Get("token"); t != "" {
		check = func(ctx context.Context) (optimum.Actor, error) { return s.Auth.Authenticate(ctx, t) }
	} else {
		return nil
	}
	return func(ctx context.Context) (optimum.Role, bool, error) {
		a, err := check(ctx)
		if optimum.ErrorCode(err) == optimum.EUNAUTHORIZED {
			return "", false, nil
		} else if err != nil {
			return "", false, err
		}
		return a.Role, true, nil
	}
}

// StreamAudience says who sees an event on the stream: incident events go to responders
// and above, and to the reporter who declared the incident; accounts (users, tokens) to
// admins; every other event (the directory) to managers and above.
func StreamAudience(e optimum.Event) (optimum.Role, string) {
	switch {
	case strings.HasPrefix(e.Type, "user.") || strings.HasPrefix(e.Type, "token."):
		return optimum.RoleAdmin, ""
	case strings.HasPrefix(e.Type, "proposal.") || strings.HasPrefix(e.Type, "integration."):
		return optimum.RoleResponder, "" // responders decide on proposals from the board
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

// StreamAccess says what an event changes of who may keep a stream open: a revoked token
// (and the browser sessions opened with it) and a disabled user lose their streams; a
// user whose role changed sees from then on what the new role sees; a user whose password
// changed keeps only the streams of the sessions that survived it.
func StreamAccess(e optimum.Event) (actorID string, role optimum.Role, ended bool) {
	switch e.Type {
	case auth.EventTokenRevoked:
		var d struct {
			Token string `json:"token"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.Token != "" {
			return d.Token, "", true
		}
	case auth.EventUserPasswordChanged:
		// The user's other sessions ended: each stream checks its own credentials.
		var d struct {
			User string `json:"user"`
		}
		if json.Unmarshal(e.Data, &d) == nil && d.User != "" {
			return d.User, "", false
		}
	case auth.EventUserDisabled, auth.EventUserUpdated:
		var d struct {
			User struct {
				ID   string       `json:"id"`
				Role optimum.Role `json:"role"`
			} `json:"user"`
		}
		if json.Unmarshal(e.Data, &d) != nil || d.User.ID == "" {
			return "", "", false
		}
		if e.Type == auth.EventUserDisabled {
			return d.User.ID, "", true
		}
		return d.User.ID, d.User.Role, false
	}
	return "", "", false
}
