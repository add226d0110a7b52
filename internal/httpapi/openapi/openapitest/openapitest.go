// Package openapitest checks HTTP traffic against the API's OpenAPI description
// (internal/httpapi/openapi), for the tests that call the API: wrap the server's handler
// with Handler and every request to a route, and its answer, is validated.
package openapitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/optimum-bcp/optimum/internal/httpapi/openapi"
)

// The API tests check every request they send and every answer they get against the
// OpenAPI description (internal/httpapi/openapi): internal/httpapi's newTestAPI and
// cmd/optimum's startServer serve the handler behind Handler, below. The rules:
//
//   - a request reaching a route of Routes() must be found in the description (path and
//     method), else the test fails;
//   - a request the description refuses (a missing field, a wrong type, no credentials)
//     must be refused by the server too, with a 4xx: tests of bad input send such requests
//     on purpose, and the server answering them 2xx or 5xx means the two disagree;
//   - every answer must match the description: its status (or the operation's default),
//     its content type, its headers and its body's schema; a problem's status member
//     must be the answer's status.
//
// Bodies are validated for every content type the API uses: JSON and problem+json by
// schema, YAML and form posts by kin-openapi's decoders, CSV as well-formed CSV (lines of
// any length: sectionedCSV), and HTML, Markdown, vCard, TwiML (XML) and Prometheus text
// as strings (registered below). Not validated: the frames of a websocket connection
// (after the 101 the connection is no longer HTTP); its upgrade request is.

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

// textTypes are answered as text whose schema is a string: kin-openapi has no decoder
// for them, so they get its plain-text one.
var textTypes = []string{"text/html", "text/markdown", "text/vcard", "text/xml", "application/xml", "message/rfc822"}

// Description loads the merged description once, validates it as an OpenAPI 3.1
// document and builds its router; an invalid description fails t.
func Description(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		for _, ct := range textTypes {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		openapi3filter.RegisterBodyDecoder("text/csv", sectionedCSV)
		data, err := openapi.JSON()
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(data)
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specErr = err
			return
		}
		specDoc = doc
		specRouter, specErr = gorillamux.NewRouter(doc)
	})
	if specErr != nil {
		t.Fatalf("the OpenAPI description: %v", specErr)
	}
	return specDoc, specRouter
}

// Handler serves next, checking each request that matches one of the route patterns
// (httpapi.Server.Routes) and its answer against the description; a disagreement fails
// t. Requests matching no pattern (the web app's files, the API's 404) pass unchecked.
func Handler(t testing.TB, patterns []string, next http.Handler) http.Handler {
	_, router := Description(t)
	routed := http.NewServeMux()
	for _, p := range patterns {
		routed.Handle(p, http.NotFoundHandler())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := routed.Handler(r); pattern == "" {
			next.ServeHTTP(w, r) // the web app's files and the API's 404: not routes of Routes()
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("%s %s: reading the request: %v", r.Method, r.URL.Path, err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		check := r.Clone(r.Context())
		check.Body = io.NopCloser(bytes.NewReader(body))
		route, params, err := router.FindRoute(check)
		if err != nil {
			t.Errorf("%s %s is routed but not in the OpenAPI description: %v", r.Method, r.URL.Path, err)
			next.ServeHTTP(w, r)
			return
		}
		in := &openapi3filter.RequestValidationInput{
			Request: check, PathParams: params, Route: route,
			Options: &openapi3filter.Options{
				IncludeResponseStatus: true,
				SkipSettingDefaults:   true,
				AuthenticationFunc:    credentialsPresent,
			},
		}
		reqErr := openapi3filter.ValidateRequest(r.Context(), in)

		rec := &recorder{ResponseWriter: w, onHijack: func() {
			// Said at the upgrade, while the test runs: a stream's handler may return
			// only after the test's end.
			if reqErr != nil {
				t.Errorf("%s %s: the description refuses the request but the server switched protocols: %v", r.Method, r.URL.Path, reqErr)
			}
		}}
		next.ServeHTTP(rec, r)
		if rec.hijacked {
			return // a websocket: no HTTP answer to check
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if reqErr != nil && (status < 400 || status >= 500) {
			t.Errorf("%s %s: the description refuses the request but the server answered %d: %v", r.Method, r.URL.Path, status, reqErr)
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: status, Header: rec.Header(), Options: in.Options,
		}
		out.SetBodyBytes(rec.body.Bytes())
		if err := openapi3filter.ValidateResponse(r.Context(), out); err != nil {
			t.Errorf("%s %s: the answer %d does not match the OpenAPI description: %v\nbody: %.400s", r.Method, r.URL.Path, status, err, rec.body.Bytes())
		}
		// A problem's status member is the answer's status (RFC 9457, 3.1.2).
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/problem+json") {
			var p struct{ Status int }
			if json.Unmarshal(rec.body.Bytes(), &p) == nil && p.Status != status {
				t.Errorf("%s %s: the answer %d is a problem whose status is %d", r.Method, r.URL.Path, status, p.Status)
			}
		}
	})
}

// sectionedCSV reads a CSV body as kin-openapi's own decoder does, except that its lines
// may have different numbers of fields (a drill report has sections): it must still be
// well-formed CSV (quotes closed), and is validated as a string.
func sectionedCSV(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	if _, err := cr.ReadAll(); err != nil {
		return nil, err
	}
	return string(data), nil
}

// credentialsPresent checks that a request carries the credential a security scheme
// names. Whether the credential is good is the server's business (authz_test.go); the
// description only says where it goes.
func credentialsPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	sc := in.SecurityScheme
	switch {
	case sc.Type == "http" && strings.EqualFold(sc.Scheme, "bearer"):
		if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") && tok != "" {
			return nil
		}
	case sc.Type == "apiKey" && sc.In == "cookie":
		if c, err := r.Cookie(sc.Name); err == nil && c.Value != "" {
			return nil
		}
	case sc.Type == "apiKey" && sc.In == "query":
		if r.URL.Query().Get(sc.Name) != "" {
			return nil
		}
	case sc.Type == "apiKey" && sc.In == "header":
		if r.Header.Get(sc.Name) != "" {
			return nil
		}
	}
	return in.NewError(errors.New("no " + in.SecuritySchemeName + " credential"))
}

// recorder passes an answer through while keeping a copy of its status and body, and
// lets the websocket upgrade take the connection over.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
	onHijack func()
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("the connection cannot be taken over")
	}
	r.hijacked = true
	r.onHijack()
	return h.Hijack()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
