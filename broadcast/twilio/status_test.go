package twilio_test

import (
	"net/url"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

func TestParseStatusOfAMessage(t *testing.T) {
	got := twilio.ParseStatus(url.Values{
		"MessageSid": {"SM1"}, "SmsSid": {"SM1"}, "MessageStatus": {"undelivered"}, "SmsStatus": {"undelivered"},
		"ErrorCode": {"30003"}, "To": {"+5215512345678"}, "From": {"+15005550006"},
	})
	want := twilio.Status{Channel: broadcast.ChannelSMS, SID: "SM1", Status: "undelivered", ErrorCode: "30003",
		To: "+5215512345678", From: "+15005550006"}
	if got != want {
		t.Errorf("ParseStatus = %+v, want %+v", got, want)
	}
	if !got.Final() || !got.Failed() {
		t.Errorf("undelivered: Final %v, Failed %v; want both", got.Final(), got.Failed())
	}
	legacy := twilio.ParseStatus(url.Values{"SmsSid": {"SM2"}, "SmsStatus": {"sent"}})
	if legacy.SID != "SM2" || legacy.Status != "sent" || legacy.Final() {
		t.Errorf("ParseStatus of the legacy fields = %+v", legacy)
	}
}

func TestParseStatusOfACall(t *testing.T) {
	got := twilio.ParseStatus(url.Values{
		"CallSid": {"CA1"}, "CallStatus": {"completed"}, "CallDuration": {"31"}, "AnsweredBy": {"human"},
		"To": {"+5215512345678"}, "From": {"+15005550006"},
	})
	want := twilio.Status{Channel: broadcast.ChannelVoice, SID: "CA1", Status: "completed", Duration: "31",
		AnsweredBy: "human", To: "+5215512345678", From: "+15005550006"}
	if got != want {
		t.Errorf("ParseStatus = %+v, want %+v", got, want)
	}
	if !got.Final() || got.Failed() {
		t.Errorf("completed: Final %v, Failed %v; want final, not failed", got.Final(), got.Failed())
	}
	if s := twilio.ParseStatus(url.Values{"CallSid": {"CA1"}, "CallStatus": {"no-answer"}}); !s.Failed() {
		t.Error("no-answer is not Failed")
	}
}

func TestLaterOnlyMovesForward(t *testing.T) {
	for _, tc := range []struct {
		current, next string
		want          bool
	}{
		{"", "queued", true},
		{"queued", "sending", true},
		{"sending", "sent", true},
		{"sent", "delivered", true},
		{"sent", "undelivered", true},
		{"queued", "failed", true},
		{"delivered", "sent", false},
		{"delivered", "delivered", false},
		{"delivered", "undelivered", false},
		{"failed", "delivered", false},
		{"delivered", "read", true},
		{"accepted", "queued", true},
		{"sent", "bogus", false},
		{"bogus", "sent", true},
		{"queued", "initiated", true},
		{"initiated", "ringing", true},
		{"ringing", "in-progress", true},
		{"in-progress", "completed", true},
		{"ringing", "no-answer", true},
		{"completed", "ringing", false},
		{"in-progress", "ringing", false},
		{"busy", "completed", false},
	} {
		if got := twilio.Later(tc.current, tc.next); got != tc.want {
			t.Errorf("Later(%q, %q) = %v, want %v", tc.current, tc.next, got, tc.want)
		}
	}
}
