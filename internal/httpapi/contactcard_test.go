package httpapi_test

import (
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/config"
)

// The numbers alerts come from are offered as a contact card, to save and let through
// silent mode.
func TestAlertNumbersAsAContactCard(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) {
		c.Twilio.From = []string{"+15550001111", " +15550002222 ", "+15550001111"}
	})
	res := a.do("GET", "/api/v1/alert-numbers", adminToken, nil)
	var got struct {
		Numbers []string `json:"numbers"`
		VCard   string   `json:"vcard"`
	}
	res.json(t, &got)
	if res.status != 200 || strings.Join(got.Numbers, " ") != "+15550001111 +15550002222" || got.VCard != "api/v1/alert-numbers.vcf" {
		t.Fatalf("alert-numbers = %d %+v", res.status, got)
	}

	res = a.do("GET", "/api/v1/alert-numbers.vcf", adminToken, nil)
	want := "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:OPTIMUM BCP Alertas\r\nN:OPTIMUM BCP Alertas;;;;\r\nORG:OPTIMUM BCP\r\n" +
		"TEL;TYPE=CELL,VOICE:+15550001111\r\nTEL;TYPE=CELL,VOICE:+15550002222\r\n" +
		"NOTE:Alertas de crisis de OPTIMUM BCP. Permite que te avisen aunque el teléfono esté en silencio.\r\nEND:VCARD\r\n"
	if res.status != 200 || string(res.body) != want {
		t.Fatalf("vcard = %d\n%q\nwant\n%q", res.status, res.body, want)
	}
	if ct := res.header.Get("Content-Type"); ct != "text/vcard; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	res = a.do("GET", "/api/v1/alert-numbers.vcf", adminToken, nil, "Accept-Language", "en")
	if !strings.Contains(string(res.body), "FN:OPTIMUM BCP Alerts\r\n") {
		t.Errorf("English card: %q", res.body)
	}
	// Signed out: no numbers.
	if res := a.do("GET", "/api/v1/alert-numbers", "", nil); res.status != 401 {
		t.Errorf("signed out = %d, want 401", res.status)
	}
}
