package httpapi

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
)

// Webhooks is what Twilio's callbacks need besides the escalation inbound service.
type Webhooks interface {
	// ClaimWebhook claims the request with Twilio's key; first is false when it was
	// processed before (status and the answer given then) or is being processed (status
	// 0). A claim older than stale is taken over.
	ClaimWebhook(ctx context.Context, key string, now time.Time, stale time.Duration) (status int, contentType, body string, first bool, err error)
	// FinishWebhook records the answer to a claimed request.
	FinishWebhook(ctx context.Context, key string, status int, contentType, body string, at time.Time) error
	// ReleaseWebhook forgets a claim whose request failed, so that a retry is processed.
	ReleaseWebhook(ctx context.Context, key string) error
	// ProviderUpdate records a status callback, moving the delivery only forward.
	ProviderUpdate(ctx context.Context, id, providerID, status, errText string, at time.Time, later func(old, new string) bool) (string, bool, error)
}

// webhookStale is how long a claimed webhook request may be in processing before another
// try takes it over (the node that claimed it died).
const webhookStale = time.Minute

// webhookBase is OPTIMUM_PUBLIC_URL without a trailing slash, as Twilio's signatures and
// the links want it: "https://bcp.example.com/" and "https://bcp.example.com" are the
// same server.
func (s *Server) webhookBase() string { return strings.TrimRight(s.Config.Server.PublicURL, "/") }

// twilioForm checks a Twilio webhook's X-Twilio-Signature over OPTIMUM_PUBLIC_URL + the
// request URI and the form. A forged request is 403 and changes nothing; a client that
// sends many gets 429 (limits.webhook_forged_per_client). A signed request is never
// limited: every one of them comes from Twilio's few addresses.
func (s *Server) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	forbidden := optimum.Errorf(optimum.EFORBIDDEN, "The request is not signed by Twilio for this server.")
	refuse := func() error {
		if s.limits != nil {
			if err := s.limits.check(w, s.limits.webhookForged, clientKey(clientIP(r, s.limits.proxies))); err != nil {
				return err
			}
		}
		return forbidden
	}
	if s.Config.Twilio.AuthToken == "" || s.Config.Server.PublicURL == "" {
		return nil, forbidden
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("The body could not be read.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("The body is not a form.")
	}
	full := s.webhookBase() + r.URL.RequestURI()
	sig := r.Header.Get(twilio.SignatureHeader)
	if sig == "" || !twilio.ValidSignature(s.Config.Twilio.AuthToken, full, form, sig) {
		return nil, refuse()
	}
	return form, nil
}

// twiml is the answer of a webhook, recorded with its key so that a replay or a retry of
// the same request gets it again.
type twiml struct {
	status      int
	contentType string
	body        string
}

// twilioHook serves a Twilio webhook once per Twilio id. key names the request by
// Twilio's own ids (never by its bytes, which a replay can re-encode); h processes it. A
// request seen before gets the answer recorded then and changes nothing; a request
// that failed leaves nothing recorded, so Twilio's retry is processed.
func (s *Server) twilioHook(key func(r *http.Request, form url.Values) string, h func(r *http.Request, form url.Values) (twiml, error)) handlerFunc {
	return s.providerHook(s.twilioForm, key, h, "Twilio", "MessageSid or CallSid")
}

// providerHook serves a provider's webhook once per provider id: read checks the
// request's signature and returns its parameters, key names it (never by its bytes),
// h processes it. provider and ids name the provider and its id fields for the answer
// to a request without an id.
func (s *Server) providerHook(read func(w http.ResponseWriter, r *http.Request) (url.Values, error), key func(r *http.Request, form url.Values) string,
	h func(r *http.Request, form url.Values) (twiml, error), provider, ids string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		form, err := read(w, r)
		if err != nil {
			return err
		}
		k := key(r, form)
		if k == "" || len(k) > 300 {
			return optimum.Errorf(optimum.EINVALID, "The request has no %s id (%s).", provider, ids)
		}
		ctx := r.Context()
		status, ctype, body, first, err := s.Webhooks.ClaimWebhook(ctx, k, s.authNow(), webhookStale)
		if err != nil {
			return err
		}
		if !first {
			if status == 0 {
				w.Header().Set("Retry-After", "1")
				return optimum.Errorf(optimum.EUNAVAILABLE, "This request is being processed; try again in a moment.")
			}
			writeWebhook(w, twiml{status, ctype, body})
			return nil
		}
		out, err := h(r, form)
		if err != nil {
			if rerr := s.Webhooks.ReleaseWebhook(context.WithoutCancel(ctx), k); rerr != nil {
				s.Logger.Error("releasing a failed webhook request", "key", k, "err", rerr)
			}
			return err
		}
		if err := s.Webhooks.FinishWebhook(context.WithoutCancel(ctx), k, out.status, out.contentType, out.body, s.authNow()); err != nil {
			// Processed but not recorded: a replay would be processed again, which the
			// handlers make harmless (states only move forward).
			s.Logger.Error("recording a webhook's answer", "key", k, "err", err)
		}
		writeWebhook(w, out)
		return nil
	}
}

