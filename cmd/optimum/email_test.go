package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/optimum-bcp/optimum/broadcast/email/smtptest"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Declare with OPTIMUM_SMTP_URL set → each person of the audience gets one email in
// their language over STARTTLS with authentication, with a one-tap link that a GET does
// not use up nor acknowledge (link scanners open every link) and a POST acknowledges;
// an address the server refuses (550) is recorded failed with the reason and not
// retried; one the server defers (451) is retried and arrives once.
func TestAlertByEmail(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { alertByEmail(t, nil) })
	t.Run("postgres", func(t *testing.T) {
		alertByEmail(t, map[string]string{"OPTIMUM_DATABASE_URL": storetest.PostgresURL(t)})
	})
}

func alertByEmail(t *testing.T, env map[string]string) {
	var mu sync.Mutex
	deferred := 0
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS, Username: "optimum@bcp.example.test", Password: "s3cret/pass",
		Answer: func(rcpt string) *smtp.SMTPError {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case rcpt == "carla@example.com":
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
			case rcpt == "dan@example.com" && deferred < 1:
				deferred++
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
			}
			return nil
		}})
	const token = "email-admin-token-0123456789"
	data := t.TempDir()
	vars := map[string]string{
		"OPTIMUM_DATA":            data,
		"OPTIMUM_BOOTSTRAP_TOKEN": token,
		"OPTIMUM_PUBLIC_URL":      public,
		"OPTIMUM_SMTP_URL":        srv.URL("starttls=required"),
		"OPTIMUM_SMTP_FROM":       "OPTIMUM BCP <alertas@bcp.example.test>",
		"OPTIMUM_SMTP_CA_FILE":    srv.CAFile(),
	}
	maps.Copy(vars, env)
	base, logs := startServer(t, vars)
	if strings.Contains(logs.String(), "s3cret") {
		t.Errorf("the log shows the SMTP password:\n%s", logs)
	}
	api := client{t, base, token}
	status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,,es,technology:lead,\n"+
		"Bob Smith,bob@example.com,,en,technology,\n"+
		"Carla Ruiz,carla@example.com,,es,technology,\n"+
		"Dan Brown,dan@example.com,,en,technology,\n")
	if status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Caída del centro de datos","impact":"critical","urgency":"critical","location":"CDMX","teams":["technology"]}`)
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "emails to Ana, Bob and (after a 451) Dan", func() bool { return len(srv.Mails()) >= 3 })
	got := map[string]smtptest.Received{}
	for _, m := range srv.Mails() {
		if !m.TLS || m.User != "optimum@bcp.example.test" {
			t.Errorf("mail to %v: TLS %v, user %q", m.To, m.TLS, m.User)
		}
		if _, dup := got[m.To[0]]; dup {
			t.Errorf("%s got the alert twice", m.To[0])
		}
		got[m.To[0]] = smtptest.Parse(t, m.Data)
	}
	ana, bob := got["ana@example.com"], got["bob@example.com"]
	if ana.Subject != "P1 "+inc.Folio+": Caída del centro de datos" || bob.Subject != ana.Subject {
		t.Errorf("subjects = %q / %q", ana.Subject, bob.Subject)
	}
	if ana.Header.Get("Content-Language") != "es" || bob.Header.Get("Content-Language") != "en" {
		t.Errorf("languages = %q / %q", ana.Header.Get("Content-Language"), bob.Header.Get("Content-Language"))
	}
	if !strings.HasPrefix(ana.Text, "Incidente "+inc.Folio+", prioridad P1: Caída del centro de datos.\n\nUbicación: CDMX.\n\nConfirma que lo recibiste: abre el enlace y pulsa el botón.\n\nConfirmar recepción:\n"+public+"/a/") {
		t.Errorf("Ana's text part:\n%s", ana.Text)
	}
	if !strings.HasPrefix(bob.Text, "Incident "+inc.Folio+", priority P1: Caída del centro de datos.\n\nLocation: CDMX.\n\nAcknowledge that you got it: open the link and press the button.\n\nAcknowledge:\n"+public+"/a/") {
		t.Errorf("Bob's text part:\n%s", bob.Text)
	}
	linkRE := regexp.MustCompile(regexp.QuoteMeta(public) + `(/a/[A-Za-z0-9]+\?via=email)\n`)
	link := linkRE.FindStringSubmatch(bob.Text)
	if link == nil || !strings.Contains(bob.HTML, `href="`+public+link[1]+`"`) {
		t.Fatalf("Bob's link is not in both parts:\n%s\n%s", bob.Text, bob.HTML)
	}
	if strings.Contains(ana.Text, "{one-tap-link}") || linkRE.FindStringSubmatch(ana.Text)[1] == link[1] {
		t.Errorf("links are not minted per person at send time: %q", ana.Text)
	}

	// A link scanner opens the link: a page, no acknowledgement, and the link still works.
	for range 2 {
		res, err := http.Get(base + link[1])
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(page), "<form") {
			t.Errorf("GET link = %d\n%s", res.StatusCode, page)
		}
	}
	type view struct {
		AckCount   int `json:"ack_count"`
		Recipients []struct {
			Name           string
			AcknowledgedAt *string `json:"acknowledged_at"`
			AckChannel     string  `json:"ack_channel"`
			Deliveries     []struct{ Channel, Status, Error string }
		}
	}
	var v view
	_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
	json.Unmarshal(body, &v)
	if v.AckCount != 0 {
		t.Fatalf("a GET of the link acknowledged: %s", body)
	}
	res, err := http.PostForm(base+link[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST link = %d", res.StatusCode)
	}

	eventually(t, "Carla's delivery failed with the server's reason", func() bool {
		_, body = api.do("GET", "/api/v1/incidents/"+inc.Folio, "", "")
		v = view{}
		json.Unmarshal(body, &v)
		for _, r := range v.Recipients {
			if r.Name == "Carla Ruiz" && len(r.Deliveries) == 1 && r.Deliveries[0].Status == "failed" {
				return true
			}
		}
		return false
	})
	want := map[string]string{"Ana López": "email/sent", "Bob Smith": "email/sent", "Carla Ruiz": "email/failed", "Dan Brown": "email/sent"}
	for _, r := range v.Recipients {
		if len(r.Deliveries) != 1 || r.Deliveries[0].Channel+"/"+r.Deliveries[0].Status != want[r.Name] {
			t.Errorf("%s: deliveries %+v, want %s", r.Name, r.Deliveries, want[r.Name])
			continue
		}
		if r.Name == "Carla Ruiz" && !strings.Contains(r.Deliveries[0].Error, "550 5.1.1") {
			t.Errorf("Carla's failure does not say why: %q", r.Deliveries[0].Error)
		}
		if (r.AcknowledgedAt != nil) != (r.Name == "Bob Smith") {
			t.Errorf("%s acknowledged at %v; only Bob pressed the button", r.Name, r.AcknowledgedAt)
		}
		if r.Name == "Bob Smith" && r.AckChannel != "email" {
			t.Errorf("Bob acknowledged by %q, want email (the email's link)", r.AckChannel)
		}
	}
	if n := len(srv.Refused()); n != 2 {
		t.Errorf("the server refused %d times (%v), want 2: Carla once (never retried), Dan once", n, srv.Refused())
	}
	if n := len(srv.Mails()); n != 3 {
		t.Errorf("%d mails, want 3", n)
	}
	if env["OPTIMUM_DATABASE_URL"] != "" {
		return // the attempts are read from the SQLite file below
	}
	// Every attempt is recorded with the server's answer.
	rows, err := openSQLiteFile(t, data+"/optimum.db").Query(`SELECT d.address, a.attempt, a.outcome, a.reason FROM delivery_attempts a
		JOIN deliveries d ON d.id = a.delivery_id WHERE d.channel = 'email' ORDER BY d.address, a.attempt`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var attempts []string
	for rows.Next() {
		var to, outcome, reason string
		var n int
		if err := rows.Scan(&to, &n, &outcome, &reason); err != nil {
			t.Fatal(err)
		}
		// Keep the reason's code only: the rest is the server's text.
		if i := strings.Index(reason, "the server answered "); i >= 0 {
			reason = reason[i+len("the server answered ") : i+len("the server answered ")+9]
		}
		attempts = append(attempts, fmt.Sprintf("%s#%d %s %s", to, n, outcome, reason))
	}
	wantAttempts := []string{
		"ana@example.com#1 sent ",
		"bob@example.com#1 sent ",
		"carla@example.com#1 failed 550 5.1.1",
		"dan@example.com#1 retry 451 4.3.0",
		"dan@example.com#2 sent ",
	}
	if strings.Join(attempts, "\n") != strings.Join(wantAttempts, "\n") {
		t.Errorf("attempts:\n%s\nwant:\n%s", strings.Join(attempts, "\n"), strings.Join(wantAttempts, "\n"))
	}
}

// A drill says so first in the subject and the text of its email (smtps://, implicit
// TLS), and a stakeholder update reaches the audience by email too, in each language.
func TestDrillAndUpdateByEmail(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.Implicit, Username: "optimum", Password: "pw"})
	const token = "email-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token,
		"OPTIMUM_PUBLIC_URL":      public,
		"OPTIMUM_SMTP_URL":        srv.URL(""),
		"OPTIMUM_SMTP_FROM":       "alertas@bcp.example.test",
		"OPTIMUM_SMTP_CA_FILE":    srv.CAFile(),
	})
	api := client{t, base, token}
	status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,,es,technology:lead,\n"+
		"Bob Smith,bob@example.com,,en,technology,\n")
	if status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/incidents", "application/json",
		`{"title":"Evacuación del edificio","impact":"critical","urgency":"critical","teams":["technology"],"drill":true}`)
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	eventually(t, "two drill emails", func() bool { return len(srv.Mails()) == 2 })
	byTo := map[string]smtptest.Received{}
	for _, m := range srv.Mails() {
		if !m.TLS {
			t.Errorf("mail to %v not over TLS", m.To)
		}
		byTo[m.To[0]] = smtptest.Parse(t, m.Data)
	}
	if s := byTo["ana@example.com"].Subject; s != "SIMULACRO · P1 "+inc.Folio+": Evacuación del edificio" {
		t.Errorf("Ana's subject %q", s)
	}
	if s := byTo["bob@example.com"].Subject; s != "DRILL · P1 "+inc.Folio+": Evacuación del edificio" {
		t.Errorf("Bob's subject %q", s)
	}
	if !strings.HasPrefix(byTo["ana@example.com"].Text, "SIMULACRO. Esto es un ejercicio") || !strings.HasPrefix(byTo["bob@example.com"].Text, "DRILL. This is an exercise") {
		t.Errorf("texts do not start with the drill word:\n%s\n%s", byTo["ana@example.com"].Text, byTo["bob@example.com"].Text)
	}

	status, body = api.do("POST", "/api/v1/incidents/"+inc.ID+"/updates", "application/json",
		`{"known":"El edificio está vacío","doing":"Pasando lista en el punto de reunión"}`)
	if status != 201 {
		t.Fatalf("update = %d %s", status, body)
	}
	eventually(t, "two update emails", func() bool { return len(srv.Mails()) == 4 })
	for _, m := range srv.Mails()[2:] {
		got := smtptest.Parse(t, m.Data)
		word := map[string]string{"ana@example.com": "Actualización", "bob@example.com": "Update"}[m.To[0]]
		if !strings.Contains(got.Subject, word+" "+inc.Folio) || !strings.Contains(got.Text, "El edificio está vacío. Pasando lista en el punto de reunión") ||
			!strings.Contains(got.Text, public+"/#/incidente/"+inc.Folio) || !strings.Contains(got.HTML, public+"/#/incidente/"+inc.Folio) {
			t.Errorf("update to %s: %q\n%s", m.To[0], got.Subject, got.Text)
		}
	}
}

