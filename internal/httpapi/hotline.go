package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
)

// The crisis hotline (escalation/crisis.go, docs/channels.md): a person of the directory
// calls the hotline number, leaves a short voice message, and an incident is declared
// with it. Every request is signed by Twilio and served once per Twilio id, like the
// other Twilio webhooks.

// crisisLine is the crisis line, or an error when it is not set up.
func (s *Server) crisisLine() (*escalation.CrisisLine, error) {
	if s.Inbound == nil || s.Inbound.Crisis == nil {
		return nil, optimum.Errorf(optimum.ENOTFOUND, "The crisis hotline is not set up.")
	}
	return s.Inbound.Crisis, nil
}

// hotlineKey names a hotline request by its call (and recording or transcription).
func hotlineKey(step string) func(*http.Request, url.Values) string {
	return func(_ *http.Request, form url.Values) string {
		sid := form.Get("CallSid")
		if sid == "" {
			return ""
		}
		k := "hotline:" + step + ":" + sid
		switch step {
		case "recording":
			k += ":" + form.Get("RecordingSid")
		case "transcription":
			k += ":" + form.Get("TranscriptionSid")
		}
		return k
	}
}

// twilioHotline handles POST /hooks/twilio/hotline, the hotline number's voice webhook: a
// caller who may declare is asked for the message; anyone else is told why not, and the
// call ends.
func (s *Server) twilioHotline(r *http.Request, form url.Values) (twiml, error) {
	c, err := s.crisisLine()
	if err != nil {
		return twiml{}, err
	}
	lang, say, record, err := c.HotlineCall(r.Context(), form.Get("From"))
	if err != nil {
		return twiml{}, err
	}
	if !record {
		return twiML(twilio.HotlineSay(lang, say)), nil
	}
	base := s.webhookBase()
	return twiML(twilio.HotlineRecord(lang, say, base+twilio.PathHotlineRecording, base+twilio.PathHotlineTranscription)), nil
}

// twilioHotlineRecording handles POST /hooks/twilio/hotline/recording, the <Record>
// action: the message declares the crisis and the call says the folio.
func (s *Server) twilioHotlineRecording(r *http.Request, form url.Values) (twiml, error) {
	c, err := s.crisisLine()
	if err != nil {
		return twiml{}, err
	}
	seconds, _ := strconv.Atoi(form.Get("RecordingDuration"))
	lang, say, err := c.HotlineRecording(r.Context(), form.Get("From"), form.Get("CallSid"), form.Get("RecordingUrl"), seconds, form.Get("TranscriptionText"))
	if err != nil {
		return twiml{}, err
	}
	return twiML(twilio.HotlineSay(lang, say)), nil
}

// twilioHotlineTranscription handles POST /hooks/twilio/hotline/transcription: Twilio's
// transcription of a hotline message goes on the incident it declared.
func (s *Server) twilioHotlineTranscription(r *http.Request, form url.Values) (twiml, error) {
	c, err := s.crisisLine()
	if err != nil {
		return twiml{}, err
	}
	if form.Get("TranscriptionStatus") == "completed" {
		if err := c.HotlineTranscription(r.Context(), form.Get("From"), form.Get("CallSid"), form.Get("TranscriptionText")); err != nil {
			return twiml{}, err
		}
	}
	return twiml{status: http.StatusNoContent}, nil
}
