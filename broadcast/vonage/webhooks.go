package vonage

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hashes are the SMS signature methods: md5hash is MD5 over the parameters followed by
// the secret; the others are HMACs keyed with the secret.
var hashes = map[string]func() hash.Hash{
	"md5hash": md5.New, "md5": md5.New, "sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New,
}

// MaxSkew is how far a signed webhook's timestamp may be from now: a recorded request
// replayed later is refused.
const MaxSkew = 5 * time.Minute

// SignSMS computes the "sig" of an SMS webhook's parameters (every one but sig, keys
// sorted, each as "&key=value" with any & or = in a value replaced by _) with method.
// The fake Vonage signs its webhooks with it.
func SignSMS(secret, method string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v := strings.NewReplacer("&", "_", "=", "_").Replace(params.Get(k))
		b.WriteString("&" + k + "=" + v)
	}
	newHash, ok := hashes[method]
	if !ok {
		return ""
	}
	if method == "md5hash" {
		sum := md5.Sum([]byte(b.String() + secret))
		return hex.EncodeToString(sum[:])
	}
	mac := hmac.New(newHash, []byte(secret))
	mac.Write([]byte(b.String()))
	return hex.EncodeToString(mac.Sum(nil))
}

// ValidSMSSignature reports whether params (an inbound SMS or a delivery receipt, query
// and body parameters together, as Vonage sends either GET or POST) carry a valid sig
// and a timestamp within MaxSkew of now. Hex case is ignored.
func ValidSMSSignature(secret, method string, params url.Values, now time.Time) bool {
	sig := params.Get("sig")
	if secret == "" || sig == "" {
		return false
	}
	ts, err := strconv.ParseInt(params.Get("timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > MaxSkew {
		return false
	}
	want := SignSMS(secret, method, params)
	return want != "" && hmac.Equal([]byte(strings.ToLower(sig)), []byte(want))
}

// ValidVoiceToken reports whether authorization ("Bearer <JWT>") is Vonage's signature
// of a call webhook with body: an HS256 JWT keyed with the signature secret, issued
// within MaxSkew of now, whose payload_hash is the SHA-256 (hex) of the body.
func ValidVoiceToken(secret, authorization string, body []byte, now time.Time) bool {
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || secret == "" {
		return false
	}
	parts := strings.Split(strings.TrimSpace(token), ".")
	if len(parts) != 3 {
		return false
	}
	var head struct {
		Alg string `json:"alg"`
	}
	if hb, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil || json.Unmarshal(hb, &head) != nil || head.Alg != "HS256" {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return false
	}
	var claims struct {
		IAT         int64  `json:"iat"`
		PayloadHash string `json:"payload_hash"`
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || json.Unmarshal(pb, &claims) != nil {
		return false
	}
	if now.Sub(time.Unix(claims.IAT, 0)).Abs() > MaxSkew {
		return false
	}
	sum := sha256.Sum256(body)
	return strings.EqualFold(claims.PayloadHash, hex.EncodeToString(sum[:]))
}

// VoiceToken signs a call webhook's body as Vonage does (ValidVoiceToken); the fake uses it.
func VoiceToken(secret string, body []byte, now time.Time) string {
	sum := sha256.Sum256(body)
	jti := strconv.FormatInt(now.UnixNano(), 36)
	head := b64json(map[string]string{"alg": "HS256", "typ": "JWT"})
	payload := b64json(map[string]any{"iat": now.Unix(), "jti": jti, "iss": "Vonage", "payload_hash": hex.EncodeToString(sum[:])})
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(head + "." + payload))
	return "Bearer " + head + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Receipt is one SMS delivery receipt.
type Receipt struct {
	MessageID string // messageId
	Ref       string // client-ref: the delivery id
	// Status is Vonage's: accepted, buffered, delivered, expired, failed, rejected, unknown.
	Status  string
	ErrCode string // err-code, "0" when none
	To      string // msisdn: the recipient
}

// ParseReceipt reads a delivery receipt's parameters.
func ParseReceipt(p url.Values) Receipt {
	return Receipt{MessageID: p.Get("messageId"), Ref: p.Get("client-ref"), Status: strings.ToLower(p.Get("status")),
		ErrCode: p.Get("err-code"), To: p.Get("msisdn")}
}

// Inbound is one inbound SMS.
type Inbound struct {
	MessageID string // messageId
	From      string // msisdn, as E.164 (with "+")
	To        string
	Text      string
}

// ParseInbound reads an inbound SMS's parameters.
func ParseInbound(p url.Values) Inbound {
	from := p.Get("msisdn")
	if from != "" && !strings.HasPrefix(from, "+") {
		from = "+" + from
	}
	return Inbound{MessageID: p.Get("messageId"), From: from, To: p.Get("to"), Text: p.Get("text")}
}

// Statuses the delivery records, by Vonage's: the dispatcher's vocabulary, so the
// incident page reads the same whichever provider carried a message.
var deliveryStatus = map[string]string{
	"delivered": "delivered", "expired": "undelivered", "failed": "failed", "rejected": "failed", "unknown": "sent",
	"accepted": "sent", "buffered": "sent",
	"completed": "completed", "busy": "busy", "cancelled": "canceled", "timeout": "no-answer", "unanswered": "no-answer",
	"started": "initiated", "ringing": "ringing", "answered": "in-progress",
}

// Normalise maps a Vonage status to the one recorded on the delivery (Twilio's words,
// which the rest of the server reads): expired is undelivered, rejected failed, a
// call's timeout no-answer. An unknown status is returned as it is.
func Normalise(status string) string {
	if s, ok := deliveryStatus[strings.ToLower(status)]; ok {
		return s
	}
	return strings.ToLower(status)
}

// CallEvent is one call status event.
type CallEvent struct {
	UUID   string `json:"uuid"`
	Status string `json:"status"`
	To     string `json:"to"`
	From   string `json:"from"`
	Detail string `json:"detail"`
}

// InputEvent is one input (key press) event.
type InputEvent struct {
	UUID string `json:"uuid"`
	DTMF struct {
		Digits   string `json:"digits"`
		TimedOut bool   `json:"timed_out"`
	} `json:"dtmf"`
}
