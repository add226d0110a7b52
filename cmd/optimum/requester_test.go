package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/twilio/twiliotest"
	"github.com/optimum-bcp/optimum/broadcast/webpush/webpushtest"
)

// A member of staff with a reporter login, linked to the directory only by their email
// (as every user is), declares from the app: the folio reaches their phone by SMS; a
// responder's question reaches them by SMS and push, and their SMS reply lands on the
// timeline as the answer; after the resolution the conformity link reaches them by SMS
// and push too, and accepting it closes the incident.
func TestRequesterLinkedByEmailGetsTheirNotices(t *testing.T) {
	fake := twiliotest.New(t, twiliotest.Options{AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "0123456789abcdef0123456789abcdef"})
	const token = "requester-admin-token-0123456789"
	data := t.TempDir()
	base, logs := startServer(t, map[string]string{
		"OPTIMUM_DATA": data, "OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public, "OPTIMUM_PUSH_ALLOW_PRIVATE": "1",
		"TWILIO_ACCOUNT_SID": fake.AccountSID(), "TWILIO_AUTH_TOKEN": fake.AuthToken(),
		"TWILIO_FROM": "+15005550006", "OPTIMUM_TWILIO_API_URL": fake.URL(),
	})
	fake.Route(public, base)
	api := client{t, base, token}
	const carlaPhone = "+525587654321"
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,+52 55 1234 5678,es,operations:lead,\n"+
		"Carla Ruiz,carla@example.com,+52 55 8765 4321,es,staff,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	if status, body := api.do("POST", "/api/v1/users", "application/json",
		`{"email":"carla@example.com","name":"Carla Ruiz","role":"reporter","password":"una frase de paso larga"}`); status != 201 {
		t.Fatalf("user = %d %s", status, body)
	}
	res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"email":"carla@example.com","password":"una frase de paso larga"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("sign in = %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	carla := cookieClient{t, base, strings.Split(res.Header.Get("Set-Cookie"), ";")[0]}

	_, body := api.do("GET", "/api/v1/push/vapid-public-key", "", "")
	var key struct{ Key string }
	json.Unmarshal(body, &key)
	push := webpushtest.New(t, webpushtest.Options{VAPIDPublicKey: key.Key})
	sub, _ := push.NewSubscription()
	if status, body := carla.do("POST", "/api/v1/push/subscriptions", string(sub)); status != 201 {
		t.Fatalf("subscribe = %d %s", status, body)
	}

	status, body := carla.do("POST", "/api/v1/incidents", `{"title":"Fuga de agua en el piso 3","impact":"medium","urgency":"high","location":"Torre B","teams":["operations"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)

	smsTo := func(phone, contains string) func() bool {
		return func() bool {
			for _, m := range fake.Messages() {
				if m.Form.Get("To") == phone && strings.Contains(m.Form.Get("Body"), contains) {
					return true
				}
			}
			return false
		}
	}
	pushWith := func(contains string) func() bool {
		return func() bool {
			for _, p := range push.Received() {
				n, err := p.Notification()
				if err != nil {
					continue
				}
				if b, _ := json.Marshal(n); bytes.Contains(b, []byte(contains)) {
					return true
				}
			}
			return false
		}
	}
	eventually(t, "the folio by SMS on Carla's phone", smsTo(carlaPhone, inc.Folio))

	if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/questions", "application/json", `{"question":"¿Sale agua del techo o del piso?"}`); status != 201 && status != 200 {
		t.Fatalf("question = %d %s", status, body)
	}
	eventually(t, "the question by SMS", smsTo(carlaPhone, "Sale agua del techo"))
	eventually(t, "the question by push", pushWith("Sale agua del techo"))

	res, err = fake.SendInboundSMS(context.Background(), public+"/hooks/twilio/sms", carlaPhone, "+15005550006", "Del techo, junto al elevador")
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(reply, []byte(inc.Folio)) {
		t.Errorf("reply to the answer = %d %s\n%s", res.StatusCode, reply, logs)
	}
	_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	if !bytes.Contains(body, []byte("incident.info_provided")) || !bytes.Contains(body, []byte("Del techo, junto al elevador")) {
		t.Errorf("the SMS answer is not on the timeline: %s", body)
	}

	for _, move := range []string{`{"to":"investigating"}`, `{"to":"resolved","note":"Se cerró la llave de paso"}`} {
		if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", "application/json", move); status != 200 {
			t.Fatalf("%s = %d %s", move, status, body)
		}
	}
	eventually(t, "the conformity link by SMS", smsTo(carlaPhone, public+"/c/"))
	eventually(t, "the conformity link by push", pushWith(public+"/c/"))
	linkIn := regexp.MustCompile(`https://bcp\.example\.test(/c/[A-Za-z0-9_-]+)`)
	var link, pushLink string
	for _, m := range fake.Messages() {
		if l := linkIn.FindStringSubmatch(m.Form.Get("Body")); l != nil {
			link = l[1]
		}
	}
	for _, p := range push.Received() {
		if l := linkIn.FindStringSubmatch(string(p.Payload)); l != nil {
			pushLink = l[1]
		}
	}
	// Each send got a link of its own, minted as it was sent; both work until one is used.
	if link == "" || pushLink == "" || link == pushLink {
		t.Fatalf("SMS link %q, push link %q: want two different links", link, pushLink)
	}
	for _, l := range []string{link, pushLink} {
		if res, err := http.Get(base + l); err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s = %v %v", l, res.StatusCode, err)
		} else {
			res.Body.Close()
		}
		// No usable link is kept anywhere: not in the requester's messages, the
		// deliveries, the event log or any other table.
		if where := tablesHolding(t, filepath.Join(data, "optimum.db"), strings.TrimPrefix(l, "/c/")); len(where) > 0 {
			t.Errorf("the conformity token %s is stored in %v", l, where)
		}
	}
	res, err = http.PostForm(base+link, url.Values{"decision": {"accept"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"status":"closed"`)) {
		t.Errorf("accept = %d; incident = %s", res.StatusCode, body)
	}
	if res, err := http.PostForm(base+pushLink, url.Values{"decision": {"reject"}, "comment": {"no"}}); err != nil || res.StatusCode != 409 {
		t.Errorf("the push link after the SMS link answered = %v %v, want 409", res.StatusCode, err)
	} else {
		res.Body.Close()
	}
}

// tablesHolding returns the table.column pairs of the SQLite database at path whose
// text holds s.
func tablesHolding(t *testing.T, path, s string) []string {
	t.Helper()
	db := openSQLiteFile(t, path)
	tables, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		tables.Scan(&n)
		names = append(names, n)
	}
	tables.Close()
	var where []string
	for _, table := range names {
		cols, err := db.Query("SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		var columns []string
		for cols.Next() {
			var c string
			cols.Scan(&c)
			columns = append(columns, c)
		}
		cols.Close()
		for _, c := range columns {
			var n int
			if err := db.QueryRow(`SELECT count(*) FROM "`+table+`" WHERE instr(CAST("`+c+`" AS TEXT), ?) > 0`, s).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n > 0 {
				where = append(where, table+"."+c)
			}
		}
	}
	return where
}

// cookieClient is a signed-in browser's HTTP client (a session cookie).
type cookieClient struct {
	t      *testing.T
	base   string
	cookie string
}

func (c cookieClient) do(method, path, body string) (int, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, strings.NewReader(body))
	req.Header.Set("Cookie", c.cookie)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}
