package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func withEmailBounces(c *config.Config) {
	c.Email.URL, c.Email.From, c.Email.BounceAddress = "smtp://mail.example.com:587", "OPTIMUM BCP <alertas@example.com>", "rebotes@example.com"
	c.Server.PublicURL = "https://optimum.example.com"
}

// dsn is a delivery status notification written by hand after RFC 3464: to the bounce
// mailbox's VERP address when verpID is set, else with the original message's headers
// (Message-ID <messageID>).
func dsn(verpID, messageID, recipient, action, status, diagnostic string) []byte {
	to := "alertas@example.com"
	if verpID != "" {
		to = "rebotes+" + verpID + "@example.com"
	}
	s := "From: MAILER-DAEMON@mx.example.net\nTo: " + to + "\nSubject: Undelivered Mail\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n" +
		"--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n" +
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n" +
		"Final-Recipient: rfc822; " + recipient + "\nAction: " + action + "\nStatus: " + status + "\nDiagnostic-Code: " + diagnostic + "\n"
	if messageID != "" {
		s += "--B\nContent-Type: text/rfc822-headers\n\nFrom: alertas@example.com\nTo: " + recipient + "\nMessage-ID: <" + messageID + ">\n"
	}
	s += "--B--\n"
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// A bounce piped by the mail server: a permanent one (5.1.1) fails its delivery with the
// code and the diagnostic and flags the person's address on readiness; a transient one
// (4.2.2) is recorded and changes the delivery not; the same bounce twice is recorded
// once; what is no bounce of ours is refused (422) and changes nothing; only an
// integration token may send them.
func TestEmailBouncesFailDeliveries(t *testing.T) { storetest.Each(t, testEmailBouncesFailDeliveries) }

func testEmailBouncesFailDeliveries(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, withEmailBounces)
	id := bobAlerted(t, a)
	var people []struct{ ID string }
	a.do("GET", "/api/v1/people", adminToken, nil).json(t, &people)
	bob := people[0].ID
	now := time.Now()
	var ds []broadcast.Delivery
	for _, d := range []string{"dlv_mail1", "dlv_mail2"} {
		ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: d, Channel: broadcast.ChannelEmail, To: "bob@example.com", Language: "en"},
			Subject: id, Recipient: bob, DueAt: now, Deadline: now.Add(time.Hour)})
	}
	ds = append(ds, broadcast.Delivery{Message: broadcast.Message{DeliveryID: "dlv_sms1", Channel: broadcast.ChannelSMS, To: "+34612345678", Language: "en"},
		Subject: id, Recipient: bob, DueAt: now, Deadline: now.Add(time.Hour)})
	if err := a.db.Deliveries().Enqueue(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	mta := a.token(optimum.RoleIntegration)
	status := func(delivery string) (string, string) {
		list, err := a.db.Deliveries().SubjectDeliveries(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range list {
			if d.ID == delivery {
				return d.Status, d.Error
			}
		}
		t.Fatalf("no delivery %s", delivery)
		return "", ""
	}
	bounced := func() []struct {
		PersonID string `json:"person_id"`
		Email    string `json:"email"`
		Status   string `json:"status"`
	} {
		var rd struct {
			EmailBounced []struct {
				PersonID string `json:"person_id"`
				Email    string `json:"email"`
				Status   string `json:"status"`
			} `json:"email_bounced"`
		}
		a.do("GET", "/api/v1/readiness", adminToken, nil).json(t, &rd)
		return rd.EmailBounced
	}
	type answer struct {
		DeliveryID string `json:"delivery_id"`
		Recipients []struct {
			Recipient, Status, Action, Outcome string
			Repeated                           bool
		} `json:"recipients"`
	}
	post := func(token string, body []byte, want int) answer {
		t.Helper()
		res := a.upload("/api/v1/email/bounces", token, "message/rfc822", body)
		if res.status != want {
			t.Fatalf("bounce = %d %s, want %d", res.status, res.body, want)
		}
		var out answer
		if want == 200 {
			json.Unmarshal(res.body, &out)
		}
		return out
	}
	before, _ := status("dlv_mail1")

	// Refused, nothing changes: not an integration token, not a bounce, not ours, not an
	// email delivery, not message/rfc822.
	post(adminToken, dsn("dlv_mail1", "", "bob@example.com", "failed", "5.1.1", "smtp; 550 5.1.1 unknown"), 403)
	post(mta, []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: hola\r\n\r\nhola\r\n"), 422)
	post(mta, dsn("", "dlv_mail1@otro.example", "bob@example.com", "failed", "5.1.1", "smtp; 550"), 422)
	post(mta, dsn("dlv_nobody", "", "bob@example.com", "failed", "5.1.1", "smtp; 550"), 404)
	post(mta, dsn("dlv_sms1", "", "bob@example.com", "failed", "5.1.1", "smtp; 550"), 422)
	if res := a.upload("/api/v1/email/bounces", mta, "text/plain", dsn("dlv_mail1", "", "bob@example.com", "failed", "5.1.1", "smtp; 550")); res.status != 422 {
		t.Errorf("text/plain bounce = %d %s", res.status, res.body)
	}
	if st, _ := status("dlv_mail1"); st != before || len(bounced()) != 0 {
		t.Fatalf("a refused bounce changed the delivery (%s) or readiness (%v)", st, bounced())
	}

	// A transient bounce, by the returned Message-ID: recorded, the delivery unchanged.
	got := post(mta, dsn("", "dlv_mail2@example.com", "bob@example.com", "delayed", "4.2.2", "smtp; 452 4.2.2 Mailbox full"), 200)
	if got.DeliveryID != "dlv_mail2" || len(got.Recipients) != 1 || got.Recipients[0].Outcome != "delayed" || got.Recipients[0].Status != "4.2.2" {
		t.Errorf("transient = %+v", got)
	}
	if st, _ := status("dlv_mail2"); st != before || len(bounced()) != 0 {
		t.Errorf("a transient bounce moved the delivery to %s or flagged %v", st, bounced())
	}

	// A permanent bounce, by VERP: the delivery failed with the code, the address flagged.
	got = post(mta, dsn("dlv_mail1", "", "bob@example.com", "failed", "5.1.1", "smtp; 550 5.1.1 User unknown"), 200)
	if got.DeliveryID != "dlv_mail1" || got.Recipients[0].Outcome != "failed" || got.Recipients[0].Repeated {
		t.Errorf("permanent = %+v", got)
	}
	if st, errText := status("dlv_mail1"); st != broadcast.StatusFailed || errText != "bounced: 5.1.1 (smtp; 550 5.1.1 User unknown)" {
		t.Errorf("after a permanent bounce: %s %q", st, errText)
	}
	if b := bounced(); len(b) != 1 || b[0].PersonID != bob || b[0].Email != "bob@example.com" || b[0].Status != "5.1.1" {
		t.Errorf("readiness email_bounced = %+v", b)
	}
	// The MTA pipes it again: recorded once.
	if got := post(mta, dsn("dlv_mail1", "", "bob@example.com", "failed", "5.1.1", "smtp; 550 5.1.1 User unknown"), 200); !got.Recipients[0].Repeated {
		t.Errorf("the same bounce again = %+v", got)
	}
	// A new address clears the flag: the bounce was the old one's.
	person := map[string]any{"name": "Bob", "email": "roberto@example.com", "phone": "+34612345678", "language": "en",
		"teams": []map[string]string{{"team": "technology", "role": "member"}}}
	if res := a.do("PUT", "/api/v1/people/"+bob, adminToken, person); res.status != 200 {
		t.Fatalf("new address = %d %s", res.status, res.body)
	}
	if b := bounced(); len(b) != 0 {
		t.Errorf("after a new address: %+v", b)
	}
}