func writeWebhook(w http.ResponseWriter, t twiml) {
	if t.contentType != "" {
		w.Header().Set("Content-Type", t.contentType)
	}
	w.WriteHeader(t.status)
	_, _ = io.WriteString(w, t.body)
}

func twiML(body string) twiml { return twiml{http.StatusOK, "text/xml; charset=utf-8", body} }

// statusKey names a status callback: the message or call and the status it reports.
func statusKey(_ *http.Request, form url.Values) string {
	st := twilio.ParseStatus(form)
	if st.SID == "" || st.Status == "" {
		return ""
	}
	return "status:" + st.SID + ":" + st.Status
}

// twilioStatus handles POST /hooks/twilio/status?d=<delivery>: a message's or a call's
// status, recorded only when it moves the delivery forward.
func (s *Server) twilioStatus(r *http.Request, form url.Values) (twiml, error) {
	st := twilio.ParseStatus(form)
	id := r.URL.Query().Get("d")
	if id == "" || st.Status == "" {
		return twiml{}, optimum.Errorf(optimum.EINVALID, "A status callback needs ?d=<delivery> and a status.")
	}
	errText := st.ErrorMessage
	if st.ErrorCode != "" {
		errText = "twilio " + st.ErrorCode + ": " + errText
	}
	if _, _, err := s.Webhooks.ProviderUpdate(r.Context(), id, st.SID, st.Status, errText, time.Now(), twilio.Later); err != nil {
		return twiml{}, err
	}
	return twiml{status: http.StatusNoContent}, nil
}

// smsKey names an inbound SMS by its MessageSid.
func smsKey(_ *http.Request, form url.Values) string {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	if sid == "" {
		return ""
	}
	return "sms:" + sid
}

// twilioSMS handles POST /hooks/twilio/sms: a reply acknowledges ("1", "OK", "SI", "ACK",
// with or without the folio); STOP and START are kept; anything else gets a helpful answer.
func (s *Server) twilioSMS(r *http.Request, form url.Values) (twiml, error) {
	answer, err := s.Inbound.SMS(r.Context(), form.Get("From"), form.Get("Body"), readReply(form.Get("Body")))
	if err != nil {
		return twiml{}, err
	}
	return twiML(twilio.SMSReply(answer)), nil
}

// voiceStep is the step of a call whose key press a request reports: 0 for the alert's
// first question, one more each time the call asks again (the s of the Gather's action).
func voiceStep(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("s"))
	if err != nil || n < 0 || n > 1000 {
		return 0
	}
	return n
}

// voiceKey names a key press by the call and its step, so that pressing the same wrong
// key twice in a call is two answers, not a replay.
func voiceKey(r *http.Request, form url.Values) string {
	sid := form.Get("CallSid")
	if sid == "" {
		return ""
	}
	return "voice:" + sid + ":" + r.URL.Query().Get("d") + ":" + strconv.Itoa(voiceStep(r))
}

// twilioVoice handles POST /hooks/twilio/voice?d=<delivery>[&s=<step>]: the key pressed
// during an alert call; 1 acknowledges. Any other key asks again, with the next step.
func (s *Server) twilioVoice(r *http.Request, form url.Values) (twiml, error) {
	d := r.URL.Query().Get("d")
	lang, recorded, poll, err := s.Inbound.Digits(r.Context(), d, form.Get("Digits"))
	if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return twiml{}, err
	}
	if recorded == escalation.ReplyRefused {
		return twiML(twilio.VoiceRefusedReply(lang)), nil
	}
	answer := map[string]string{escalation.ReplyAck: twilio.VoiceAcked, escalation.ReplySafe: twilio.VoiceSafe,
		escalation.ReplyHelpNeeded: twilio.VoiceHelpNeeded}[recorded]
	next := s.webhookBase() + twilio.PathVoice + "?d=" + url.QueryEscape(d) + "&s=" + strconv.Itoa(voiceStep(r)+1)
	return twiML(twilio.VoiceReply(lang, answer, poll, next)), nil
}
