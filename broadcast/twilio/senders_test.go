package twilio_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// A country's sender rule picks the sender of its numbers: Mexico through a Messaging
// Service (its short code), Spain from an alphanumeric ID, Puerto Rico (1787, longer
// than 1) from its own number; anyone else from the pool.
func TestSMSSenderFollowsTheCountryRule(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{})
	c := newClient(t, fake, func(cfg *twilio.Config) {
		cfg.Senders = broadcast.CountrySenders{"52": "MG0123456789abcdef0123456789abcdef", "34": "OPTIMUM", "1787": "+17875550100"}
	})
	cases := []struct{ to, from, service string }{
		{"+525512345678", "", "MG0123456789abcdef0123456789abcdef"},
		{"+34612345678", "OPTIMUM", ""},
		{"+17875551234", "+17875550100", ""},
	}
	for _, tc := range cases {
		if _, err := c.SMS().Send(context.Background(), alert(tc.to)); err != nil {
			t.Fatalf("%s: %v", tc.to, err)
		}
	}
	msgs := fake.Messages()
	if len(msgs) != len(cases) {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, tc := range cases {
		f := msgs[i].Form
		if f.Get("From") != tc.from || f.Get("MessagingServiceSid") != tc.service {
			t.Errorf("%s: From %q, MessagingServiceSid %q; want %q, %q", tc.to, f.Get("From"), f.Get("MessagingServiceSid"), tc.from, tc.service)
		}
	}
	// A US number has no rule: one of the pool.
	if _, err := c.SMS().Send(context.Background(), alert("+14155550123")); err != nil {
		t.Fatal(err)
	}
	last := fake.Messages()[len(cases)].Form.Get("From")
	if last != "+15005550006" && last != "+15005550007" && last != "+15005550008" {
		t.Errorf("US number sent from %q, want one of the pool", last)
	}
}

func TestSenderKinds(t *testing.T) {
	cases := map[string]string{
		"+525512345678":                      broadcast.SenderLongCode,
		"89992":                              broadcast.SenderShortCode,
		"OPTIMUM":                            broadcast.SenderAlphanumeric,
		"Banco 24":                           broadcast.SenderAlphanumeric,
		"MG0123456789abcdef0123456789abcdef": broadcast.SenderService,
		"TWELVECHARSX":                       "", // alphanumeric IDs have at most 11
		"12":                                 "", // too short for a short code
		"+0123":                              "",
	}
	for s, want := range cases {
		if got := broadcast.SenderKind(s); got != want {
			t.Errorf("SenderKind(%q) = %q, want %q", s, got, want)
		}
	}
}
