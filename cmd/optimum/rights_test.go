package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A manager exports everything held about Ana after a crisis (her entry, the SMS sent to
// her, her acknowledgement), as JSON and CSV; an admin then erases her while the incident
// is still open: her name, email and phone are gone from the directory, the incident and
// every export, the figures still count her acknowledgement, the event log is untouched
// (its chain holds), and erasing twice is a conflict.
func TestExportAndEraseAPerson(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { exportAndErase(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		exportAndErase(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func exportAndErase(t *testing.T, env map[string]string) {
	data := t.TempDir()
	vars := map[string]string{"OPTIMUM_DATA": data}
	for k, v := range env {
		vars[k] = v
	}
	fake, _, api, _ := startTwilioServer(t, "technology", vars)
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","location":"CDMX","teams":["technology"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	eventually(t, "two SMS at Twilio", func() bool { return len(fake.Messages()) == 2 })
	if res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+525512345678", "+15005550006", "1"); err != nil || res.StatusCode != 200 {
		t.Fatalf("Ana's reply: %v %v", res, err)
	}

	_, body = api.do("GET", "/api/v1/people/ana@example.com", "", "")
	var ana struct{ ID string }
	json.Unmarshal(body, &ana)
	status, body = api.do("GET", "/api/v1/people/"+ana.ID+"/data", "", "")
	var held struct {
		Person struct{ Name, Email, Phone string }
		Held   struct {
			Deliveries []struct {
				IncidentID               string `json:"incident_id"`
				Channel, Address, Status string
			} `json:"deliveries"`
			Acknowledgements []struct{ Channel string } `json:"acknowledgements"`
		}
	}
	json.Unmarshal(body, &held)
	if status != 200 || held.Person.Email != "ana@example.com" || held.Person.Phone != "+525512345678" ||
		len(held.Held.Deliveries) != 1 || held.Held.Deliveries[0].Address != "+525512345678" || held.Held.Deliveries[0].IncidentID != inc.ID ||
		len(held.Held.Acknowledgements) != 1 || held.Held.Acknowledgements[0].Channel != "sms" {
		t.Fatalf("Ana's data = %d %s", status, body)
	}
	status, csv := api.do("GET", "/api/v1/people/"+ana.ID+"/data?format=csv", "", "")
	if status != 200 || !bytes.Contains(csv, []byte("person,")) || !bytes.Contains(csv, []byte("acknowledgement,")) || !bytes.Contains(csv, []byte("+525512345678")) {
		t.Fatalf("Ana's data as CSV = %d %s", status, csv)
	}

	if status, body := api.do("POST", "/api/v1/people/"+ana.ID+"/erase", "application/json", `{"reason":" "}`); status != 422 {
		t.Errorf("erase without a reason = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/people/"+ana.ID+"/erase", "application/json", `{"reason":"Solicitud de cancelación ARCO del 2026-12-01"}`)
	if status != 200 {
		t.Fatalf("erase = %d %s", status, body)
	}
	if status, _ := api.do("POST", "/api/v1/people/"+ana.ID+"/erase", "application/json", `{"reason":"otra vez"}`); status != 409 {
		t.Errorf("erase twice = %d, want 409", status)
	}
	_, after := api.do("GET", "/api/v1/people/"+ana.ID+"/data", "", "")
	_, view := api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	_, people := api.do("GET", "/api/v1/people", "", "")
	for what, b := range map[string][]byte{"her data": after, "the incident": view, "the directory": people} {
		for _, pii := range []string{"Ana López", "ana@example.com", "+525512345678"} {
			// The incident keeps its timeline: the events of the crisis are the evidence
			// and are never edited; everything else names her no more.
			if what == "the incident" {
				var v struct {
					Recipients []struct{ Name string }
					Reporter   struct{ Name string }
				}
				json.Unmarshal(b, &v)
				for _, r := range v.Recipients {
					if r.Name == pii {
						t.Errorf("the incident's recipients still name her: %+v", v.Recipients)
					}
				}
				continue
			}
			if bytes.Contains(b, []byte(pii)) {
				t.Errorf("%s still holds %q: %s", what, pii, b)
			}
		}
	}
	var v struct {
		AckCount int `json:"ack_count"`
	}
	json.Unmarshal(view, &v)
	if v.AckCount != 1 {
		t.Errorf("ack_count after the erasure = %d, want 1: the figures keep her", v.AckCount)
	}
	if !strings.Contains(string(after), "Persona borrada") {
		t.Errorf("after erasure = %s", after)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"audit", "verify"}, func(k string) string {
		if k == "OPTIMUM_DATA" {
			return data
		}
		return vars[k]
	}, &out, &out); err != nil {
		t.Errorf("the chain after an erasure: %v", err)
	}
}
