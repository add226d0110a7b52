package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// maxBody is the largest JSON body any endpoint accepts.
const maxBody = 64 << 10

// requestError is a problem with the HTTP request itself (not its meaning): malformed
// JSON, a wrong content type, an oversized body.
type requestError struct {
	status int
	detail string
}

func (e *requestError) Error() string { return e.detail }

func badRequest(format string, args ...any) error {
	return &requestError{status: http.StatusBadRequest, detail: fmt.Sprintf(format, args...)}
}

// decode reads one JSON object into v: at most maxBody bytes, no unknown fields, nothing
// after it.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return &requestError{status: http.StatusUnsupportedMediaType, detail: "The body must be JSON (Content-Type: application/json)."}
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return badRequest("The body must hold a single JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		mbe    *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return &requestError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("The body is larger than %d KiB.", maxBody>>10)}
	case errors.As(err, &syntax):
		return badRequest("The body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The body is not valid JSON: it ends too early.")
	case errors.Is(err, io.EOF):
		return badRequest("The body is empty; a JSON object is expected.")
	case errors.As(err, &typ):
		if typ.Field != "" {
			return badRequest("The field %q must be a JSON %s.", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return badRequest("The body must be a JSON object.")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("The body has an unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("The body is not valid JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	}
	return "number"
}

// writeJSON writes v with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	// API answers hold people's data and change every moment: never cached, never sniffed.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// problem is an RFC 9457 problem detail, with the application's code and field errors.
type problem struct {
	Type   string               `json:"type"`
	Title  string               `json:"title"`
	Status int                  `json:"status"`
	Detail string               `json:"detail"`
	Code   string               `json:"code"`
	Errors []optimum.FieldError `json:"errors,omitempty"`
}

// statusOf maps an application error code to its HTTP status. It is the only such map.
var statusOf = map[string]int{
	optimum.EINVALID:      http.StatusUnprocessableEntity,
	optimum.ENOTFOUND:     http.StatusNotFound,
	optimum.ECONFLICT:     http.StatusConflict,
	optimum.EUNAUTHORIZED: http.StatusUnauthorized,
	optimum.EFORBIDDEN:    http.StatusForbidden,
	optimum.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	optimum.ERATELIMITED:  http.StatusTooManyRequests,
	optimum.EUNAVAILABLE:  http.StatusServiceUnavailable,
	optimum.EINTERNAL:     http.StatusInternalServerError,
}

// writeError answers with the problem+json of err. Internal errors are logged here, once,
// and shown to the caller only as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if isSCIM(r) { // SCIM clients read SCIM's error format, not problem+json (scim.go)
		writeSCIMError(w, r, log, err)
		return
	}
	p := problem{Type: "about:blank"}
	var re *requestError
	if errors.As(err, &re) {
		p.Status, p.Detail, p.Code = re.status, re.detail, "bad_request"
	} else {
		p.Code = optimum.ErrorCode(err)
		p.Status = statusOf[p.Code]
		if p.Status == 0 {
			p.Status = http.StatusInternalServerError
		}
		p.Detail, p.Errors = optimum.ErrorMessage(err), optimum.ErrorFields(err)
	}
	if p.Status >= 500 {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.localize(requestLang(r)) // title, detail and field messages in the caller's language (i18n.go)
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="optimum"`)
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Add("Vary", "Accept-Language")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(p)
}

// writeProblemFor answers a problem+json with extra members, for errors that carry a
// report (an import's rows), in the language r asks for (i18n.go); a nil r is English.
func writeProblemFor(w http.ResponseWriter, r *http.Request, status int, code, detail string, extra map[string]any) {
	lang := requestLang(r)
	body := map[string]any{"type": "about:blank", "title": problemTitle(lang, status), "status": status, "detail": translate(lang, detail), "code": code}
	for k, v := range extra {
		body[k] = localizeExtra(lang, v)
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Add("Vary", "Accept-Language")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
