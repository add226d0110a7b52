package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"
)

// A reopened incident is open again: a person who had not acknowledged it can do so by
// replying "1", as while it was first worked.
func TestAReopenedIncidentCanBeAcknowledgedBySMS(t *testing.T) {
	fake, _, api, logs := startTwilioServer(t, "operations")
	status, body := api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Falla del enlace de datos","impact":"high","urgency":"high","location":"Madrid","teams":["operations"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	for _, move := range []string{
		`{"to":"investigating","note":"Revisando el enlace"}`,
		`{"to":"resolved","note":"Se cambió el router"}`,
		`{"to":"reopened","note":"El enlace volvió a caer"}`,
	} {
		if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", "application/json", move); status != 200 {
			t.Fatalf("%s = %d %s", move, status, body)
		}
	}
	res, err := fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", "+34612345678", "+15005550006", "1")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !bytes.Contains(reply, []byte("Acknowledged: "+inc.Folio)) {
		t.Errorf("reply = %d %s\n%s", res.StatusCode, reply, logs)
	}
	_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	if !bytes.Contains(body, []byte(`"status":"reopened"`)) || !bytes.Contains(body, []byte(`"ack_count":1`)) {
		t.Errorf("incident = %s", body)
	}
}
