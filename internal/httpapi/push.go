package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// WebPush is what the web push routes need. Server.Push nil turns them off: they answer
// 503, and the web app does not offer notifications.
type WebPush struct {
	// PublicKey is the VAPID public key (base64url) browsers subscribe with as their
	// applicationServerKey.
	PublicKey string
	// Browsers keeps each person's subscribed browsers (store.Push).
	Browsers PushBrowsers
	// Sender sends the test push (webpush.Sender).
	Sender broadcast.Sender
	// Now is the clock of the delivery times recorded; default time.Now.
	Now func() time.Time
}

// PushBrowsers keeps people's subscribed browsers. Changes append push.subscribed and
// push.unsubscribed events.
type PushBrowsers interface {
	// Save subscribes the browser for the person (moving it from whoever had it);
	// created is false when the person had it already.
	Save(ctx context.Context, personID string, sub webpush.Subscription, userAgent string) (b webpush.Browser, created bool, err error)
	// Delete and DeleteID remove one of the person's browsers, reporting whether it was.
	Delete(ctx context.Context, personID, endpoint string) (bool, error)
	DeleteID(ctx context.Context, personID, id string) (bool, error)
	// DeleteEndpoint removes a subscription whose push service answered 404 or 410.
	DeleteEndpoint(ctx context.Context, endpoint string) (bool, error)
	ForPerson(ctx context.Context, personID string) ([]webpush.Browser, error)
	MarkSent(ctx context.Context, endpoint string, at time.Time) error
	MarkFailed(ctx context.Context, endpoint string, at time.Time) error
}

// pushBrowser is a subscribed browser as the API shows it: never the endpoint (a
// capability to push to the browser) or its keys, only the push service's host.
type pushBrowser struct {
	ID            string     `json:"id"`
	EndpointHost  string     `json:"endpoint_host"`
	UserAgent     string     `json:"user_agent"`
	CreatedAt     time.Time  `json:"created_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
	LastFailureAt *time.Time `json:"last_failure_at"`
}

func browserView(b webpush.Browser) pushBrowser {
	return pushBrowser{ID: b.ID, EndpointHost: b.Host(), UserAgent: b.UserAgent, CreatedAt: b.CreatedAt,
		LastSuccessAt: b.LastSuccessAt, LastFailureAt: b.LastFailureAt}
}

// pushOn returns the web push configuration, or a 503 problem when there is none.
func (s *Server) pushOn() (*WebPush, error) {
	if s.Push == nil || s.Push.Browsers == nil || s.Push.Sender == nil {
		return nil, optimum.Errorf(optimum.EUNAVAILABLE, "Web push notifications are not configured on this server.")
	}
	return s.Push, nil
}

// vapidPublicKey handles GET /api/v1/push/vapid-public-key: {"key": "<base64url>"}, the
// applicationServerKey for pushManager.subscribe.
func (s *Server) vapidPublicKey(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"key": p.PublicKey})
	return nil
}

// subscribePush handles POST /api/v1/push/subscriptions: the browser's PushSubscription
// JSON ({endpoint, expirationTime, keys: {p256dh, auth}}), for the caller's directory
// person. 201 when the browser is new to them, 200 when it was already theirs.
func (s *Server) subscribePush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	person, err := personOf(r)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := decode(w, r, &raw); err != nil {
		return err
	}
	sub, err := webpush.ParseSubscription(raw)
	if err != nil {
		return err
	}
	b, created, err := p.Browsers.Save(r.Context(), person, sub, r.UserAgent())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, browserView(b))
	return nil
}

// listPush handles GET /api/v1/push/subscriptions: the caller's browsers.
func (s *Server) listPush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	person, err := personOf(r)
	if err != nil {
		return err
	}
	bs, err := p.Browsers.ForPerson(r.Context(), person)
	if err != nil {
		return err
	}
	out := make([]pushBrowser, len(bs))
	for i, b := range bs {
		out[i] = browserView(b)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// unsubscribePush handles DELETE /api/v1/push/subscriptions with {"endpoint": "…"} (the
// whole PushSubscription JSON is accepted too): 204 whether or not the caller had it, so
// a browser can always clean up.
func (s *Server) unsubscribePush(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	person, err := personOf(r)
	if err != nil {
		return err
	}
	var in struct {
		Endpoint       string          `json:"endpoint"`
		ExpirationTime json.RawMessage `json:"expirationTime"`
		Keys           json.RawMessage `json:"keys"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Endpoint) == "" {
		return optimum.Invalid("The unsubscription has errors.", []optimum.FieldError{{Field: "endpoint", Message: "is required: the endpoint of the browser's PushSubscription"}})
	}
	if _, err := p.Browsers.Delete(r.Context(), person, in.Endpoint); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unsubscribePushID handles DELETE /api/v1/push/subscriptions/{id}: one of the caller's
