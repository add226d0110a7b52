package broadcast_test

import (
	"encoding/json"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
)

func TestEstimatesSayHowLongEachChannelTakes(t *testing.T) {
	channels := []string{broadcast.ChannelWebPush, broadcast.ChannelSMS, broadcast.ChannelVoice}
	rates := map[string]float64{broadcast.ChannelSMS: 10, broadcast.ChannelVoice: 2}
	people := map[string]int{broadcast.ChannelWebPush: 1200, broadcast.ChannelSMS: 500, broadcast.ChannelVoice: 500}
	for _, tc := range []struct {
		lang string
		want string
	}{
		{"es", `[{"channel":"webpush","people":1200,"rate_per_second":0,"seconds":null,"text":"Push a 1200 personas: sin límite de ritmo"},` +
			`{"channel":"sms","people":500,"rate_per_second":10,"seconds":50,"text":"SMS a 500 personas a 10/s: 50 s"},` +
			`{"channel":"voice","people":500,"rate_per_second":2,"seconds":250,"text":"Llamada a 500 personas a 2/s: 4 min 10 s"}]`},
		{"en", `[{"channel":"webpush","people":1200,"rate_per_second":0,"seconds":null,"text":"Push to 1,200 people: no rate limit"},` +
			`{"channel":"sms","people":500,"rate_per_second":10,"seconds":50,"text":"SMS to 500 people at 10/s: 50 s"},` +
			`{"channel":"voice","people":500,"rate_per_second":2,"seconds":250,"text":"Call to 500 people at 2/s: 4 min 10 s"}]`},
		{"fr", `[{"channel":"webpush","people":1200,"rate_per_second":0,"seconds":null,"text":"Push a 1200 personas: sin límite de ritmo"},` +
			`{"channel":"sms","people":500,"rate_per_second":10,"seconds":50,"text":"SMS a 500 personas a 10/s: 50 s"},` +
			`{"channel":"voice","people":500,"rate_per_second":2,"seconds":250,"text":"Llamada a 500 personas a 2/s: 4 min 10 s"}]`},
	} {
		got, _ := json.Marshal(broadcast.Estimates(channels, people, rates, tc.lang))
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.lang, got, tc.want)
		}
	}
	// Nobody on a channel: no estimate for it.
	if got := broadcast.Estimates(channels, map[string]int{broadcast.ChannelSMS: 0}, rates, "es"); len(got) != 0 {
		t.Errorf("estimates for nobody: %+v", got)
	}
}

func TestEstimateTexts(t *testing.T) {
	sec := func(s int64) *int64 { return &s }
	for _, tc := range []struct {
		e      broadcast.Estimate
		es, en string
	}{
		{broadcast.Estimate{Channel: "sms", People: 1, RatePerSecond: 10, Seconds: sec(1)}, "SMS a 1 persona a 10/s: 1 s", "SMS to 1 person at 10/s: 1 s"},
		{broadcast.Estimate{Channel: "sms", People: 12500, RatePerSecond: 0.5, Seconds: sec(25000)},
			"SMS a 12\u00a0500 personas a 0,5/s: 6 h 56 min", "SMS to 12,500 people at 0.5/s: 6 h 56 min"},
		{broadcast.Estimate{Channel: "voice", People: 100000, RatePerSecond: 1000, Seconds: sec(100)},
			"Llamada a 100\u00a0000 personas a 1000/s: 1 min 40 s", "Call to 100,000 people at 1,000/s: 1 min 40 s"},
	} {
		if got := tc.e.Describe("es"); got != tc.es {
			t.Errorf("es: %q, want %q", got, tc.es)
		}
		if got := tc.e.Describe("en"); got != tc.en {
			t.Errorf("en: %q, want %q", got, tc.en)
		}
	}
	for _, tc := range []struct {
		seconds int64
		want    string
	}{
		{0, "0 s"}, {59, "59 s"}, {60, "1 min"}, {61, "1 min 1 s"}, {250, "4 min 10 s"}, {3600, "1 h"}, {3661, "1 h 1 min"}, {7500, "2 h 5 min"},
	} {
		if got := broadcast.FormatDuration(tc.seconds); got != tc.want {
			t.Errorf("FormatDuration(%d) = %q, want %q", tc.seconds, got, tc.want)
		}
	}
}
