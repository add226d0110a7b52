package twilio

import (
	"context"
	"fmt"
	"strings"
	"time"

	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/optimum-bcp/optimum/broadcast"
)

// SMS sends text messages. It implements broadcast.Sender and is safe for concurrent use.
//
// Each message goes to Twilio's Messages resource with To, Body, a StatusCallback that
// names the delivery (PublicURL/hooks/twilio/status?d=DELIVERYID) and either From, picked
// from the pool by recipient so a person always sees the same number, or the Messaging
// Service when one is configured.
type SMS struct{ c *Client }

var _ broadcast.Sender = (*SMS)(nil)

// Send hands m to Twilio; see broadcast.Sender for what the result means.
func (s *SMS) Send(ctx context.Context, m broadcast.Message) (retryable bool, err error) {
	_, retryable, err = s.SendSID(ctx, m)
	return retryable, err
}

// SendSID is Send that also returns the message SID (SM…) Twilio gave it. The SID may be
// "" on success when Twilio's answer could not be read; status callbacks carry it anyway.
func (s *SMS) SendSID(ctx context.Context, m broadcast.Message) (sid string, retryable bool, err error) {
	if !e164.MatchString(m.To) {
		return "", false, fmt.Errorf("twilio sms: %w: %q is not E.164", ErrInvalidNumber, m.To)
	}
	cfg := s.c.cfg
	p := &api.CreateMessageParams{}
	p.SetTo(m.To)
	p.SetBody(s.Body(m))
	if m.DeliveryID != "" { // a message outside the delivery queue (a verification code) is not tracked
		p.SetStatusCallback(s.c.statusCallback(m.DeliveryID))
	}
	service, from := cfg.MessagingServiceSID, ""
	if rule, ok := cfg.Senders.For(m.To); ok {
		// The country's rule wins: a Messaging Service, or a number, short code or
		// alphanumeric ID sent as From.
		if broadcast.SenderKind(rule) == broadcast.SenderService {
			service = rule
		} else {
			service, from = "", rule
		}
	}
	if service != "" {
		p.SetMessagingServiceSid(service)
		// ValidityPeriod works with a Messaging Service only: an alert that has waited in
		// Twilio's queue longer than its TTL is no longer worth sending.
		if m.TTL > 0 {
			p.SetValidityPeriod(int(min(max(m.TTL, time.Second), 36000*time.Second) / time.Second))
		}
	} else {
		if from == "" {
			from = s.c.sender(m.To)
		}
		p.SetFrom(from)
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	var ex exchange
	msg, err := s.c.api(ctx, &ex).CreateMessage(p)
	if retryable, err := classify("sms", &ex, err); err != nil {
		return "", retryable, err
	}
	if msg != nil && msg.Sid != nil {
		sid = *msg.Sid
	}
	return sid, false, nil
}

// Body is the text Send sends for m: m.Text, followed by m.URL unless the text already
// carries it, transliterated to GSM-7 when Config.Transliterate is set and that makes it
// GSM-7, and cut to Twilio's 1600 characters. Segments(Body(m)) tells what it will cost.
func (s *SMS) Body(m broadcast.Message) string {
	body := strings.TrimSpace(m.Text)
	if body == "" {
		body = strings.TrimSpace(m.Title)
	}
	if m.URL != "" && !strings.Contains(body, m.URL) {
		body += "\n" + m.URL
	}
	if s.c.cfg.Transliterate {
		if t := Transliterate(body); IsGSM7(t) {
			body = t
		}
	}
	if len([]rune(body)) > maxBody {
		// Keep the link, which is how the person acknowledges, and cut the text before it.
		if m.URL != "" && strings.HasSuffix(body, m.URL) {
			text := []rune(strings.TrimSuffix(body, m.URL))
			keep := maxBody - len([]rune(m.URL)) - len(ellipsis) - 1
			body = strings.TrimSpace(string(text[:max(keep, 0)])) + ellipsis + "\n" + m.URL
		} else {
			body = fitSMS(body, 0)
		}
	}
	return body
}
