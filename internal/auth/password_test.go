package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
)

// cheap keeps the tests fast; the encoding and the checks are the same at any cost.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashPasswordEncodesPHCString(t *testing.T) {
	got := HashPassword("correct horse battery", DefaultParams)
	parts := strings.Split(got, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=65536,t=3,p=4" {
		t.Fatalf("got %q, want $argon2id$v=19$m=65536,t=3,p=4$salt$hash", got)
	}
	if got, want := len(parts[4]), 22; got != want { // 16 bytes, unpadded base64
		t.Errorf("salt length = %d, want %d", got, want)
	}
	if got, want := len(parts[5]), 43; got != want { // 32 bytes
		t.Errorf("hash length = %d, want %d", got, want)
	}
	if again := HashPassword("correct horse battery", DefaultParams); again == got {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// referenceHash is the reference implementation's test vector (argon2 test.c: "password",
// salt "somesalt", m=65536, t=2, p=1): hashes made elsewhere must verify here.
const referenceHash = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"

func TestVerifyPassword(t *testing.T) {
	h := HashPassword("correct horse battery", cheap)
	for _, tt := range []struct {
		name, password, encoded string
		want                    bool
	}{
		{"right password", "correct horse battery", h, true},
		{"reference vector", "password", referenceHash, true},
		{"reference vector, wrong password", "Password", referenceHash, false},
		{"wrong password", "correct horse batterY", h, false},
		{"empty password", "", h, false},
		{"empty hash", "correct horse battery", "", false},
		{"bcrypt hash", "correct horse battery", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", false},
		{"argon2i, not id", "correct horse battery", strings.Replace(h, "argon2id", "argon2i", 1), false},
		{"other version", "correct horse battery", strings.Replace(h, "v=19", "v=16", 1), false},
		{"absurd memory", "correct horse battery", strings.Replace(h, "m=64,", "m=99999999,", 1), false},
		{"bad base64", "correct horse battery", h[:len(h)-3] + "!!!", false},
		{"truncated", "correct horse battery", h[:strings.LastIndex(h, "$")], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerifyPassword(tt.password, tt.encoded); got != tt.want {
				t.Errorf("VerifyPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		name, password, email, wantMsg string
	}{
		{"twelve characters", "abcdefghijkl", "ana@example.com", ""},
		{"eleven characters", "abcdefghijk", "ana@example.com", "at least 12"},
		{"twelve runes, more bytes", "ñandú ñandú!", "ana@example.com", ""},
		{"256 characters", strings.Repeat("a", 256), "", ""},
		{"257 characters", strings.Repeat("a", 257), "", "at most 256"},
		{"the email", "Ana.Lopez@Example.com", "ana.lopez@example.com", "email"},
		{"not UTF-8", "abcdefghijkl\xff", "", "UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.email, "password")
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			f := optimum.ErrorFields(err)
			if optimum.ErrorCode(err) != optimum.EINVALID || len(f) != 1 || f[0].Field != "password" || !strings.Contains(f[0].Message, tt.wantMsg) {
				t.Errorf("got %v, want an invalid password field saying %q", err, tt.wantMsg)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"ana@example.com", "ana@example.com", true},
		{"  Ana.Lopez@Example.COM ", "ana.lopez@example.com", true},
		{"ops+bcp@corp.mx", "ops+bcp@corp.mx", true},
		{"admin@localhost", "admin@localhost", true},
		{"", "", false},
		{"ana", "", false},
		{"ana@", "", false},
		{"Ana <ana@example.com>", "", false},
		{"ana@example.com, bob@example.com", "", false},
		{strings.Repeat("a", 250) + "@example.com", "", false},
	} {
		got, err := NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestLockoutDelay(t *testing.T) {
	l := DefaultLockout
	for _, tt := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{4, 0},
		{5, time.Second},
		{6, 2 * time.Second},
		{7, 4 * time.Second},
		{14, 512 * time.Second},
		{15, 15 * time.Minute}, // 1024 s is over the cap
		{100, 15 * time.Minute},
		{1 << 30, 15 * time.Minute},
	} {
		if got := l.Delay(tt.failures); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestThrottledErrorRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want int
	}{
		{time.Millisecond, 1},
		{time.Second, 1},
		{1500 * time.Millisecond, 2},
		{15 * time.Minute, 900},
	} {
		err := &ThrottledError{Wait: tt.wait}
		if got := err.RetryAfter(); got != tt.want {
			t.Errorf("RetryAfter(%v) = %d, want %d", tt.wait, got, tt.want)
		}
		if optimum.ErrorCode(err) != optimum.ERATELIMITED {
			t.Errorf("code = %q, want %q", optimum.ErrorCode(err), optimum.ERATELIMITED)
		}
	}
}
