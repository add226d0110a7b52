package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// Vonage's webhooks: delivery receipts and inbound SMS (a form signed with "sig"), call
// events and key presses (JSON signed with a JWT). They record into the same deliveries
// and acknowledgements as Twilio's: a reply acknowledges whichever provider carried the
// alert or the reply.

// vonageForm checks an SMS webhook's signature (VONAGE_SIGNATURE_SECRET, the method in
// vonage.signature_method) and timestamp over its body parameters. A forged request is
// 403 and changes nothing, limited per client like Twilio's.
func (s *Server) vonageForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	v := s.Config.Vonage
	if v.SignatureSecret == "" {
		return nil, optimum.Errorf(optimum.EFORBIDDEN, "The request is not signed by %s for this server.", "Vonage")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("The body could not be read.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, badRequest("The body is not a form.")
	}
	method := v.SignatureMethod
	if method == "" {
		method = "md5hash"
	}
	if !vonage.ValidSMSSignature(v.SignatureSecret, method, form, s.authNow()) {
		return nil, s.forgedWebhook(w, r, "Vonage")
	}
	return form, nil
}

// vonageSignedBody reads a voice webhook's body and checks its JWT (HS256 with the
// signature secret, the body's SHA-256 in payload_hash).
func (s *Server) vonageSignedBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	secret := s.Config.Vonage.SignatureSecret
	if secret == "" {
		return nil, optimum.Errorf(optimum.EFORBIDDEN, "The request is not signed by %s for this server.", "Vonage")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, badRequest("The body could not be read.")
	}
	if !vonage.ValidVoiceToken(secret, r.Header.Get("Authorization"), body, s.authNow()) {
		return nil, s.forgedWebhook(w, r, "Vonage")
	}
	return body, nil
}

