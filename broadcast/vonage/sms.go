package vonage

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

// SMS sends text messages through the SMS API. It implements broadcast.Sender and is
// safe for concurrent use.
//
// Each message is a form POST to /sms/json with api_key, api_secret, from (the
// country's sender, else Config.From), to (digits, no "+"), text, type (unicode when the
// text is not GSM-7), client-ref (the delivery id) and callback (the delivery receipt
// URL, PublicURL/hooks/vonage/status?d=DELIVERY).
type SMS struct{ c *Client }

var _ broadcast.Sender = (*SMS)(nil)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// maxText is the longest text sent: Vonage concatenates up to this many characters.
const maxText = 1600

// Send hands m to Vonage; see broadcast.Sender for what the result means.
func (s *SMS) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	_, retryable, err := s.SendID(ctx, m)
	return retryable, err
}

// SendID is Send that also returns Vonage's message id (of the first part).
func (s *SMS) SendID(ctx context.Context, m broadcast.Message) (id string, retryable bool, err error) {
	if !e164.MatchString(m.To) {
		return "", false, fmt.Errorf("vonage sms: %w: %q is not E.164", ErrInvalidNumber, m.To)
	}
	cfg := s.c.cfg
	text := Body(m)
	from := cfg.From
	if f, ok := cfg.Senders.For(m.To); ok {
		from = f
	}
	form := url.Values{
		"api_key":    {cfg.APIKey},
		"api_secret": {cfg.APISecret},
		"from":       {msisdn(from)},
		"to":         {msisdn(m.To)},
		"text":       {text},
	}
	if !twilio.IsGSM7(text) {
		form.Set("type", "unicode")
	}
	if m.DeliveryID != "" {
		form.Set("client-ref", m.DeliveryID)
		form.Set("callback", cfg.PublicURL+PathStatus+"?d="+url.QueryEscape(m.DeliveryID))
		form.Set("status-report-req", "1")
	}
	status, h, body, err := s.c.post(ctx, cfg.SMSAPIURL+"/sms/json", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
	if status != http.StatusOK {
		retryable, err := classifyHTTP("sms", status, h, body, err)
		return "", retryable, err
	}
	var res struct {
		Messages []struct {
			Status    string `json:"status"`
			MessageID string `json:"message-id"`
			ErrorText string `json:"error-text"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.Messages) == 0 {
		// Vonage answered 200 but not as documented: the message may have been accepted,
		// and sending it again could send it twice.
		return "", false, fmt.Errorf("vonage sms: an answer that could not be read: %s", snippet(body))
	}
	// A long text is sent in parts, each with its own status. Once any part was
	// accepted, the person gets something: sending again would repeat it.
	var failed string
	var failedText string
	for _, p := range res.Messages {
		if p.Status == "0" {
			if id == "" {
				id = p.MessageID
			}
			continue
		}
		if failed == "" {
			failed, failedText = p.Status, p.ErrorText
		}
	}
	if id != "" || failed == "" {
		return id, false, nil
	}
	return "", smsRetryable[failed], smsError(failed, failedText)
}

// smsRetryable are the SMS API statuses worth trying again: throttled, an internal
// error, too many connections.
var smsRetryable = map[string]bool{"1": true, "5": true, "10": true}

// smsError describes a non-zero SMS API status. Invalid credentials (4), a barred
// account (8), no credit (9), HTTP not enabled (11), a bad signature (14) and a
// signature where a secret is expected (32) are the account's: ErrUnauthorized.
func smsError(status, text string) error {
	e := fmt.Errorf("vonage sms: status %s: %s", status, text)
	switch status {
	case "4", "8", "9", "11", "14", "32":
		return fmt.Errorf("%w: %w", e, ErrUnauthorized)
	case "3", "6", "7", "29", "33":
		return fmt.Errorf("%w: %w", e, ErrInvalidNumber)
	}
	return e
}

// Body is the text sent for m: m.Text (or m.Title), followed by m.URL unless the text
// already carries it, cut to 1600 characters keeping the link.
func Body(m broadcast.Message) string {
	body := strings.TrimSpace(m.Text)
	if body == "" {
		body = strings.TrimSpace(m.Title)
	}
	if m.URL != "" && !strings.Contains(body, m.URL) {
		body += "\n" + m.URL
	}
	if r := []rune(body); len(r) > maxText {
		if m.URL != "" && strings.HasSuffix(body, m.URL) {
			keep := maxText - len([]rune(m.URL)) - 2
			body = strings.TrimSpace(string(r[:max(keep, 0)])) + "…\n" + m.URL
		} else {
			body = string(r[:maxText-1]) + "…"
		}
	}
	return body
}
