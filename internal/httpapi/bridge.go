package httpapi

import (
	"net/http"
	"net/url"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// The war-room bridge (incident/bridge.go, docs/channels.md).

// bridgeNumber is the number people call to join a bridge.
func (s *Server) bridgeNumber() string {
	if n := s.Config.Twilio.BridgeNumber; n != "" {
		return n
	}
	if len(s.Config.Twilio.From) > 0 {
		return s.Config.Twilio.From[0]
	}
	return ""
}

// openBridge handles POST /api/v1/incidents/{id}/bridge: opens the incident's war-room
// bridge (P1 and P2 only), or returns the one open.
func (s *Server) openBridge(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.Desk.OpenBridge(r.Context(), r.PathValue("id"), s.bridgeNumber())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// conferenceCallback is the URL of the status callbacks of a call joining inc's bridge,
// naming who joins: Twilio signs the whole URL, so nobody can forge who it says.
func (s *Server) conferenceCallback(inc incident.Incident, personID, name string) string {
	q := url.Values{"i": {inc.ID}, "p": {personID}, "n": {name}}
	return s.webhookBase() + twilio.PathConference + "?" + q.Encode()
}

// bridgeKey names a call to the bridge number or its PIN by the call.
func bridgeKey(step string) func(*http.Request, url.Values) string {
	return func(_ *http.Request, form url.Values) string {
		if sid := form.Get("CallSid"); sid != "" {
			return "bridge:" + step + ":" + sid
		}
		return ""
	}
}

// twilioBridge handles POST /hooks/twilio/bridge, the bridge number's voice webhook: it
// asks for the PIN.
func (s *Server) twilioBridge(r *http.Request, form url.Values) (twiml, error) {
	lang := "es"
	if p, ok := s.Inbound.Caller(r.Context(), form.Get("From")); ok {
		lang = p.Language
	}
	return twiML(twilio.BridgeAskPIN(lang, s.webhookBase()+twilio.PathBridgePIN)), nil
}

// twilioBridgePIN handles POST /hooks/twilio/bridge/pin: a PIN of an open bridge joins
// its conference; any other is told so.
func (s *Server) twilioBridgePIN(r *http.Request, form url.Values) (twiml, error) {
	from := form.Get("From")
	p, known := s.Inbound.Caller(r.Context(), from)
	lang := "es"
	if known {
		lang = p.Language
	}
	inc, err := s.Desk.BridgeByPIN(r.Context(), form.Get("Digits"))
	switch optimum.ErrorCode(err) {
	case "":
	case optimum.ENOTFOUND, optimum.ECONFLICT:
		s.Logger.Warn("bridge PIN refused", "from", from, "reason", optimum.ErrorMessage(err))
		return twiML(twilio.BridgeBadPIN(lang)), nil
	default:
		return twiml{}, err
	}
	if inc.Bridge == nil {
		return twiML(twilio.BridgeBadPIN(lang)), nil
	}
	name := p.Name
	if !known {
		p.PersonID, name = "", escalation.GuestName(lang, from)
	}
	return twiML(twilio.BridgeJoin(lang, inc.Folio, s.conferenceCallback(inc, p.PersonID, name))), nil
}

// bridgeFromAlertCall answers "2" pressed during an alert call whose incident has a
// bridge: the call joins it. ok is false when there is none to join.
func (s *Server) bridgeFromAlertCall(r *http.Request, form url.Values) (twiml, bool, error) {
	if form.Get("Digits") != "2" {
		return twiml{}, false, nil
	}
	inc, p, ok, err := s.Inbound.BridgeCall(r.Context(), r.URL.Query().Get("d"))
	if err != nil || !ok {
		if optimum.ErrorCode(err) == optimum.ENOTFOUND {
			err = nil
		}
		return twiml{}, false, err
	}
	name := p.Name
	if p.PersonID == "" {
		name = escalation.GuestName(p.Language, form.Get("To"))
	}
	return twiML(twilio.BridgeJoin(p.Language, inc.Folio, s.conferenceCallback(inc, p.PersonID, name))), true, nil
}

// conferenceKey names a conference callback by the conference, the call and the event.
func conferenceKey(_ *http.Request, form url.Values) string {
	c, call, ev := form.Get("ConferenceSid"), form.Get("CallSid"), form.Get("StatusCallbackEvent")
	if c == "" || ev == "" {
		return ""
	}
	return "conference:" + c + ":" + call + ":" + ev
}

// twilioConference handles POST /hooks/twilio/conference?i=<incident>&p=<person>&n=<name>:
// a call joining or leaving the bridge, recorded on the incident and its timeline.
func (s *Server) twilioConference(r *http.Request, form url.Values) (twiml, error) {
	q := r.URL.Query()
	id := q.Get("i")
	if id == "" {
		return twiml{}, optimum.Errorf(optimum.EINVALID, "A conference callback needs ?i=<incident>.")
	}
	var err error
	switch form.Get("StatusCallbackEvent") {
	case "participant-join":
		_, err = s.Desk.BridgeJoined(r.Context(), id, incident.BridgeParticipant{CallSID: form.Get("CallSid"), PersonID: q.Get("p"), Name: q.Get("n")})
	case "participant-leave":
		_, err = s.Desk.BridgeLeft(r.Context(), id, form.Get("CallSid"))
	}
	if err != nil {
		return twiml{}, err
	}
	return twiml{status: http.StatusNoContent}, nil
}