// A requester in the directory with only an email address gets the folio, the
// question and the conformity link by email; the conformity link is minted as the
// email is sent (never stored), a GET of it (a link scanner) decides nothing, and
// accepting through it closes the incident.
func TestRequesterByEmail(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS})
	const token = "email-admin-token-0123456789"
	data := t.TempDir()
	base, _ := startServer(t, map[string]string{
		"OPTIMUM_DATA": data, "OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"OPTIMUM_SMTP_URL": srv.URL("starttls=required"), "OPTIMUM_SMTP_FROM": "alertas@bcp.example.test", "OPTIMUM_SMTP_CA_FILE": srv.CAFile(),
	})
	api := client{t, base, token}
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,,es,operations:lead,\n"+
		"Carla Ruiz,carla@example.com,,en,staff,\n"); status != 200 {
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
	status, body := carla.do("POST", "/api/v1/incidents", `{"title":"Fuga de agua en el piso 3","impact":"medium","urgency":"high","location":"Torre B","teams":["operations"]}`)
	if status != 201 {
		t.Fatalf("declare = %d %s", status, body)
	}
	var inc struct{ ID, Folio string }
	json.Unmarshal(body, &inc)
	toCarla := func(contains string) func() bool {
		return func() bool {
			for _, m := range srv.Mails() {
				if m.To[0] == "carla@example.com" && strings.Contains(smtptest.Parse(t, m.Data).Text, contains) {
					return true
				}
			}
			return false
		}
	}
	eventually(t, "the folio by email", toCarla(inc.Folio))
	if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/questions", "application/json", `{"question":"Is the water coming from the ceiling?"}`); status != 201 && status != 200 {
		t.Fatalf("question = %d %s", status, body)
	}
	eventually(t, "the question by email", toCarla("Is the water coming from the ceiling?"))
	for _, move := range []string{`{"to":"investigating"}`, `{"to":"resolved","note":"Se cerró la llave de paso"}`} {
		if status, body := api.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", "application/json", move); status != 200 {
			t.Fatalf("%s = %d %s", move, status, body)
		}
	}
	eventually(t, "the conformity link by email", toCarla(public+"/c/"))
	linkIn := regexp.MustCompile(regexp.QuoteMeta(public) + `(/c/[A-Za-z0-9_-]+)\n`)
	var link string
	for _, m := range srv.Mails() {
		got := smtptest.Parse(t, m.Data)
		if l := linkIn.FindStringSubmatch(got.Text); l != nil && m.To[0] == "carla@example.com" {
			link = l[1]
			if got.Header.Get("Content-Language") != "en" || !strings.Contains(got.HTML, `href="`+public+link+`"`) {
				t.Errorf("conformity email: language %q, HTML:\n%s", got.Header.Get("Content-Language"), got.HTML)
			}
		}
	}
	if link == "" || strings.Contains(link, "not-yet-minted") {
		t.Fatalf("no minted conformity link in Carla's emails (%q)", link)
	}
	if where := tablesHolding(t, data+"/optimum.db", strings.TrimPrefix(link, "/c/")); len(where) > 0 {
		t.Errorf("the conformity token is stored in %v", where)
	}
	res, err = http.Get(base + link)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s = %v %v", link, res.StatusCode, err)
	}
	res.Body.Close()
	_, body = api.do("GET", "/api/v1/incidents/"+inc.ID, "", "")
	if !bytes.Contains(body, []byte(`"status":"resolved"`)) {
		t.Fatalf("a GET of the conformity link changed the incident: %s", body)
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
}

