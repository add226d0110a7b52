package httpapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/alerts"
)

// Alerts coming in from monitoring (alerts/, docs/integrations.md): Alertmanager's
// webhook with a token of the integration role, and a generic JSON webhook signed as
// Standard Webhooks say. Both make proposals; responders confirm or dismiss them.

// amPayload is Alertmanager's webhook payload, version 4.
type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		EndsAt       time.Time         `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	} `json:"alerts"`
}

// maxIntegrationBody bounds a notification (Alertmanager sends a few KB per alert).
const maxIntegrationBody = 1 << 20

// readIntegration reads a JSON notification body.
func readIntegration(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return nil, &requestError{status: http.StatusUnsupportedMediaType, detail: "The body must be JSON (Content-Type: application/json)."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxIntegrationBody))
	if err != nil {
		return nil, decodeError(err)
	}
	return body, nil
}

// alertmanager handles POST /api/v1/integrations/alertmanager.
func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request) error {
	body, err := readIntegration(w, r)
	if err != nil {
		return s.refuse(r, alerts.SourceAlertmanager, err)
	}
	var p amPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return s.refuse(r, alerts.SourceAlertmanager, badRequest("The body is not an Alertmanager notification."))
	}
	var f []optimum.FieldError
	if p.Version != "4" {
		f = append(f, optimum.FieldError{Field: "version", Message: fmt.Sprintf("is %q; only version 4 of Alertmanager's webhook is understood", truncateText(p.Version, 20))})
	}
	if p.GroupKey == "" || len(p.GroupKey) > 1000 {
		f = append(f, optimum.FieldError{Field: "groupKey", Message: "is required, at most 1000 characters"})
	}
	if len(p.Alerts) == 0 || len(p.Alerts) > alerts.MaxAlerts {
		f = append(f, optimum.FieldError{Field: "alerts", Message: fmt.Sprintf("must hold from 1 to %d alerts", alerts.MaxAlerts)})
	}
	if err := optimum.Invalid("The Alertmanager notification has errors.", f); err != nil {
		return s.refuse(r, alerts.SourceAlertmanager, err)
	}
	n := alerts.Notification{Source: alerts.SourceAlertmanager, GroupKey: p.GroupKey, Status: p.Status, ExternalURL: p.ExternalURL,
		Labels: p.CommonLabels, AlertName: firstOf(p.CommonLabels["alertname"], p.GroupLabels["alertname"], p.Alerts[0].Labels["alertname"]),
		Severity: firstOf(p.CommonLabels["severity"], p.Alerts[0].Labels["severity"])}
	n.Title = firstOf(p.CommonAnnotations["summary"], p.CommonAnnotations["title"], p.Alerts[0].Annotations["summary"], n.AlertName, "Alerta de monitoreo")
	n.Description = firstOf(p.CommonAnnotations["description"], p.Alerts[0].Annotations["description"])
	for _, a := range p.Alerts {
		al := alerts.Alert{Fingerprint: a.Fingerprint, Status: a.Status, Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.StartsAt.UTC(), GeneratorURL: a.GeneratorURL}
		if al.Fingerprint == "" {
			al.Fingerprint = a.StartsAt.UTC().Format(time.RFC3339Nano) // older senders: one alert per start
		}
		if !a.EndsAt.IsZero() && a.EndsAt.Year() > 1 {
			t := a.EndsAt.UTC()
			al.EndsAt = &t
		}
		n.Alerts = append(n.Alerts, al)
	}
	prop, err := s.Alerts.Receive(r.Context(), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, prop)
	return nil
}

// webhookPayload is the generic webhook's notification.
type webhookPayload struct {
	Key         string            `json:"key"`
	Status      string            `json:"status"` // firing (default) or resolved
	Title       string            `json:"title"`
	Description string            `json:"description"`
	Severity    string            `json:"severity"`
	Name        string            `json:"name"` // the alert's name, for rules
	Labels      map[string]string `json:"labels"`
	URL         string            `json:"url"`
}

// webhookTolerance is how far a signed webhook's timestamp may be from now.
const webhookTolerance = 5 * time.Minute

// genericWebhook handles POST /api/v1/integrations/webhook: a JSON notification signed
// with the configured secret (Standard Webhooks: webhook-id, webhook-timestamp,
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>"). A retry with the same
// webhook-id gets the first answer and changes nothing.
func (s *Server) genericWebhook(w http.ResponseWriter, r *http.Request) error {
	secret := s.Config.Integrations.WebhookSecret
	if secret == "" {
		return optimum.Errorf(optimum.ENOTFOUND, "The generic webhook is not configured (integrations.webhook_secret).")
	}
	body, err := readIntegration(w, r)
	if err != nil {
		return s.refuse(r, alerts.SourceWebhook, err)
	}
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	if err := verifyStandardWebhook(secret, id, ts, r.Header.Get("webhook-signature"), body, s.authNow()); err != nil {
		return s.refuse(r, alerts.SourceWebhook, err)
	}
	k := "integration:" + id
	status, ctype, answer, first, err := s.Webhooks.ClaimWebhook(r.Context(), k, s.authNow(), webhookStale)
	if err != nil {
		return err
	}
	if !first {
		if status == 0 {
			w.Header().Set("Retry-After", "1")
			return optimum.Errorf(optimum.EUNAVAILABLE, "This request is being processed; try again in a moment.")
		}
		writeWebhook(w, twiml{status, ctype, answer})
		return nil
	}
	prop, err := s.receiveWebhook(r, body)
	if err != nil {
		if rerr := s.Webhooks.ReleaseWebhook(r.Context(), k); rerr != nil {
			s.Logger.Error("releasing a failed integration webhook", "key", k, "err", rerr)
		}
		return err
	}
	out, _ := json.Marshal(prop)
	if err := s.Webhooks.FinishWebhook(r.Context(), k, http.StatusOK, "application/json; charset=utf-8", string(out)+"\n", s.authNow()); err != nil {
		s.Logger.Error("recording an integration webhook's answer", "key", k, "err", err)
	}
	writeJSON(w, http.StatusOK, prop)
	return nil
}

func (s *Server) receiveWebhook(r *http.Request, body []byte) (alerts.Proposal, error) {
	var p webhookPayload
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return alerts.Proposal{}, s.refuse(r, alerts.SourceWebhook, decodeError(err))
	}
	var f []optimum.FieldError
	if p.Key == "" || len(p.Key) > 1000 {
		f = append(f, optimum.FieldError{Field: "key", Message: "is required, at most 1000 characters"})
	}
	if strings.TrimSpace(p.Title) == "" || len(p.Title) > 500 {
		f = append(f, optimum.FieldError{Field: "title", Message: "is required, at most 500 characters"})
	}
	if p.Status != "" && p.Status != "firing" && p.Status != "resolved" {
		f = append(f, optimum.FieldError{Field: "status", Message: "must be firing or resolved"})
	}
	if err := optimum.Invalid("The webhook notification has errors.", f); err != nil {
		return alerts.Proposal{}, s.refuse(r, alerts.SourceWebhook, err)
	}
	status := firstOf(p.Status, "firing")
	now := s.authNow().UTC()
	a := alerts.Alert{Fingerprint: p.Key, Status: status, Labels: p.Labels, StartsAt: now, GeneratorURL: p.URL}
	n := alerts.Notification{Source: alerts.SourceWebhook, GroupKey: p.Key, Status: status, Title: p.Title, Description: p.Description,
		Severity: p.Severity, AlertName: firstOf(p.Name, p.Labels["alertname"]), Labels: p.Labels, Alerts: []alerts.Alert{a}, ExternalURL: p.URL}
	return s.Alerts.Receive(r.Context(), n)
}

// verifyStandardWebhook checks a Standard Webhooks signature.
func verifyStandardWebhook(secret, id, ts, signatures string, body []byte, now time.Time) error {
	if id == "" || len(id) > 200 || ts == "" || signatures == "" {
		return optimum.Errorf(optimum.EUNAUTHORIZED, "The webhook is not signed: webhook-id, webhook-timestamp and webhook-signature are required.")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return optimum.Errorf(optimum.EUNAUTHORIZED, "The webhook's timestamp is not a number of seconds.")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > webhookTolerance || d < -webhookTolerance {
		return optimum.Errorf(optimum.EUNAUTHORIZED, "The webhook's timestamp is more than 5 minutes away: a replay, or a wrong clock.")
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("integrations.webhook_secret is not base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(signatures) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return optimum.Errorf(optimum.EUNAUTHORIZED, "No signature of the webhook matches the configured secret.")
}

// refuse records a refused notification on the audit record and returns err.
func (s *Server) refuse(r *http.Request, source string, err error) error {
	if s.Alerts != nil {
		if rerr := s.Alerts.Refused(r.Context(), source, optimum.ErrorMessage(err), s.clientAddr(r).String()); rerr != nil {
			s.Logger.Error("recording a refused notification", "source", source, "err", rerr)
		}
	}
	return err
}

// proposals handles GET /api/v1/proposals?status=open|confirmed|dismissed|all.
func (s *Server) proposals(w http.ResponseWriter, r *http.Request) error {
	var p queryProblems
	q := r.URL.Query()
	for k := range q {
		if k != "status" {
			p.add(k, "is not a parameter of the proposals (status)")
		}
	}
	status := q.Get("status")
	switch status {
	case "":
		status = alerts.StatusOpen
	case "all":
		status = ""
	case alerts.StatusOpen, alerts.StatusConfirmed, alerts.StatusDismissed:
	default:
		p.add("status", "must be open, confirmed, dismissed or all")
	}
	if err := p.err("The proposals query has errors."); err != nil {
		return err
	}
	ps, err := s.Alerts.List(r.Context(), status, 200)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ps)
	return nil
}

// proposal handles GET /api/v1/proposals/{id}.
func (s *Server) proposal(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Alerts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// confirmProposal handles POST /api/v1/proposals/{id}/confirm {title?, impact?, urgency?, teams?}.
func (s *Server) confirmProposal(w http.ResponseWriter, r *http.Request) error {
	var c alerts.Confirmation
	if r.ContentLength != 0 {
		if err := decode(w, r, &c); err != nil {
			return err
		}
	}
	p, err := s.Alerts.Confirm(r.Context(), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// dismissProposal handles POST /api/v1/proposals/{id}/dismiss {reason}.
func (s *Server) dismissProposal(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	p, err := s.Alerts.Dismiss(r.Context(), r.PathValue("id"), body.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// clientAddr is the client's address, behind the trusted proxies.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	proxies, _ := s.Config.Limits.Proxies() // Validate has checked them
	return clientIP(r, proxies)
}

// refusedCredentials records a notification refused before its handler for its
// credentials (no token, a wrong one, one of another role), with the client's address.
func (s *Server) refusedCredentials(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &guessStatusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		if (sw.status == http.StatusUnauthorized || sw.status == http.StatusForbidden) && s.Alerts != nil {
			reason := "no valid integration token (401)"
			if sw.status == http.StatusForbidden {
				reason = "a token of another role (403)"
			}
			if err := s.Alerts.Refused(context.WithoutCancel(r.Context()), r.URL.Path, reason, s.clientAddr(r).String()); err != nil {
				s.Logger.Error("recording a refused notification", "path", r.URL.Path, "err", err)
			}
		}
	})
}
