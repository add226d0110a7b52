package httpapi

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/dirsync"
	"github.com/optimum-bcp/optimum/internal/scim"
)

// SCIM 2.0 at /scim/v2 (internal/scim answers): the routes are in routes.go with the role
// scim, which only tokens have and which may call nothing else. Every error under /scim/
// (a missing token included) is written in SCIM's format.

// scimActor is the actor of a request authenticated by OPTIMUM_SCIM_TOKEN.
var scimActor = optimum.Actor{ID: "scim-env", Name: "SCIM (OPTIMUM_SCIM_TOKEN)", Role: optimum.RoleSCIM}

// scimEnvToken reports whether token is the configured OPTIMUM_SCIM_TOKEN.
func (s *Server) scimEnvToken(token string) (optimum.Actor, bool) {
	want := s.Config.SCIM.Token
	if want == "" || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return optimum.Actor{}, false
	}
	return scimActor, true
}

// scim serves a SCIM handler; the service is read at request time.
func (s *Server) scim(h scim.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.SCIM.Handle(h).ServeHTTP(w, r)
	})
}

func isSCIM(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/scim/") }

func writeSCIMError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if optimum.ErrorCode(err) == optimum.EINTERNAL {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	scim.WriteError(w, err)
}

// DirectorySyncer is the scheduled replace import (internal/dirsync).
type DirectorySyncer interface {
	Run(ctx context.Context, dryRun bool) dirsync.Result
	Last(ctx context.Context) (*dirsync.Result, error)
}

// directorySyncStatus handles GET /api/v1/directory/sync: whether the sync is on, and
// the last run (of any node).
func (s *Server) directorySyncStatus(w http.ResponseWriter, r *http.Request) error {
	body := map[string]any{"enabled": s.DirectorySync != nil, "last": nil}
	if s.DirectorySync != nil {
		ds := s.Config.DirectorySync
		body["schedule"], body["max_deactivate_percent"] = ds.Schedule, ds.MaxDeactivatePercent
		if u, err := url.Parse(ds.URL); err == nil {
			body["host"] = u.Host // the URL itself may carry a signature
		}
		last, err := s.DirectorySync.Last(r.Context())
		if err != nil {
			return err
		}
		if last != nil {
			body["last"] = last
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// runDirectorySync handles POST /api/v1/directory/sync[?dry_run=true]: a sync now, or
// what it would do. A refused or failed sync is 200 with its status: the request worked.
func (s *Server) runDirectorySync(w http.ResponseWriter, r *http.Request) error {
	if s.DirectorySync == nil {
		return optimum.Errorf(optimum.ENOTFOUND, "The directory sync is not configured (directory_sync.url).")
	}
	dry := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return optimum.Errorf(optimum.EINVALID, "dry_run must be true or false.")
		}
		dry = b
	}
	writeJSON(w, http.StatusOK, s.DirectorySync.Run(r.Context(), dry))
	return nil
}

// scimResources are the SCIM paths, for the answer to a method they do not have.
var scimResources = []string{"/scim/v2/Users", "/scim/v2/Users/{id}", "/scim/v2/Groups", "/scim/v2/Groups/{id}",
	"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas"}

var scimMethodNotAllowed = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	scim.WriteError(w, &scim.Error{Status: http.StatusMethodNotAllowed, Detail: "The method " + r.Method + " is not supported here."})
})
