package vonage

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
)

// Voice places calls through the Voice API that speak the alert and take "press 1 to
// acknowledge". It implements broadcast.Sender and is safe for concurrent use.
//
// Each call is a POST to /v1/calls with a JWT (RS256, the application's private key)
// and an inline NCCO: the alert said twice, the prompt, then an input action that posts
// the key pressed to PublicURL/hooks/vonage/voice/input?d=DELIVERY, answered with
// InputReply. Call events go to PublicURL/hooks/vonage/voice/event?d=DELIVERY.
type Voice struct{ c *Client }

var _ broadcast.Sender = (*Voice)(nil)

// Send places the call. Vonage accepting it (201) is success.
func (v *Voice) Send(ctx context.Context, m broadcast.Message) (bool, error) {
	_, retryable, err := v.SendID(ctx, m)
	return retryable, err
}

// SendID is Send that also returns the call's uuid.
func (v *Voice) SendID(ctx context.Context, m broadcast.Message) (uuid string, retryable bool, err error) {
	if !e164.MatchString(m.To) {
		return "", false, fmt.Errorf("vonage voice: %w: %q is not E.164", ErrInvalidNumber, m.To)
	}
	cfg := v.c.cfg
	if !e164.MatchString(cfg.From) {
		return "", false, ErrNoCaller
	}
	type endpoint struct {
		Type   string `json:"type"`
		Number string `json:"number"`
	}
	req := map[string]any{
		"to":           []endpoint{{"phone", msisdn(m.To)}},
		"from":         endpoint{"phone", msisdn(cfg.From)},
		"ncco":         v.NCCO(m),
		"event_url":    []string{cfg.PublicURL + PathVoiceEvent + "?d=" + url.QueryEscape(m.DeliveryID)},
		"event_method": "POST",
	}
	body, err := json.Marshal(req)
	if err != nil {
		return "", false, err
	}
	token, err := v.c.appToken(time.Now())
	if err != nil {
		return "", false, fmt.Errorf("vonage voice: %w", err)
	}
	status, h, res, err := v.c.post(ctx, cfg.VoiceAPIURL+"/v1/calls", "application/json", body, http.Header{"Authorization": {"Bearer " + token}})
	if status != http.StatusCreated && status != http.StatusOK {
		retryable, err := classifyHTTP("voice", status, h, res, err)
		return "", retryable, err
	}
	var out struct {
		UUID string `json:"uuid"`
	}
	_ = json.Unmarshal(res, &out) // accepted either way: the events carry the uuid
	return out.UUID, false, nil
}

// appToken is the JWT of a Voice API request: RS256 over application_id, iat, exp
// (15 minutes) and a random jti, signed with the application's private key.
func (c *Client) appToken(now time.Time) (string, error) {
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := map[string]any{
		"application_id": c.cfg.ApplicationID,
		"iat":            now.Unix(),
		"exp":            now.Add(15 * time.Minute).Unix(),
		"jti":            hex.EncodeToString(jti),
	}
	head := b64json(map[string]string{"alg": "RS256", "typ": "JWT"})
	payload := b64json(claims)
	sum := sha256.Sum256([]byte(head + "." + payload))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return head + "." + payload + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// speech holds what a call says, per language (Vonage's language codes).
var speech = map[string]struct{ lang, prompt, thanks, retry, bye, pollPrompt, safe, help string }{
	"es": {"es-MX", "Presiona 1 para confirmar recepción.",
		"Gracias. Tu confirmación quedó registrada.", "No entendimos.",
		"No se registró tu confirmación. Hasta luego.",
		"Si estás a salvo, presiona 1. Si necesitas ayuda, presiona 2.",
		"Gracias. Registramos que estás a salvo.",
		"Registramos que necesitas ayuda. El equipo de continuidad ya lo sabe."},
	"en": {"en-US", "Press 1 to acknowledge.",
		"Thank you. Your acknowledgement is recorded.", "Sorry, we did not get that.",
		"Your acknowledgement was not recorded. Goodbye.",
		"If you are safe, press 1. If you need help, press 2.",
		"Thank you. We recorded that you are safe.",
		"We recorded that you need help. The continuity team knows."},
}

// refused is said when a key press cannot be recorded: the number is shared.
var refused = map[string]string{
	"es": "Este número está registrado para más de una persona, así que no podemos registrar tu respuesta. Responde desde la aplicación o avisa a tu responsable de continuidad. Adiós.",
	"en": "This number is registered for more than one person, so your answer cannot be recorded. Answer in the app or tell your continuity manager. Goodbye.",
}

func language(tag string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(tag)), "en") {
		return "en"
	}
	return "es"
}

// Answers to a call, as the input handler reports them to InputReply.
const (
	AnswerNone       = ""
	AnswerAcked      = "ack"
	AnswerSafe       = "safe"
	AnswerHelpNeeded = "help_needed"
	AnswerRefused    = "refused"
)

func isPoll(m broadcast.Message) bool {
	for _, a := range m.Actions {
		if a.ID == AnswerSafe {
			return true
		}
	}
	return false
}

var links = regexp.MustCompile(`https?://\S+`)

// NCCO is the call's script for m: the alert said twice and the prompt, each of which a
// key press interrupts, then the input action that waits 10 s for one digit.
func (v *Voice) NCCO(m broadcast.Message) []map[string]any {
	s := speech[language(m.Language)]
	prompt := s.prompt
	if isPoll(m) {
		prompt = s.pollPrompt
	}
	spoken := strings.Join(strings.Fields(links.ReplaceAllString(strings.TrimSpace(m.Title+". "+m.Text), "")), " ")
	if r := []rune(spoken); len(r) > 1400 {
		spoken = string(r[:1400])
	}
	action := v.c.cfg.PublicURL + PathVoiceInput + "?d=" + url.QueryEscape(m.DeliveryID) + "&p=" + strconv.FormatBool(isPoll(m))
	return []map[string]any{
		{"action": "talk", "text": spoken, "language": s.lang, "loop": 2, "bargeIn": true},
		{"action": "talk", "text": prompt, "language": s.lang, "bargeIn": true},
		input(action),
	}
}

func input(action string) map[string]any {
	return map[string]any{"action": "input", "type": []string{"dtmf"},
		"dtmf": map[string]any{"maxDigits": 1, "timeOut": 10}, "eventUrl": []string{action}, "eventMethod": "POST"}
}

// InputReply is the NCCO (JSON) that answers a key press: thanks when it recorded an
// answer, a refusal when the number is shared, otherwise the question again, posting
// the next key press to nextURL, or goodbye when nextURL is "" (asked enough times).
func InputReply(lang, answer string, poll bool, nextURL string) []byte {
	lang = language(lang)
	s := speech[lang]
	talk := func(text string) map[string]any {
		return map[string]any{"action": "talk", "text": text, "language": s.lang}
	}
	var ncco []map[string]any
	if thanks := map[string]string{AnswerAcked: s.thanks, AnswerSafe: s.safe, AnswerHelpNeeded: s.help, AnswerRefused: refused[lang]}[answer]; thanks != "" {
		ncco = []map[string]any{talk(thanks)}
	} else if nextURL == "" {
		ncco = []map[string]any{talk(s.bye)}
	} else {
		prompt := s.prompt
		if poll {
			prompt = s.pollPrompt
		}
		again := talk(s.retry + " " + prompt)
		again["bargeIn"] = true
		ncco = []map[string]any{again, input(nextURL)}
	}
	b, _ := json.Marshal(ncco)
	return b
}
