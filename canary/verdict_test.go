package canary

import (
	"strings"
	"testing"
)

// When a canary on SMS and push is settled, and whether it passed, by hand: SMS passes
// only when Twilio reported it delivered; push passes when the push service accepted it;
// any failed message fails the run at once; a channel without a message, or a message
// still on its way, fails it only at the deadline.
func TestVerdict(t *testing.T) {
	c := &Canary{opt: Options{Channels: []string{"sms", "webpush"}, Timeout: 300e9}}
	for _, tc := range []struct {
		name       string
		msgs       []Message
		late       bool
		done, pass bool
		reason     string
	}{
		{"both reported", []Message{{Channel: "sms", Status: "delivered"}, {Channel: "webpush", Status: "sent"}}, false, true, true, ""},
		{"push delivered too", []Message{{Channel: "sms", Status: "delivered"}, {Channel: "webpush", Status: "delivered"}}, false, true, true, ""},
		{"sms accepted, no report yet", []Message{{Channel: "sms", Status: "sent"}, {Channel: "webpush", Status: "sent"}}, false, false, false, ""},
		{"sms accepted, no report by the deadline", []Message{{Channel: "sms", Status: "sent"}, {Channel: "webpush", Status: "sent"}}, true, true, false, "sms sent"},
		{"sms failed before the deadline", []Message{{Channel: "sms", Status: "failed", Error: "21211"}, {Channel: "webpush", Status: "queued"}}, false, true, false, "sms failed: 21211"},
		{"sms undelivered", []Message{{Channel: "sms", Status: "undelivered", Error: "30003"}, {Channel: "webpush", Status: "sent"}}, false, true, false, "sms undelivered"},
		{"no push message yet", []Message{{Channel: "sms", Status: "delivered"}}, false, false, false, ""},
		{"no push message at the deadline", []Message{{Channel: "sms", Status: "delivered"}}, true, true, false, "webpush: no message"},
		{"nothing at all at the deadline", nil, true, true, false, "sms: no message"},
		{"two people, one still queued", []Message{{Channel: "sms", Status: "delivered"}, {Channel: "sms", Status: "queued"}, {Channel: "webpush", Status: "sent"}}, false, false, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, reason := c.verdict(tc.msgs, tc.late)
			if done != tc.done || (done && (reason == "") != tc.pass) || !strings.Contains(reason, tc.reason) {
				t.Errorf("verdict = %v, %q; want done %v, pass %v, reason with %q", done, reason, tc.done, tc.pass, tc.reason)
			}
		})
	}
}

// Email passes when the SMTP server accepted it (250 after DATA): servers give no later
// report; a refusal (5xx) fails it.
func TestVerdictOfEmail(t *testing.T) {
	c := &Canary{opt: Options{Channels: []string{"email"}, Timeout: 300e9}}
	for _, tc := range []struct {
		name       string
		msgs       []Message
		late       bool
		done, pass bool
		reason     string
	}{
		{"accepted", []Message{{Channel: "email", Status: "sent"}}, false, true, true, ""},
		{"queued", []Message{{Channel: "email", Status: "queued"}}, false, false, false, ""},
		{"refused", []Message{{Channel: "email", Status: "failed", Error: "the server answered 550 5.1.1"}}, false, true, false, "email failed: the server answered 550"},
		{"still retrying at the deadline", []Message{{Channel: "email", Status: "queued"}}, true, true, false, "email queued"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, reason := c.verdict(tc.msgs, tc.late)
			if done != tc.done || (done && (reason == "") != tc.pass) || !strings.Contains(reason, tc.reason) {
				t.Errorf("verdict = %v, %q; want done %v, pass %v, reason with %q", done, reason, tc.done, tc.pass, tc.reason)
			}
		})
	}
}
