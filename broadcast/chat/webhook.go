package chat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Webhook posts events to any HTTP endpoint (Mattermost, Google Chat through a relay, an
// ITSM), signed as the Standard Webhooks specification (v1) says: headers webhook-id
// (the post's id, the same on every retry, so the receiver can drop a duplicate),
// webhook-timestamp (Unix seconds of this attempt) and webhook-signature
// ("v1," + base64 of HMAC-SHA256 over "id.timestamp.body", keyed with the secret's
// decoded bytes).
type Webhook struct {
	targets Targets
	client  *http.Client
	now     func() time.Time
}

var _ broadcast.Sender = (*Webhook)(nil)

// NewWebhook returns the webhook sender; client should be Client(guard); now is the
// clock of the timestamps (nil for time.Now).
func NewWebhook(targets Targets, client *http.Client, now func() time.Time) *Webhook {
	if now == nil {
		now = time.Now
	}
	return &Webhook{targets: targets, client: client, now: now}
}

// Send posts the event body, signed.
func (s *Webhook) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	_, retryable, err := s.SendVia(ctx, m)
	return retryable, err
}

// SendVia is Send that also returns what the endpoint answered, recorded with the attempt.
func (s *Webhook) SendVia(ctx context.Context, m broadcast.Message) (string, bool, error) {
	t, p, err := decode(ctx, s.targets, m, ChannelWebhook)
	if err != nil {
		retryable, err := decodeFailed(err)
		return "", retryable, err
	}
	ts := s.now().Unix()
	sig, err := Sign(t.Secret, m.DeliveryID, ts, p.Body)
	if err != nil {
		return "", false, err
	}
	h := http.Header{}
	h.Set("webhook-id", m.DeliveryID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	h.Set("User-Agent", "OPTIMUM-BCP-Webhooks/1")
	return post(ctx, s.client, t.URL, h, p.Body)
}

// SecretPrefix starts every signing secret.
const SecretPrefix = "whsec_"

// NewSecret returns a new signing secret: "whsec_" and the base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// Sign returns the webhook-signature of body for the message id and timestamp.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return "", fmt.Errorf("the webhook secret is not %s followed by base64", SecretPrefix)
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%d.", id, timestamp)
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}
