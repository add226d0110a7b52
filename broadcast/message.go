package broadcast

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Channels a message can go out on, from the gentlest to the strongest.
const (
	ChannelWebPush = "webpush"
	ChannelSMS     = "sms"
	ChannelVoice   = "voice"
	// ChannelEmail is a person's email address (broadcast/email).
	ChannelEmail = "email"
)

// Message is one delivery attempt to one recipient on one channel, already rendered in
// the recipient's language.
type Message struct {
	// DeliveryID is stable across retries and resends, so a provider callback, a
	// notification tag or a log line always names the same delivery.
	DeliveryID string
	// Attempt counts from 1; a resend after a crash has a higher attempt, same DeliveryID.
	Attempt int
	Channel string
	// To is the E.164 phone for sms and voice, the browser's PushSubscription JSON for
	// webpush, the address for email.
	To       string
	Language string // "es" or "en"
	Title    string // first words: a push title, the opening of a call, an email's subject
	Text     string // the SMS text, the spoken text, the push body
	// URL is the recipient's one-tap acknowledgement link (absolute).
	URL string
	// Topic groups messages about the same thing (a push replaces an older one).
	Topic string
	// TTL is how long a provider may hold the message for an offline device.
	TTL time.Duration
	// Actions offered with a push notification, e.g. {"ack": "Confirmar recepción"}.
	Actions []Action
}

// Action is a button shown with a notification.
type Action struct {
	ID    string `json:"action"`
	Title string `json:"title"`
}

// Sender hands a message to one provider. It is safe for concurrent use.
//
// Send returns nil once the provider has accepted the message. On failure, retryable
// says whether the same message may be sent again later (timeouts, 429, 5xx): a
// permanent failure (an invalid number, a rejected payload) is never retried. A
// *RetryAfterError tells when to try again; ErrGone (wrapped) means the address no longer
// exists (a push subscription that answered 404 or 410) and must be removed.
type Sender interface {
	Send(ctx context.Context, m Message) (retryable bool, err error)
}

// ErrGone marks an address that no longer exists.
var ErrGone = errors.New("the address no longer exists")

// ErrOptedOut marks a phone whose owner told the provider to stop sending them SMS
// (Twilio 21610, a STOP reply): the delivery fails and the person is recorded as opted
// out of SMS, as if their STOP had reached us.
var ErrOptedOut = errors.New("the recipient opted out of SMS from this sender")

// ErrSuperseded marks a message that is no longer current when its turn to be sent comes
// (a conformity request answered or replaced meanwhile): it fails at once, without a
// retry, and says nothing about the address.
var ErrSuperseded = errors.New("the message is no longer current")

// RetryAfterError is a retryable failure with the provider's requested wait.
type RetryAfterError struct {
	After time.Duration
	Err   error
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }
