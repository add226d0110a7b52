package httpapi

import (
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/escalation"
)

// readReply reads an inbound SMS's body for what the person meant, whichever provider
// carried it: the reading (twilio.ParseReply: "1", "OK", "SI", STOP, START, the safety
// poll's answers…) is the carriers' conventions, not Twilio's protocol.
func readReply(body string) func(poll bool) (kind, folio string) {
	kinds := map[string]string{twilio.ReplyAck: escalation.ReplyAck, twilio.ReplyStop: escalation.ReplyStop,
		twilio.ReplyStart: escalation.ReplyStart, twilio.ReplyHelp: escalation.ReplyHelp,
		twilio.ReplySafe: escalation.ReplySafe, twilio.ReplyHelpNeeded: escalation.ReplyHelpNeeded}
	return func(poll bool) (string, string) {
		reply := twilio.ParseReply(body, poll)
		kind := kinds[reply.Kind]
		if kind == "" {
			kind = escalation.ReplyUnknown
		}
		return kind, reply.Folio
	}
}
