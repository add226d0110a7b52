package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
)

// A drill through the real server and the fake Twilio: every SMS says SIMULACRO first;
// a ladder nags both every 2 minutes; Ana acknowledges by SMS and her reminders stop,
// Beto never does; the window closes and the drill ends itself (the server's own tick), nothing more is sent, and
// the report says who was reached and who confirmed.
func TestDrillRunsOverTwilioAndEndsItselfWhenTheWindowCloses(t *testing.T) {
	clk := useClock(t)
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "drill-admin-token-0123456789"
	base, logs := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	})
	fake.Route(public, base)
	api := client{t, base, token}
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+525500000003,es,technology:lead,\n"+
		"Beto Ruiz,beto@example.com,+525500000004,es,technology:lead,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	// A ladder that nags everyone every 2 minutes until each has acknowledged.
	var reminders []string
	for m := 0; m < 20; m += 2 {
		reminders = append(reminders, fmt.Sprintf(`{"after":"%dm","channels":["sms"]}`, m))
	}
	status, body := api.do("POST", "/api/v1/ladders", "application/json", `{"id":"everyone","name":{"es":"Todos","en":"Everyone"},
		"priorities":["P5"],"steps":[{"targets":[{"team":"technology"}],"reminders":[`+strings.Join(reminders, ",")+`],"wait":"30m","owned":"all"}]}`)
	if status != 201 {
		t.Fatalf("ladder = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/drills", "application/json", `{"name":"Sismo","scenario":{"title":"Sismo 7.1 en CDMX"},
		"teams":["technology"],"ladder":"everyone","channels":["sms"],"window":"15m",
		"criteria":[{"scope":"all","percent":100,"within":"10m"},{"scope":"role:lead","percent":50,"within":"5m"}]}`)
	if status != 201 {
		t.Fatalf("plan = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/drills/sismo/runs", "application/json", "")
	if status != 201 {
		t.Fatalf("start = %d %s", status, body)
	}
	var run struct{ ID, Folio string }
	json.Unmarshal(body, &run)
	sent := func(phone string) int {
		n := 0
		for _, r := range fake.Messages() {
			if r.Form.Get("To") == phone {
				n++
			}
		}
		return n
	}
	eventually(t, "both SMS", func() bool { return sent("+525500000003") > 0 && sent("+525500000004") > 0 })
	for _, r := range fake.Messages() {
		if b := r.Form.Get("Body"); !strings.HasPrefix(b, "SIMULACRO") {
			t.Errorf("SMS %q does not say SIMULACRO first", b)
		}
	}
	if len(fake.Calls()) != 0 {
		t.Errorf("a drill limited to SMS placed %d calls", len(fake.Calls()))
	}

	// Nobody has acknowledged: the ladder's SMS reminder goes out at 2 minutes.
	clk.skip(2 * time.Minute)
	eventually(t, "the reminders", func() bool { return sent("+525500000003") >= 2 && sent("+525500000004") >= 2 })
	clk.skip(time.Minute)
	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+525500000003", "+15005550006", "1")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Ana's reply = %v, %v", res, err)
	}
	res.Body.Close()
	// Beto is still nagged; Ana no longer.
	clk.skip(2 * time.Minute)
	eventually(t, "Beto's reminder at 4 minutes", func() bool { return sent("+525500000004") >= 3 })
	if n := sent("+525500000003"); n != 2 {
		t.Errorf("Ana got %d SMS, want 2: she acknowledged", n)
	}

	clk.skip(11 * time.Minute) // the 15-minute window has closed (at 16 minutes)
	var report struct {
		Header struct {
			Status string `json:"status"`
		} `json:"header"`
		Criteria []struct {
			Result string `json:"result"`
			InTime int    `json:"in_time"`
		} `json:"criteria"`
		Overall struct {
			Targeted, Reached, Acknowledged int
		} `json:"overall"`
		AckChannels []struct {
			Key string `json:"key"`
		} `json:"ack_channels"`
	}
	eventually(t, "the drill ended by itself", func() bool {
		_, body = api.do("GET", "/api/v1/drill-runs/"+run.ID+"/report", "", "")
		json.Unmarshal(body, &report)
		return report.Header.Status == "ended"
	})
	settleEngines(t, time.Time{}, api) // a send claimed just before the end may still finish
	messages := len(fake.Messages())
	clk.skip(time.Hour) // every reminder and step would be due by now
	settleEngines(t, time.Time{}, api)
	if n := len(fake.Messages()); n != messages || len(fake.Calls()) != 0 {
		t.Errorf("nagging went on after the drill ended: %d more SMS, %d calls\n%s", n-messages, len(fake.Calls()), logs)
	}
	if report.Overall.Targeted != 2 || report.Overall.Reached != 2 || report.Overall.Acknowledged != 1 {
		t.Errorf("overall = %+v", report.Overall)
	}
	if len(report.Criteria) != 2 || report.Criteria[0].Result != "not_met" || report.Criteria[1].Result != "met" || report.Criteria[1].InTime != 1 {
		t.Errorf("criteria = %+v", report.Criteria)
	}
	if len(report.AckChannels) != 1 || report.AckChannels[0].Key != "sms" {
		t.Errorf("ack channels = %+v", report.AckChannels)
	}
	_, body = api.do("GET", "/api/v1/incidents?drill=false", "", "")
	if strings.Contains(string(body), run.Folio) {
		t.Errorf("the drill is listed among real incidents: %s", body)
	}
}
