package httpapi

import (
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// sessionCookie is the name of the web app's session cookie.
const sessionCookie = "optimum_session"

// require wraps h so that only actors with at least the role reach it. The actor is taken
// from the bearer token or the session cookie (and, for the stream only, ?token=).
func (s *Server) require(min optimum.Role, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.authenticate(r)
		if err != nil {
			writeError(w, r, s.Logger, err)
			return
		}
		if !actor.Role.AtLeast(min) {
			writeError(w, r, s.Logger, optimum.Errorf(optimum.EFORBIDDEN, "Your role (%s) may not do this; it needs %s or above.", actor.Role, min))
			return
		}
		h.ServeHTTP(w, r.WithContext(optimum.WithActor(r.Context(), actor)))
	})
}

func (s *Server) authenticate(r *http.Request) (optimum.Actor, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return optimum.Actor{}, optimum.Errorf(optimum.EUNAUTHORIZED, "The Authorization header must be \"Bearer <token>\".")
		}
		if a, ok := s.scimEnvToken(strings.TrimSpace(token)); ok { // scim.go
			return a, nil
		}
		return s.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
	}
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		return s.Auth.Session(r.Context(), c.Value)
	}
	if r.URL.Path == "/api/v1/stream" {
		if t := r.URL.Query().Get("token"); t != "" {
			return s.Auth.Authenticate(r.Context(), t)
		}
	}
	return optimum.Actor{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in or send \"Authorization: Bearer <token>\".")
}

// observe logs each API request (never its query, which may hold a token) and turns a
// panic into a 500 problem.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				writeError(w, r, s.Logger, optimum.Errorf(optimum.EINTERNAL, "internal error"))
			}
		}()
		// No answer of this server is ever to be read as another type than it says.
		w.Header().Set("X-Content-Type-Options", "nosniff")
		next.ServeHTTP(w, r)
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/hooks/") {
			s.Logger.Debug("request", "method", r.Method, "path", r.URL.Path, "took", time.Since(start))
		}
	})
}

// pageCSP is the policy of the server-rendered pages a person reaches by a link (sign-in
// link, set-password, one-tap acknowledgement, conformity): no script at all, styles
// from us (and the pages' own inline style), forms only to us, never inside a frame.
const pageCSP = "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securePage sets the headers of such a page before h runs; h may tighten them (the
// one-tap and conformity pages do, with linkPageHeaders).
func securePage(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", pageCSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}
