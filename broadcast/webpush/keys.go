package webpush

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	webpushgo "github.com/SherClockHolmes/webpush-go"
)

// KeysFile is the file in the data folder that keeps the generated VAPID key pair.
const KeysFile = "vapid.json"

// DefaultSubject is the VAPID contact used when neither VAPID_SUBJECT nor an https
// OPTIMUM_PUBLIC_URL is given. Push services use it to reach the operator of a server
// that misbehaves; set a real one in production. It is deliberately not "@localhost":
// Apple's push service rejects that.
const DefaultSubject = "mailto:optimum-bcp@example.com"

// Where the keys came from.
const (
	SourceEnv       = "env"       // VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY
	SourceFile      = "file"      // DATA/vapid.json, generated on an earlier start
	SourceGenerated = "generated" // generated now and written to DATA/vapid.json
)

// Keys are the server's VAPID identity (RFC 8292). Browsers subscribe with Public as
// their applicationServerKey, so every subscription is bound to it: changing the pair
// orphans every subscription, and several nodes must share one pair.
type Keys struct {
	// Public is the uncompressed P-256 point (65 bytes), unpadded base64url (87 characters).
	Public string
	// Private is the P-256 scalar (32 bytes), unpadded base64url (43 characters).
	Private string
	// Subject is the contact push services see in the JWT: "mailto:…" or "https://…".
	Subject string
	// Source says where the pair came from: SourceEnv, SourceFile or SourceGenerated.
	Source string
}

type keysFile struct {
	PublicKey  string    `json:"public_key"`
	PrivateKey string    `json:"private_key"`
	CreatedAt  time.Time `json:"created_at"`
}

// LoadKeys returns the VAPID keys: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY when set (both
// or neither), otherwise the pair in dataDir/vapid.json, generating and writing it (mode
// 0600, without ever replacing an existing file) on first start. The subject is
// VAPID_SUBJECT ("mailto:ops@example.com", a bare address, or an https URL); without
// it, the origin of OPTIMUM_PUBLIC_URL when that is https, else DefaultSubject.
func LoadKeys(dataDir string, getenv func(string) string) (Keys, error) {
	subject, err := subjectOf(getenv("VAPID_SUBJECT"), getenv("OPTIMUM_PUBLIC_URL"))
	if err != nil {
		return Keys{}, err
	}
	pub, priv := strings.TrimSpace(getenv("VAPID_PUBLIC_KEY")), strings.TrimSpace(getenv("VAPID_PRIVATE_KEY"))
	switch {
	case pub != "" && priv != "":
		k, err := checkPair(pub, priv)
		if err != nil {
			return Keys{}, fmt.Errorf("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY: %w", err)
		}
		k.Subject, k.Source = subject, SourceEnv
		return k, nil
	case pub != "" || priv != "":
		return Keys{}, errors.New("set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither (a pair is then kept in the data folder)")
	}
	path := filepath.Join(dataDir, KeysFile)
	k, err := readKeys(path)
	if errors.Is(err, fs.ErrNotExist) {
		k, err = generateKeys(dataDir, path)
	}
	if err != nil {
		return Keys{}, err
	}
	k.Subject = subject
	return k, nil
}

// GenerateKeys returns a new key pair, written nowhere (for a command that prints one
// to put in VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY). Subject and Source are empty.
func GenerateKeys() (Keys, error) {
	priv, pub, err := webpushgo.GenerateVAPIDKeys()
	if err != nil {
		return Keys{}, fmt.Errorf("generate VAPID keys: %w", err)
	}
	return checkPair(pub, priv)
}

func readKeys(path string) (Keys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Keys{}, err
	}
	var f keysFile
	if err := json.Unmarshal(data, &f); err != nil {
		return Keys{}, fmt.Errorf("read VAPID keys %s: %w", path, err)
	}
	k, err := checkPair(f.PublicKey, f.PrivateKey)
	if err != nil {
		return Keys{}, fmt.Errorf("read VAPID keys %s: %w", path, err)
	}
	k.Source = SourceFile
	return k, nil
}

// generateKeys writes a new pair to a temporary file and links it into place, so a
// reader never sees half a file and two processes starting at once agree on one pair.
func generateKeys(dataDir, path string) (Keys, error) {
	k, err := GenerateKeys()
	if err != nil {
		return Keys{}, err
	}
	data, err := json.MarshalIndent(keysFile{PublicKey: k.Public, PrivateKey: k.Private, CreatedAt: time.Now().UTC().Truncate(time.Second)}, "", "  ")
	if err != nil {
		return Keys{}, err
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return Keys{}, fmt.Errorf("write VAPID keys: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".vapid-*.json") // mode 0600
	if err != nil {
		return Keys{}, fmt.Errorf("write VAPID keys: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Keys{}, fmt.Errorf("write VAPID keys: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeys(path) // another process won the race: use its pair
		}
		return Keys{}, fmt.Errorf("write VAPID keys: %w", err)
	}
	if d, err := os.Open(dataDir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	k.Source = SourceGenerated
	return k, nil
}

// checkPair decodes both keys (padded or not, base64url or standard), checks that the
// public key is the private key's, and returns them as unpadded base64url.
func checkPair(pub, priv string) (Keys, error) {
	pubBytes, err := decodeKey(pub)
	if err != nil || len(pubBytes) != 65 {
		return Keys{}, errors.New("the public key must be a base64url uncompressed P-256 point (65 bytes)")
	}
	privBytes, err := decodeKey(priv)
	if err != nil || len(privBytes) != 32 {
		return Keys{}, errors.New("the private key must be a base64url P-256 scalar (32 bytes)")
	}
	key, err := ecdh.P256().NewPrivateKey(privBytes)
	if err != nil {
		return Keys{}, errors.New("the private key is not a valid P-256 key")
	}
	if !bytes.Equal(key.PublicKey().Bytes(), pubBytes) {
		return Keys{}, errors.New("the public key does not belong to the private key")
	}
	enc := base64.RawURLEncoding
	return Keys{Public: enc.EncodeToString(pubBytes), Private: enc.EncodeToString(privBytes)}, nil
}

// decodeKey accepts base64url or standard base64, padded or not.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// subjectOf returns the normalized VAPID subject: "mailto:addr" or an https URL.
func subjectOf(subject, publicURL string) (string, error) {
	subject = strings.TrimSpace(subject)
	if subject == "" {
		if u, err := url.Parse(strings.TrimSpace(publicURL)); err == nil && u.Scheme == "https" && u.Host != "" && !isLocalHost(u.Hostname()) {
			return "https://" + u.Host, nil
		}
		return DefaultSubject, nil
	}
	if strings.HasPrefix(subject, "https:") {
		u, err := url.Parse(subject)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("VAPID_SUBJECT %q: an https subject must be an absolute URL such as https://bcp.example.com", subject)
		}
		return subject, nil
	}
	addr := strings.TrimPrefix(subject, "mailto:")
	if strings.HasPrefix(strings.ToLower(addr), "mailto:") || strings.Contains(addr, ":") && !strings.Contains(addr, "@") {
		return "", fmt.Errorf("VAPID_SUBJECT %q must be mailto:address or an https URL", subject)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != addr {
		return "", fmt.Errorf("VAPID_SUBJECT %q must be mailto:address or an https URL", subject)
	}
	if _, domain, _ := strings.Cut(addr, "@"); isLocalHost(domain) {
		return "", fmt.Errorf("VAPID_SUBJECT %q: push services (Apple's among them) reject localhost contacts", subject)
	}
	return "mailto:" + addr, nil
}

func isLocalHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
