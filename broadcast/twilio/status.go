package twilio

import (
	"net/url"
	"strings"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Status is one status callback from Twilio, for a message or a call.
type Status struct {
	// Channel is broadcast.ChannelSMS for a message, broadcast.ChannelVoice for a call.
	Channel string
	SID     string // MessageSid (SM…, MM…) or CallSid (CA…)
	// Status is Twilio's: queued, sending, sent, delivered, undelivered, failed, read… for a
	// message; queued, initiated, ringing, in-progress, completed, busy, no-answer, failed,
	// canceled for a call.
	Status       string
	ErrorCode    string // e.g. "30003" (unreachable handset) on undelivered and failed
	ErrorMessage string
	To, From     string
	// AnsweredBy is set on calls with answering machine detection: human, machine_start…
	AnsweredBy string
	// Duration is the call's length in seconds, on completed calls ("" otherwise).
	Duration string
}

// ParseStatus reads a status callback's form (r.PostForm). Twilio sends MessageStatus (and
// the legacy SmsStatus) for messages, CallStatus for calls.
func ParseStatus(form url.Values) Status {
	s := Status{
		To:           form.Get("To"),
		From:         form.Get("From"),
		ErrorCode:    form.Get("ErrorCode"),
		ErrorMessage: form.Get("ErrorMessage"),
		AnsweredBy:   form.Get("AnsweredBy"),
	}
	if sid := form.Get("CallSid"); sid != "" && form.Get("MessageSid") == "" {
		s.Channel, s.SID = broadcast.ChannelVoice, sid
		s.Status = strings.ToLower(form.Get("CallStatus"))
		s.Duration = form.Get("CallDuration")
		return s
	}
	s.Channel = broadcast.ChannelSMS
	s.SID = first(form.Get("MessageSid"), form.Get("SmsSid"))
	s.Status = strings.ToLower(first(form.Get("MessageStatus"), form.Get("SmsStatus")))
	return s
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// ranks order the statuses of messages and calls along the way to their end, so that a
// duplicate or late callback never moves a delivery back. All final statuses share the
// top rank (the first final one wins), except read, which only follows delivered.
var ranks = map[string]int{
	// Messages: accepted and scheduled come from a Messaging Service.
	"accepted": 1, "scheduled": 1, "queued": 2, "sending": 3, "sent": 4,
	"delivered": 10, "undelivered": 10, "failed": 10, "canceled": 10,
	"partially_delivered": 10, "read": 11,
	// Calls.
	"initiated": 3, "ringing": 4, "in-progress": 5, "answered": 5,
	"completed": 10, "busy": 10, "no-answer": 10,
}

// final is the rank of the statuses after which nothing more is sent.
const final = 10

// Later reports whether status next comes after status current, so that a callback with
// next may replace current. An unknown next never does; anything known follows an unknown
// or empty current.
func Later(current, next string) bool {
	n, ok := ranks[strings.ToLower(next)]
	if !ok {
		return false
	}
	return n > ranks[strings.ToLower(current)]
}

// Final reports whether no further status will follow: delivered, undelivered, failed,
// canceled and read for a message; completed, busy, no-answer, failed, canceled for a call.
func (s Status) Final() bool { return ranks[s.Status] >= final }

// Failed reports whether the message or call did not reach the person: undelivered,
// failed, canceled, busy, no-answer. A completed call reached someone (or their voicemail:
// see AnsweredBy); a delivered message reached the handset, when the carrier says so at all.
func (s Status) Failed() bool {
	switch s.Status {
	case "undelivered", "failed", "canceled", "busy", "no-answer":
		return true
	}
	return false
}
