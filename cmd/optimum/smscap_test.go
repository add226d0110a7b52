package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Once the daily cap of non-alert SMS is reached, verification codes are refused and
// crisis alerts still go out by SMS.
func TestDailySMSCapNeverBlocksAlerts(t *testing.T) {
	example, err := os.ReadFile("../../configs/optimum.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	capped := bytes.Replace(example, []byte("non_alert_sms_per_day: 500"), []byte("non_alert_sms_per_day: 1"), 1)
	if bytes.Equal(capped, example) {
		t.Fatal("the example file has no non_alert_sms_per_day: 500")
	}
	file := filepath.Join(t.TempDir(), "optimum.yaml")
	if err := os.WriteFile(file, capped, 0o600); err != nil {
		t.Fatal(err)
	}
	fake, base, api, _ := startTwilioServer(t, "technology", map[string]string{"OPTIMUM_CONFIG": file})
	if status, body := api.do("POST", "/api/v1/users", "application/json",
		`{"email":"ana@example.com","name":"Ana López","role":"responder","password":"una frase de paso larga"}`); status != 201 {
		t.Fatalf("create user = %d %s", status, body)
	}
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"ana@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in = %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	cookie := strings.Split(res.Header.Get("Set-Cookie"), ";")[0]
	askCode := func() (int, string) {
		req, _ := http.NewRequest("POST", base+"/api/v1/me/phone/verification", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("Accept-Language", "en")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		return res.StatusCode, buf.String()
	}
	if status, body := askCode(); status != 202 {
		t.Fatalf("first code = %d %s", status, body)
	}
	eventually(t, "the code by SMS", func() bool { return len(fake.Messages()) == 1 })
	if status, body := askCode(); status != 429 || !strings.Contains(body, "alerts still go out") {
		t.Fatalf("a code over the daily cap = %d %s", status, body)
	}
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","location":"CDMX","teams":["technology"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "both alerts by SMS despite the cap", func() bool { return len(fake.Messages()) == 3 })
	for _, m := range fake.Messages()[1:] {
		if !strings.Contains(m.Form.Get("Body"), "/a/") {
			t.Errorf("not an alert: %q", m.Form.Get("Body"))
		}
	}
}