// browsers, from a list (a lost laptop).
func (s *Server) unsubscribePushID(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	person, err := personOf(r)
	if err != nil {
		return err
	}
	found, err := p.Browsers.DeleteID(r.Context(), person, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !found {
		return optimum.Errorf(optimum.ENOTFOUND, "You have no subscribed browser with the id %q.", truncateText(r.PathValue("id"), 60))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Test push texts, by language.
var testPush = map[string][2]string{
	"es": {"Prueba de OPTIMUM BCP", "Este navegador recibirá las alertas de crisis."},
	"en": {"OPTIMUM BCP test", "This browser will receive crisis alerts."},
}

// pushResult is the outcome of the test push to one browser.
type pushResult struct {
	pushBrowser
	// Status is "sent" (the push service accepted it), "gone" (the subscription expired
	// and was removed: subscribe again) or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Retryable says a failure may pass if tried again later.
	Retryable bool `json:"retryable,omitempty"`
}

// testPushes handles POST /api/v1/push/test: a notification to each of the caller's
// browsers now, so a person proves a browser works; each result is recorded on the
// subscription (last_success_at, last_failure_at) and expired ones are removed.
func (s *Server) testPushes(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pushOn()
	if err != nil {
		return err
	}
	person, err := personOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	browsers, err := p.Browsers.ForPerson(ctx, person)
	if err != nil {
		return err
	}
	if len(browsers) == 0 {
		return optimum.Errorf(optimum.ECONFLICT, "No browser of yours is subscribed to notifications yet; allow notifications in this browser first.")
	}
	lang := "es"
	if pp, err := s.Directory.Person(ctx, person); err == nil && pp.Language == "en" {
		lang = "en"
	}
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	text := testPush[lang]
	results := make([]pushResult, len(browsers))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, b := range browsers {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			m := broadcast.Message{
				DeliveryID: optimum.NewID("tst"), Attempt: 1, Channel: broadcast.ChannelWebPush, To: b.JSON(),
				Language: lang, Title: text[0], Text: text[1], URL: s.appURL(r), Topic: "optimum-test", TTL: 10 * time.Minute,
			}
			res := pushResult{pushBrowser: browserView(b), Status: "sent"}
			retryable, err := p.Sender.Send(ctx, m)
			at := now().UTC()
			switch {
			case err == nil:
				err = p.Browsers.MarkSent(ctx, b.Endpoint, at)
				res.LastSuccessAt = &at
			case errors.Is(err, broadcast.ErrGone):
				res.Status, res.Error = "gone", "The subscription expired at the push service and was removed; allow notifications again."
				_, err = p.Browsers.DeleteEndpoint(ctx, b.Endpoint)
			default:
				// The caller sees why in general terms only: the full error may name an
				// address the endpoint's host resolved to, or quote the service's answer.
				var (
					se      *webpush.StatusError
					refused *netguard.RefusedError
					detail  []any
				)
				if errors.As(err, &se) {
					detail = append(detail, "service_answer", se.Body)
				}
				if errors.As(err, &refused) {
					detail = append(detail, "refused_address", refused.Addr.String())
				}
				s.Logger.Warn("test push failed", append([]any{"subscription", b.ID, "host", b.Subscription.Host(),
					"err", strings.ReplaceAll(err.Error(), b.Endpoint, "https://"+b.Subscription.Host()+"/…")}, detail...)...)
				res.Status, res.Error, res.Retryable = "failed", translate(requestLang(r), pushFailure(err, retryable)), retryable
				err = p.Browsers.MarkFailed(ctx, b.Endpoint, at)
				res.LastFailureAt = &at
			}
			if err != nil && ctx.Err() == nil {
				s.Logger.Error("test push: recording the outcome", "subscription", b.ID, "err", err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	sent := 0
	for _, res := range results {
		if res.Status == "sent" {
			sent++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sent": sent, "results": results})
	return nil
}

// pushFailure says why a push failed without naming an address, a port or anything
// the push service answered but its status code (the guard makes sure only public
// services answer at all).
func pushFailure(err error, retryable bool) string {
	var se *webpush.StatusError
	switch {
	case errors.Is(err, netguard.ErrRefused):
		return "The endpoint is not a public push service; notifications are sent only to public ones over https."
	case errors.As(err, &se):
		return fmt.Sprintf("The push service refused the notification (HTTP %d).", se.StatusCode)
	case retryable:
		return "The push service could not be reached; try again later."
	}
	return "The notification could not be sent."
}

// appURL is the web app's address for links: the public URL when configured, else the
// address the request came to.
func (s *Server) appURL(r *http.Request) string {
	if u := strings.TrimSuffix(s.Config.Server.PublicURL, "/"); u != "" {
		return u + "/"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/"
}

func truncateText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