// A drill limited to email: every email says SIMULACRO first, an acknowledgement through
// the email's link counts as by email, and the report shows email per person, in its
// channel figures and in how people acknowledged.
func TestDrillByEmailInTheReport(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{TLS: smtptest.StartTLS})
	const token = "email-admin-token-0123456789"
	base, _ := startServer(t, map[string]string{
		"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_PUBLIC_URL": public,
		"OPTIMUM_SMTP_URL": srv.URL(""), "OPTIMUM_SMTP_FROM": "alertas@bcp.example.test", "OPTIMUM_SMTP_CA_FILE": srv.CAFile(),
	})
	api := client{t, base, token}
	if status, body := api.do("POST", "/api/v1/people/import", "text/csv", "name,email,phone,language,teams,manager_email\n"+
		"Ana López,ana@example.com,,es,technology:lead,\n"+
		"Beto Ruiz,beto@example.com,,es,technology,\n"); status != 200 {
		t.Fatalf("import = %d %s", status, body)
	}
	status, body := api.do("POST", "/api/v1/drills", "application/json", `{"name":"Sismo","scenario":{"title":"Sismo 7.1 en CDMX"},
		"teams":["technology"],"channels":["email"],"window":"15m","criteria":[{"scope":"all","percent":50,"within":"10m"}]}`)
	if status != 201 {
		t.Fatalf("plan = %d %s", status, body)
	}
	status, body = api.do("POST", "/api/v1/drills/sismo/runs", "application/json", "")
	if status != 201 {
		t.Fatalf("start = %d %s", status, body)
	}
	var run struct{ ID string }
	json.Unmarshal(body, &run)
	eventually(t, "two drill emails", func() bool { return len(srv.Mails()) >= 2 })
	var anaLink string
	for _, m := range srv.Mails() {
		got := smtptest.Parse(t, m.Data)
		if !strings.HasPrefix(got.Subject, "SIMULACRO · ") || !strings.HasPrefix(got.Text, "SIMULACRO. ") {
			t.Errorf("drill email to %s: %q\n%s", m.To[0], got.Subject, got.Text)
		}
		if l := regexp.MustCompile(regexp.QuoteMeta(public) + `(/a/[A-Za-z0-9]+\?via=email)\n`).FindStringSubmatch(got.Text); l != nil && m.To[0] == "ana@example.com" {
			anaLink = l[1]
		}
	}
	if anaLink == "" {
		t.Fatal("no link in Ana's email")
	}
	res, err := http.PostForm(base+anaLink, nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("POST link = %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	type drillReport struct {
		Channels []struct {
			Key                             string
			Targeted, Reached, Acknowledged int
		}
		AckChannels []struct{ Key string } `json:"ack_channels"`
		People      []struct {
			Name     string
			State    string
			Channels []struct{ Channel, Status string }
		}
	}
	var report drillReport
	// The fake SMTP server has both emails before the server has recorded the second one
	// as sent (its outcome is written after the SMTP answer): wait for both.
	eventually(t, "the report shows Ana's acknowledgement and both emails sent", func() bool {
		_, body = api.do("GET", "/api/v1/drill-runs/"+run.ID+"/report", "", "")
		report = drillReport{}
		json.Unmarshal(body, &report)
		return len(report.AckChannels) == 1 && len(report.Channels) == 1 && report.Channels[0].Reached == 2
	})
	if len(report.Channels) != 1 || report.Channels[0].Key != "email" || report.Channels[0].Targeted != 2 || report.Channels[0].Reached != 2 || report.Channels[0].Acknowledged != 1 {
		t.Errorf("channel figures = %+v", report.Channels)
	}
	if report.AckChannels[0].Key != "email" {
		t.Errorf("acknowledged by %+v, want email", report.AckChannels)
	}
	states := map[string]string{}
	for _, p := range report.People {
		if len(p.Channels) != 1 || p.Channels[0].Channel != "email" || p.Channels[0].Status != "sent" {
			t.Errorf("%s: channels %+v", p.Name, p.Channels)
		}
		states[p.Name] = p.State
	}
	if states["Ana López"] != "acknowledged" || states["Beto Ruiz"] != "reached" {
		t.Errorf("states = %v", states)
	}
}
