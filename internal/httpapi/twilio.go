package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
)

// Webhooks is what Twilio's callbacks need besides the escalation inbound service.
type Webhooks interface {
	// FirstSeen records a signed request; false when it was already processed (a replay).
	FirstSeen(ctx context.Context, hash string, at time.Time) (bool, error)
	// ProviderUpdate records a status callback, moving the delivery only forward.
	ProviderUpdate(ctx context.Context, id, providerID, status, errText string, at time.Time, later func(old, new string) bool) (string, bool, error)
}

// twilioForm checks a Twilio webhook: its X-Twilio-Signature over OPTIMUM_PUBLIC_URL +
// the request URI and the form, and that it was not processed before. A forged or
// replayed request is 403 and changes nothing.
func (s *Server) twilioForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	forbidden := optimum.Errorf(optimum.EFORBIDDEN, "The request is not signed by Twilio for this server.")
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
	full := s.Config.Server.PublicURL + r.URL.RequestURI()
	sig := r.Header.Get(twilio.SignatureHeader)
	if sig == "" || !twilio.ValidSignature(s.Config.Twilio.AuthToken, full, form, sig) {
		return nil, forbidden
	}
	sum := sha256.Sum256([]byte(sig + "\n" + full + "\n" + string(body)))
	first, err := s.Webhooks.FirstSeen(r.Context(), hex.EncodeToString(sum[:]), time.Now())
	if err != nil {
		return nil, err
	}
	if !first {
		return nil, optimum.Errorf(optimum.EFORBIDDEN, "This request was already processed (a replay).")
	}
	return form, nil
}

// twilioStatus handles POST /hooks/twilio/status?d=<delivery>: a message's or a call's
// status, recorded only when it moves the delivery forward.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) error {
	form, err := s.twilioForm(w, r)
	if err != nil {
		return err
	}
	st := twilio.ParseStatus(form)
	id := r.URL.Query().Get("d")
	if id == "" || st.Status == "" {
		return optimum.Errorf(optimum.EINVALID, "A status callback needs ?d=<delivery> and a status.")
	}
	errText := st.ErrorMessage
	if st.ErrorCode != "" {
		errText = "twilio " + st.ErrorCode + ": " + errText
	}
	if _, _, err := s.Webhooks.ProviderUpdate(r.Context(), id, st.SID, st.Status, errText, time.Now(), twilio.Later); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// twilioSMS handles POST /hooks/twilio/sms: a reply acknowledges ("1", "OK", "SI", "ACK",
// with or without the folio); STOP and START are kept; anything else gets a helpful answer.
func (s *Server) twilioSMS(w http.ResponseWriter, r *http.Request) error {
	form, err := s.twilioForm(w, r)
	if err != nil {
		return err
	}
	kinds := map[string]string{twilio.ReplyAck: escalation.ReplyAck, twilio.ReplyStop: escalation.ReplyStop,
		twilio.ReplyStart: escalation.ReplyStart, twilio.ReplyHelp: escalation.ReplyHelp,
		twilio.ReplySafe: escalation.ReplySafe, twilio.ReplyHelpNeeded: escalation.ReplyHelpNeeded}
	read := func(poll bool) (string, string) {
		reply := twilio.ParseReply(form.Get("Body"), poll)
		kind := kinds[reply.Kind]
		if kind == "" {
			kind = escalation.ReplyUnknown
		}
		return kind, reply.Folio
	}
	answer, err := s.Inbound.SMS(r.Context(), form.Get("From"), read)
	if err != nil {
		return err
	}
	writeTwiML(w, twilio.SMSReply(answer))
	return nil
}

// twilioVoice handles POST /hooks/twilio/voice?d=<delivery>: the key pressed during an
// alert call; 1 acknowledges.
func (s *Server) twilioVoice(w http.ResponseWriter, r *http.Request) error {
	form, err := s.twilioForm(w, r)
	if err != nil {
		return err
	}
	lang, recorded, poll, err := s.Inbound.Digits(r.Context(), r.URL.Query().Get("d"), form.Get("Digits"))
	if err != nil && optimum.ErrorCode(err) != optimum.ENOTFOUND {
		return err
	}
	if recorded == escalation.ReplyRefused {
		writeTwiML(w, twilio.VoiceRefusedReply(lang))
		return nil
	}
	answer := map[string]string{escalation.ReplyAck: twilio.VoiceAcked, escalation.ReplySafe: twilio.VoiceSafe,
		escalation.ReplyHelpNeeded: twilio.VoiceHelpNeeded}[recorded]
	writeTwiML(w, twilio.VoiceReply(lang, answer, poll, s.Config.Server.PublicURL+r.URL.RequestURI()))
	return nil
}

func writeTwiML(w http.ResponseWriter, twiml string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, twiml)
}
