// Package scim is the directory's SCIM 2.0 service provider (RFC 7643 and 7644) under
// /scim/v2: an identity provider (Entra ID, Okta) creates, updates and deactivates people
// (Users) and teams (Groups) through it. Every change goes through contacts.Directory, so
// the directory's rules (one email per person, E.164 phones held by one active person,
// managers without cycles) apply and each change is an event in the log. Deprovisioning
// deactivates a person; nobody is ever deleted, so their history stays.
//
// The routes are listed in internal/httpapi/routes.go, which authenticates the caller (a
// token of role scim, or OPTIMUM_SCIM_TOKEN); this package answers and writes its errors
// in SCIM's format (urn:ietf:params:scim:api:messages:2.0:Error).
package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// ContentType is the media type of SCIM requests and answers.
const ContentType = "application/scim+json"

// URNs of the schemas and messages used.
const (
	UserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// OptimumSchema is our User extension: the person's sites (docs/scim.md, "Sites").
	OptimumSchema = "urn:ietf:params:scim:schemas:extension:optimum:2.0:User"
	GroupSchema   = "urn:ietf:params:scim:schemas:core:2.0:Group"
	ListSchema    = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchSchema   = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	ErrorSchema   = "urn:ietf:params:scim:api:messages:2.0:Error"
)

// Limits of a request.
const (
	maxBody      = 4 << 20 // a group PUT lists every member
	defaultCount = 100
	maxCount     = 1000
)

// Service answers the SCIM routes.
type Service struct {
	Directory *contacts.Directory
	// BaseURL is the public URL of /scim/v2 (meta.location); empty means the request's host.
	BaseURL string
	// Language is given to people whose preferredLanguage is neither Spanish nor English.
	Language string
	Logger   *slog.Logger // internal errors; nil logs nothing
}

// Error is a SCIM error: the status and, for 400 and 409, the scimType.
type Error struct {
	Status int
	Type   string // invalidFilter, invalidSyntax, invalidValue, invalidPath, uniqueness, mutability, noTarget, tooMany
	Detail string
}

func (e *Error) Error() string { return e.Detail }

func errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Detail: fmt.Sprintf(format, args...)}
}

// WriteError writes err in SCIM's error format. Errors of the directory are mapped:
// invalid → 400 invalidValue (409 uniqueness when a field is already someone's),
// conflict → 409 uniqueness, not found → 404, unauthorized → 401, forbidden → 403.
func WriteError(w http.ResponseWriter, err error) {
	var se *Error
	if !errors.As(err, &se) {
		se = fromDirectory(err)
	}
	body := map[string]any{"schemas": []string{ErrorSchema}, "status": fmt.Sprint(se.Status), "detail": se.Detail}
	if se.Type != "" {
		body["scimType"] = se.Type
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="optimum-scim"`)
	}
	writeJSON(w, se.Status, body)
}

func fromDirectory(err error) *Error {
	msg := optimum.ErrorMessage(err)
	fields := optimum.ErrorFields(err)
	uniqueness := false
	for _, f := range fields {
		msg += " " + f.Field + ": " + f.Message + "."
		if strings.Contains(f.Message, "already belongs") {
			uniqueness = true
		}
	}
	switch optimum.ErrorCode(err) {
	case optimum.EINVALID:
		if uniqueness {
			return &Error{Status: http.StatusConflict, Type: "uniqueness", Detail: msg}
		}
		return &Error{Status: http.StatusBadRequest, Type: "invalidValue", Detail: msg}
	case optimum.ECONFLICT:
		return &Error{Status: http.StatusConflict, Type: "uniqueness", Detail: msg}
	case optimum.ENOTFOUND:
		return &Error{Status: http.StatusNotFound, Detail: msg}
	case optimum.EUNAUTHORIZED:
		return &Error{Status: http.StatusUnauthorized, Detail: msg}
	case optimum.EFORBIDDEN:
		return &Error{Status: http.StatusForbidden, Detail: msg}
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error"}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", ContentType+"; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// readBody decodes a JSON object, numbers kept as json.Number.
func readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "", "The request body is larger than %d bytes.", maxBody)
		}
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The request body could not be read.")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The request body is not valid JSON: %v.", err)
	}
	if dec.More() {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The request body has more than one JSON value.")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(http.StatusBadRequest, "invalidSyntax", "The request body must be a JSON object.")
	}
	return m, nil
}

// base is the URL of /scim/v2 as the caller sees it.
func (s *Service) base(r *http.Request) string {
	if s.BaseURL != "" {
		return strings.TrimRight(s.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}

// HandlerFunc is a SCIM handler that returns its error.
type HandlerFunc func(s *Service, w http.ResponseWriter, r *http.Request) error

// Handle returns h as an http.Handler that writes h's error in SCIM's format; with a nil
// service (SCIM off) every request is 404.
func (s *Service) Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s == nil {
			WriteError(w, errorf(http.StatusNotFound, "", "SCIM is not enabled on this server."))
			return
		}
		if err := h(s, w, r); err != nil {
			if optimum.ErrorCode(err) == optimum.EINTERNAL && !errors.As(err, new(*Error)) && s.Logger != nil {
				s.Logger.Error("scim request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			WriteError(w, err)
		}
	})
}
