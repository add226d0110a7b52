package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/vonage"
	"github.com/optimum-bcp/optimum/broadcast/vonage/vonagetest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// An alert call carried by Vonage (Twilio failed over) joins the war-room bridge: 2
// answers an NCCO that notifies the server and enters the conversation named by the
// folio; the signed notify puts the caller on the bridge and its timeline (once, however
// often Vonage retries it) and answers the conversation; an unsigned one changes
// nothing; the call's "completed" event takes them off it. 1 still acknowledges.
func TestVonageCallJoinsTheBridge(t *testing.T) { storetest.Each(t, testVonageCallJoinsTheBridge) }

func testVonageCallJoinsTheBridge(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withVonage)
	id := bobAlerted(t, a)
	var opened struct {
		Folio string
	}
	a.do("POST", "/api/v1/incidents/"+id+"/bridge", adminToken, nil).json(t, &opened)
	var people []struct{ ID string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	bob := people[0].ID
	now := time.Now()
	if err := a.db.Deliveries().Enqueue(context.Background(), []broadcast.Delivery{{
		Message: broadcast.Message{DeliveryID: "dlv_vcall", Channel: broadcast.ChannelVoice, To: "+34612345678", Language: "en"},
		Subject: id, Recipient: bob, DueAt: now, Deadline: now.Add(time.Hour),
	}}); err != nil {
		t.Fatal(err)
	}
	press := func(digits string) map[string]any {
		return map[string]any{"uuid": "vcall-1", "conversation_uuid": "CON-1", "to": "34612345678", "dtmf": map[string]any{"digits": digits, "timed_out": false}}
	}
	res := a.vonageEvent(vonage.PathVoiceInput+"?d=dlv_vcall&p=false", press("2"), true)
	var ncco []map[string]any
	if res.status != 200 || json.Unmarshal(res.body, &ncco) != nil || len(ncco) != 3 {
		t.Fatalf("pressing 2 = %d %s", res.status, res.body)
	}
	// The NCCO, written out: Bob speaks English.
	wantPayload := map[string]any{"event": "bridge_joined", "incident": id, "person": bob, "name": "Bob", "call": "vcall-1"}
	if ncco[0]["action"] != "talk" || ncco[0]["text"] != "Joining you to the crisis call." || ncco[0]["language"] != "en-US" {
		t.Errorf("first action = %v", ncco[0])
	}
	if ncco[1]["action"] != "notify" || !reflect.DeepEqual(ncco[1]["payload"], wantPayload) ||
		!reflect.DeepEqual(ncco[1]["eventUrl"], []any{twilioPublic + "/hooks/vonage/conference"}) || ncco[1]["eventMethod"] != "POST" {
		t.Errorf("notify = %v", ncco[1])
	}
	wantConversation := map[string]any{"action": "conversation", "name": opened.Folio, "startOnEnter": true, "endOnExit": false}
	if !reflect.DeepEqual(ncco[2], wantConversation) || !strings.HasPrefix(opened.Folio, "BCP-") {
		t.Errorf("conversation = %v, want %v", ncco[2], wantConversation)
	}
	if a.ackCount(id) != 0 {
		t.Errorf("pressing 2 acknowledged")
	}

	type view struct {
		Bridge *struct {
			OnCall []struct {
				Name     string `json:"name"`
				PersonID string `json:"person_id"`
				CallSID  string `json:"call_sid"`
			} `json:"on_call"`
		} `json:"bridge"`
		Timeline []struct{ Type string } `json:"timeline"`
	}
	get := func() (v view, joined, left int) {
		a.do("GET", "/api/v1/incidents/"+id, adminToken, nil).json(t, &v)
		for _, e := range v.Timeline {
			switch e.Type {
			case "incident.bridge_joined":
				joined++
			case "incident.bridge_left":
				left++
			}
		}
		return v, joined, left
	}

	// A forged notify (another secret) is refused and changes nothing.
	body, _ := json.Marshal(wantPayload)
	req, _ := http.NewRequest("POST", a.srv.URL+vonage.PathConference, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", vonage.VoiceToken("not-the-secret", body, time.Now()))
	forged, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	forged.Body.Close()
	if v, joined, _ := get(); forged.StatusCode != 403 || len(v.Bridge.OnCall) != 0 || joined != 0 {
		t.Fatalf("forged notify = %d; on the bridge %+v, %d joined", forged.StatusCode, v.Bridge.OnCall, joined)
	}

	// Vonage's signed notify, twice (a retry): on the bridge once; the answer is the conversation.
	for range 2 {
		hr, answer, err := vonagetest.PostEvent(context.Background(), a.srv.URL+vonage.PathConference, ncco[1]["payload"], time.Now())
		if err != nil {
			t.Fatal(err)
		}
		var rest []map[string]any
		if hr.StatusCode != 200 || json.Unmarshal(answer, &rest) != nil || !reflect.DeepEqual(rest, []map[string]any{wantConversation}) {
			t.Fatalf("notify = %d %s", hr.StatusCode, answer)
		}
	}
	v, joined, left := get()
	if len(v.Bridge.OnCall) != 1 || v.Bridge.OnCall[0].Name != "Bob" || v.Bridge.OnCall[0].PersonID != bob || joined != 1 || left != 0 {
		t.Fatalf("after the notify: on the bridge %+v, %d joined, %d left", v.Bridge.OnCall, joined, left)
	}

	// The call ends: off the bridge, on the timeline.
	for _, st := range []string{"answered", "completed"} {
		if res := a.vonageEvent(vonage.PathVoiceEvent+"?d=dlv_vcall", map[string]any{"uuid": "vcall-1", "status": st}, true); res.status != 200 {
			t.Fatalf("event %s = %d %s", st, res.status, res.body)
		}
	}
	if v, joined, left := get(); len(v.Bridge.OnCall) != 0 || joined != 1 || left != 1 {
		t.Fatalf("after the call ended: on the bridge %+v, %d joined, %d left", v.Bridge.OnCall, joined, left)
	}

	// 1 still acknowledges (a later step of the same call).
	res = a.vonageEvent(vonage.PathVoiceInput+"?d=dlv_vcall&p=false&s=1", press("1"), true)
	if res.status != 200 || !bytes.Contains(res.body, []byte("Your acknowledgement is recorded")) || a.ackCount(id) != 1 {
		t.Errorf("pressing 1 = %d %s, ack_count %d", res.status, res.body, a.ackCount(id))
	}
}