// vonageJSON checks a call webhook's JWT (HS256 with the signature secret, the body's
// SHA-256 in payload_hash) and returns the body's fields that matter as parameters.
func (s *Server) vonageJSON(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body, err := s.vonageSignedBody(w, r)
	if err != nil {
		return nil, err
	}
	var ev struct {
		vonage.CallEvent
		DTMF *struct {
			Digits   string `json:"digits"`
			TimedOut bool   `json:"timed_out"`
		} `json:"dtmf"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, badRequest("The body is not valid JSON.")
	}
	out := url.Values{"uuid": {ev.UUID}, "status": {ev.Status}, "detail": {ev.Detail}, "to": {ev.To}}
	if ev.DTMF != nil {
		out.Set("digits", ev.DTMF.Digits)
	}
	return out, nil
}

// forgedWebhook answers a webhook whose signature is wrong: 403, or 429 for a client
// that sends many (limits.webhook_forged_per_client).
func (s *Server) forgedWebhook(w http.ResponseWriter, r *http.Request, provider string) error {
	if s.limits != nil {
		if err := s.limits.check(w, s.limits.webhookForged, clientKey(clientIP(r, s.limits.proxies))); err != nil {
			return err
		}
	}
	return optimum.Errorf(optimum.EFORBIDDEN, "The request is not signed by %s for this server.", provider)
}

// vonageReceiptKey names a delivery receipt by message and status.
func vonageReceiptKey(_ *http.Request, form url.Values) string {
	rc := vonage.ParseReceipt(form)
	if rc.MessageID == "" || rc.Status == "" {
		return ""
	}
	return "vonage:status:" + rc.MessageID + ":" + rc.Status
}

// vonageStatus handles POST /hooks/vonage/status?d=<delivery>: an SMS delivery
// receipt, recorded only when it moves the delivery forward.
func (s *Server) vonageStatus(r *http.Request, form url.Values) (twiml, error) {
	rc := vonage.ParseReceipt(form)
	id := r.URL.Query().Get("d")
	if id == "" {
		id = rc.Ref
	}
	if id == "" {
		return twiml{}, optimum.Errorf(optimum.EINVALID, "A delivery receipt needs ?d=<delivery> or a client-ref.")
	}
	errText := ""
	if rc.ErrCode != "" && rc.ErrCode != "0" {
		errText = "vonage " + rc.ErrCode + ": " + rc.Status
	}
	if _, _, err := s.Webhooks.ProviderUpdate(r.Context(), id, rc.MessageID, vonage.Normalise(rc.Status), errText, time.Now(), twilio.Later); err != nil {
		return twiml{}, err
	}
	return twiml{status: http.StatusOK}, nil
}

// vonageSMSKey names an inbound SMS by its messageId.
func vonageSMSKey(_ *http.Request, form url.Values) string {
	if id := form.Get("messageId"); id != "" {
		return "vonage:sms:" + id
	}
	return ""
}

// vonageSMS handles POST /hooks/vonage/sms: a reply acknowledges like one through
// Twilio. Vonage's SMS webhook takes no reply in its answer, so the answer to the
// person is sent as an SMS through Vonage (a failure to send it is logged: the reply
// itself is recorded).
func (s *Server) vonageSMS(r *http.Request, form url.Values) (twiml, error) {
	in := vonage.ParseInbound(form)
	answer, err := s.Inbound.SMS(r.Context(), in.From, in.Text, readReply(in.Text))
	if err != nil {
		return twiml{}, err
	}
	if answer != "" && s.VonageSMS != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		if _, err := s.VonageSMS.Send(ctx, broadcast.Message{Channel: broadcast.ChannelSMS, To: in.From, Text: answer}); err != nil {
			s.Logger.Warn("vonage: answering an inbound SMS", "err", err)
		}
	}
	return twiml{status: http.StatusOK}, nil
}

// vonageEventKey names a call event by call and status.
func vonageEventKey(_ *http.Request, form url.Values) string {
	if form.Get("uuid") == "" || form.Get("status") == "" {
		return ""
	}
	return "vonage:event:" + form.Get("uuid") + ":" + form.Get("status")
}

// vonageVoiceEvent handles POST /hooks/vonage/voice/event?d=<delivery>: a call's
// status, recorded only when it moves the delivery forward.
func (s *Server) vonageVoiceEvent(r *http.Request, form url.Values) (twiml, error) {
	id := r.URL.Query().Get("d")
	if id == "" {
		return twiml{}, optimum.Errorf(optimum.EINVALID, "A call event needs ?d=<delivery>.")
	}
	status := vonage.Normalise(form.Get("status"))
	errText := ""
	if status == "failed" || status == "busy" || status == "no-answer" || status == "canceled" {
		errText = "vonage: " + form.Get("status")
		if d := form.Get("detail"); d != "" {
			errText += " (" + d + ")"
		}
	}
	if _, _, err := s.Webhooks.ProviderUpdate(r.Context(), id, form.Get("uuid"), status, errText, time.Now(), twilio.Later); err != nil {
		return twiml{}, err
	}
	if form.Get("status") == "completed" {
		// The call ended: if it was on the incident's bridge, it left it.
		inc, _, _, err := s.Inbound.BridgeCall(r.Context(), id)
		if err == nil && inc.Bridge != nil {
			if _, err := s.Desk.BridgeLeft(r.Context(), inc.ID, form.Get("uuid")); err != nil {
				return twiml{}, err
			}
		} else if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
			return twiml{}, err
		}
	}
	return twiml{status: http.StatusOK}, nil
}

// vonageInputKey names a key press by call, delivery and step.
func vonageInputKey(r *http.Request, form url.Values) string {
	if form.Get("uuid") == "" {
		return ""
	}
	return "vonage:input:" + form.Get("uuid") + ":" + r.URL.Query().Get("d") + ":" + strconv.Itoa(voiceStep(r))
}

// maxVoiceSteps is how many times a call asks again before it says goodbye.
const maxVoiceSteps = 3

// vonageVoiceInput handles POST /hooks/vonage/voice/input?d=<delivery>[&p=true][&s=<step>]:
// the key pressed during an alert call, answered with an NCCO; 1 acknowledges.
func (s *Server) vonageVoiceInput(r *http.Request, form url.Values) (twiml, error) {
	d := r.URL.Query().Get("d")
	if form.Get("digits") == "2" { // bridge: "marca 2"
		inc, p, ok, err := s.Inbound.BridgeCall(r.Context(), d)
		if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
			return twiml{}, err
		}
		if ok {
			name := p.Name
			if p.PersonID == "" {
				name = escalation.GuestName(p.Language, form.Get("to"))
			}
			who := vonage.BridgeNotify{Incident: inc.ID, Person: p.PersonID, Name: name, Call: form.Get("uuid")}
			return twiml{http.StatusOK, "application/json", string(vonage.BridgeJoin(p.Language, inc.Folio, s.webhookBase()+vonage.PathConference, who))}, nil
		}
	}
	lang, recorded, poll, err := s.Inbound.Digits(r.Context(), d, form.Get("digits"))
	if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return twiml{}, err
	}
	answer := map[string]string{escalation.ReplyAck: vonage.AnswerAcked, escalation.ReplySafe: vonage.AnswerSafe,
		escalation.ReplyHelpNeeded: vonage.AnswerHelpNeeded, escalation.ReplyRefused: vonage.AnswerRefused}[recorded]
	next := ""
	if step := voiceStep(r) + 1; step < maxVoiceSteps {
		next = s.webhookBase() + vonage.PathVoiceInput + "?d=" + url.QueryEscape(d) + "&p=" + strconv.FormatBool(poll) + "&s=" + strconv.Itoa(step)
	}
	return twiml{http.StatusOK, "application/json", string(vonage.InputReply(lang, answer, poll, next))}, nil
}

// vonageNotify checks the JWT of the bridge's notify action (vonage.BridgeJoin) and
// returns its body's fields: who joins which incident's bridge, and the call.
func (s *Server) vonageNotify(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body, err := s.vonageSignedBody(w, r)
	if err != nil {
		return nil, err
	}
	var n vonage.BridgeNotify
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, badRequest("The body is not valid JSON.")
	}
	return url.Values{"event": {n.Event}, "incident": {n.Incident}, "person": {n.Person}, "name": {n.Name}, "call": {n.Call}}, nil
}

// vonageConferenceKey names a bridge notification by the call and the event.
func vonageConferenceKey(_ *http.Request, form url.Values) string {
	if form.Get("call") == "" || form.Get("event") == "" {
		return ""
	}
	return "vonage:conference:" + form.Get("call") + ":" + form.Get("event")
}

// vonageConference handles POST /hooks/vonage/conference, the notify action of a call
// joining the bridge: the call is put on the incident's bridge and its timeline (as
// Twilio's participant-join does), and the answer, which replaces the rest of the call's
// NCCO, is the conversation named by the folio. Leaving is the call's "completed" event
// (vonageVoiceEvent).
func (s *Server) vonageConference(r *http.Request, form url.Values) (twiml, error) {
	if form.Get("event") != vonage.EventBridgeJoined || form.Get("incident") == "" {
		return twiml{}, optimum.Errorf(optimum.EINVALID, "A bridge notification needs the event bridge_joined and the incident.")
	}
	inc, err := s.Desk.BridgeJoined(r.Context(), form.Get("incident"), incident.BridgeParticipant{CallSID: form.Get("call"), PersonID: form.Get("person"), Name: form.Get("name")})
	if err != nil {
		return twiml{}, err
	}
	return twiml{http.StatusOK, "application/json", string(vonage.Conversation(inc.Folio))}, nil
}
