package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/config"
)

// The readiness page and the declare confirmation say how long reaching everybody takes
// on each channel at the configured rates: 20 people with a phone, 5 without, SMS at
// 10/s and calls at 2/s; nobody has a browser subscribed, so there is no push estimate.
func TestReadinessAndPreviewEstimateTheTimeToReachEverybody(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) {
		c.Twilio.AccountSID, c.Twilio.AuthToken, c.Twilio.From = "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", []string{"+15005550006"}
		c.Delivery.Rates = map[string]float64{"sms": 10, "voice": 2, "webpush": 100}
		c.Server.PublicURL = "https://optimum.example.com"
	})
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range 25 {
		phone := ""
		if i < 20 {
			phone = fmt.Sprintf("+5255%08d", 10000000+i)
		}
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,%s,es,technology,\n", i, i, phone)
	}
	a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(csv.String()))
	type estimate struct {
		Channel       string
		People        int
		RatePerSecond float64 `json:"rate_per_second"`
		Seconds       *int64
		Text          string
	}
	check := func(what string, got []estimate, texts ...string) {
		t.Helper()
		want := []estimate{
			{Channel: "sms", People: 20, RatePerSecond: 10, Text: texts[0]},
			{Channel: "voice", People: 20, RatePerSecond: 2, Text: texts[1]},
		}
		seconds := []int64{2, 10}
		if len(got) != len(want) {
			t.Fatalf("%s: estimates %+v", what, got)
		}
		for i := range want {
			if got[i].Seconds == nil || *got[i].Seconds != seconds[i] {
				t.Errorf("%s: %s seconds %v, want %d", what, got[i].Channel, got[i].Seconds, seconds[i])
			}
			got[i].Seconds = nil
			if got[i] != want[i] {
				t.Errorf("%s: %+v, want %+v", what, got[i], want[i])
			}
		}
	}
	var rd struct {
		Overall  struct{ People int }
		Estimate []estimate
	}
	res := a.do("GET", "/api/v1/readiness", adminToken, nil, "Accept-Language", "es-MX,es;q=0.9")
	res.json(t, &rd)
	if rd.Overall.People != 25 {
		t.Errorf("readiness = %s", res.body)
	}
	check("readiness", rd.Estimate, "SMS a 20 personas a 10/s: 2 s", "Llamada a 20 personas a 2/s: 10 s")

	var preview struct {
		People   int
		Estimate []estimate
	}
	res = a.do("GET", "/api/v1/audience/preview?teams=technology", adminToken, nil, "Accept-Language", "en")
	// (An API client that sends no Accept-Language gets English, as with every text.)
	res.json(t, &preview)
	if preview.People != 25 {
		t.Errorf("preview = %s", res.body)
	}
	check("preview", preview.Estimate, "SMS to 20 people at 10/s: 2 s", "Call to 20 people at 2/s: 10 s")
}
