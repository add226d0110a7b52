package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/config"
)

// With an SMTP server configured, the readiness page and the declare confirmation also
// say how long emailing everybody with an address takes: 25 people at 5 a second.
func TestEstimatesCountEmail(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) {
		c.Email.URL, c.Email.From = "smtp://mail.example.com:587", "alertas@example.com"
		c.Delivery.Rates = map[string]float64{"sms": 10, "voice": 2, "webpush": 100, "email": 5}
		c.Server.PublicURL = "https://optimum.example.com"
	})
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range 25 {
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,,es,technology,\n", i, i)
	}
	a.upload("/api/v1/people/import", adminToken, "text/csv", []byte(csv.String()))
	type estimate struct {
		Channel       string
		People        int
		RatePerSecond float64 `json:"rate_per_second"`
		Seconds       *int64
		Text          string
	}
	var rd, preview struct{ Estimate []estimate }
	a.do("GET", "/api/v1/readiness", adminToken, nil).json(t, &rd)
	a.do("GET", "/api/v1/audience/preview?teams=technology", adminToken, nil).json(t, &preview)
	for what, got := range map[string][]estimate{"readiness": rd.Estimate, "preview": preview.Estimate} {
		if len(got) != 1 || got[0].Channel != "email" || got[0].People != 25 || got[0].RatePerSecond != 5 ||
			got[0].Seconds == nil || *got[0].Seconds != 5 || got[0].Text != "Correo a 25 personas a 5/s: 5 s" {
			t.Errorf("%s estimates = %+v", what, got)
		}
	}
}
