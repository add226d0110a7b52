package twilio

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// transport is the http.RoundTripper of one request made through twilio-go. It gives the
// library what it lacks:
//
//   - a base URL: with base set, the request goes to base's scheme and host (and under its
//     path) instead of api.twilio.com, which is how tests reach a local fake;
//   - a context: twilio-go builds requests with context.Background(), so the request is
//     re-bound to ctx, the caller's, and a cancelled send stops at once;
//   - the response headers of errors, which twilio-go drops: the status and Retry-After
//     are kept in ex;
//   - closing error bodies: twilio-go decodes an error body but never closes it, which
//     would leak the connection; the body is read here (at most 64 KiB), closed, and
//     handed on from memory.
type transport struct {
	ctx  context.Context
	base *url.URL
	next http.RoundTripper
	ex   *exchange
}

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(t.ctx)
	if t.base != nil {
		out.URL.Scheme = t.base.Scheme
		out.URL.Host = t.base.Host
		if p := strings.TrimRight(t.base.Path, "/"); p != "" {
			out.URL.Path = p + out.URL.Path
			out.URL.RawPath = ""
		}
		out.Host = ""
	}
	res, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	t.ex.status = res.StatusCode
	if d, ok := parseRetryAfter(res.Header.Get("Retry-After"), time.Now()); ok {
		t.ex.retryAfter, t.ex.hasRetry = d, true
	}
	if res.StatusCode < 200 || res.StatusCode >= 400 {
		body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		res.Body.Close()
		res.Body = io.NopCloser(bytes.NewReader(body))
		res.ContentLength = int64(len(body))
	}
	return res, nil
}
