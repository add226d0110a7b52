package twilio

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGSMAlphabetSizes(t *testing.T) {
	// 128 code points, less the escape to the extension table.
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Errorf("the basic set has %d characters, want 127", n)
	}
	if n := utf8.RuneCountInString(gsmExtension); n != 10 {
		t.Errorf("the extension table has %d characters, want 10", n)
	}
	if len(septets) != 137 {
		t.Errorf("septets has %d entries, want 137 (a character listed twice?)", len(septets))
	}
	for r, s := range transliterations {
		if septets[r] != 0 {
			t.Errorf("%q is GSM-7 and must not be transliterated", r)
		}
		if !IsGSM7(s) {
			t.Errorf("%q transliterates to %q, which is not GSM-7", r, s)
		}
	}
}

func TestSenderIsStableWhenThePoolGrows(t *testing.T) {
	small := &Client{cfg: Config{From: []string{"+15005550006", "+15005550007", "+15005550008"}}}
	large := &Client{cfg: Config{From: append(append([]string(nil), small.cfg.From...), "+15005550010")}}
	moved := 0
	for i := range 1000 {
		to := "+52155" + strings.Repeat("0", 4) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
		a, b := small.sender(to), large.sender(to)
		if a != b {
			if b != "+15005550010" {
				t.Fatalf("%s moved from %s to %s, want moves only to the new number", to, a, b)
			}
			moved++
		}
	}
	// About a quarter should move to the new number; none elsewhere.
	if moved < 150 || moved > 350 {
		t.Errorf("%d of 1000 recipients moved to the new number, want about 250", moved)
	}
}

func TestURLVariants(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"https://x.example/hooks?d=1", []string{"https://x.example/hooks?d=1", "https://x.example:443/hooks?d=1"}},
		{"https://x.example:443/h", []string{"https://x.example:443/h", "https://x.example/h"}},
		{"http://127.0.0.1:8080/h", []string{"http://127.0.0.1:8080/h"}},
		{"http://[::1]:80/h", []string{"http://[::1]:80/h", "http://[::1]/h"}},
	} {
		got := urlVariants(tc.in)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("urlVariants(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCutEscapedStaysWithinRoom(t *testing.T) {
	s := strings.Repeat("a<b & c ", 50)
	for _, room := range []int{0, 1, 5, 17, 100, 1000} {
		got := cutEscaped(s, room)
		if n := len(escape(got)); n > room {
			t.Errorf("cutEscaped(room %d) escapes to %d bytes", room, n)
		}
		if !strings.HasPrefix(s, got) {
			t.Errorf("cutEscaped(room %d) = %q is not a prefix", room, got)
		}
	}
}
