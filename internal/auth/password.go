package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"golang.org/x/crypto/argon2"
)

// Params are the Argon2id cost parameters of new password hashes. A stored hash carries
// its own parameters, so raising them later keeps old hashes verifiable.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8
}

// DefaultParams is the second recommended option of RFC 9106 (§4), the one x/crypto's
// documentation cites: 64 MiB, 3 passes, 4 lanes. It costs about 0.1–0.3 s of one core
// here, which is why Service bounds how many hashes run at once. Tests lower it with
// Service.SetPasswordParams; the server never does.
var DefaultParams = Params{Memory: 64 * 1024, Time: 3, Threads: 4}

const (
	saltLen = 16
	keyLen  = 32

	// MinPassword and MaxPassword bound a password's length in characters.
	MinPassword = 12
	MaxPassword = 256
)

var b64 = base64.RawStdEncoding

// HashPassword returns the PHC string of password with a fresh random salt:
// $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>, both in unpadded standard base64.
func HashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("not an argon2id hash")

// decodeHash parses a PHC argon2id string. It refuses parameters far beyond any sane
// setting, so a corrupt row cannot make one verification eat the machine.
func decodeHash(encoded string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, errBadHash
	}
	if p.Memory < 8 || p.Memory > 1<<20 || p.Time < 1 || p.Time > 64 || threads < 1 || threads > 64 || p.Memory < 8*threads {
		return p, nil, nil, errBadHash
	}
	p.Threads = uint8(threads)
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC string encoded. The keys are
// compared in constant time. A malformed encoding never matches.
func VerifyPassword(password, encoded string) bool {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// CheckPassword applies the password policy: MinPassword to MaxPassword characters of
// valid UTF-8, and not the account's own email. Length is the only composition rule, as
// NIST SP 800-63B advises; field names the input in the error.
func CheckPassword(password, email, field string) error {
	var msg string
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		msg = "must be valid UTF-8 text"
	case n < MinPassword:
		msg = fmt.Sprintf("must have at least %d characters", MinPassword)
	case n > MaxPassword:
		msg = fmt.Sprintf("must have at most %d characters", MaxPassword)
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		msg = "must not be the email address"
	default:
		return nil
	}
	return optimum.Invalid("The password does not meet the policy.", []optimum.FieldError{{Field: field, Message: msg}})
}

// hasher runs the expensive hashes: with the parameters of new hashes, a dummy hash to
// verify against when an account has none, and a bound on how many run at once (each
// holds Params.Memory of RAM, so a burst of sign-ins must queue, not exhaust memory).
type hasher struct {
	mu     sync.Mutex
	params Params
	dummy  string
	slots  chan struct{}
}

func newHasher() *hasher {
	return &hasher{params: DefaultParams, slots: make(chan struct{}, max(2, runtime.NumCPU()))}
}

// SetPasswordParams sets the cost of new password hashes (and of the dummy one). Call it
// before serving; tests use it to make hashing cheap.
func (s *Service) SetPasswordParams(p Params) {
	s.hash.mu.Lock()
	s.hash.params, s.hash.dummy = p, ""
	s.hash.mu.Unlock()
}

// dummyHash is the hash verified when an account has none, so that an unknown email
// costs as much as a known one. Its password is random and never kept.
func (s *Service) dummyHash() string {
	s.hash.mu.Lock()
	defer s.hash.mu.Unlock()
	if s.hash.dummy == "" {
		s.hash.dummy = HashPassword(NewSecret(""), s.hash.params)
	}
	return s.hash.dummy
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hash.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hash.slots }()
	s.hash.mu.Lock()
	p := s.hash.params
	s.hash.mu.Unlock()
	return HashPassword(password, p), nil
}

func (s *Service) verifyPassword(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hash.slots }()
	return VerifyPassword(password, encoded), nil
}
