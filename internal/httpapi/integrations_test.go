package httpapi_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/alerts"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/audit"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// amFiring is what Alertmanager (v0.27, webhook_config) posts for a group of two firing
// alerts: the shape of its documentation's example, field for field.
const amFiring = `{
  "receiver": "optimum-bcp",
  "status": "firing",
  "alerts": [
    {"status": "firing",
     "labels": {"alertname": "UPSOnBattery", "instance": "ups-cpd1-a:9100", "job": "ups", "severity": "critical", "site": "CPD-CDMX", "team": "technology"},
     "annotations": {"summary": "El CPD principal funciona con baterías", "description": "Los UPS del CPD de CDMX perdieron la energía de la red."},
     "startsAt": "2026-12-07T09:58:01.123Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph?g0.expr=ups_on_battery+%3D%3D+1", "fingerprint": "5a1b7c2d3e4f5061"},
    {"status": "firing",
     "labels": {"alertname": "UPSOnBattery", "instance": "ups-cpd1-b:9100", "job": "ups", "severity": "critical", "site": "CPD-CDMX", "team": "technology"},
     "annotations": {"summary": "El CPD principal funciona con baterías", "description": "Los UPS del CPD de CDMX perdieron la energía de la red."},
     "startsAt": "2026-12-07T09:58:16.456Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph?g0.expr=ups_on_battery+%3D%3D+1", "fingerprint": "8c9d0e1f2a3b4c5d"}
  ],
  "groupLabels": {"alertname": "UPSOnBattery"},
  "commonLabels": {"alertname": "UPSOnBattery", "job": "ups", "severity": "critical", "site": "CPD-CDMX", "team": "technology"},
  "commonAnnotations": {"summary": "El CPD principal funciona con baterías", "description": "Los UPS del CPD de CDMX perdieron la energía de la red."},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"UPSOnBattery\"}",
  "truncatedAlerts": 0
}`

// amOneResolved is the same group, later: one UPS is back on the grid.
var amOneResolved = strings.Replace(strings.Replace(amFiring,
	`"status": "firing",
     "labels": {"alertname": "UPSOnBattery", "instance": "ups-cpd1-a:9100"`,
	`"status": "resolved",
     "labels": {"alertname": "UPSOnBattery", "instance": "ups-cpd1-a:9100"`, 1),
	`"startsAt": "2026-12-07T09:58:01.123Z", "endsAt": "0001-01-01T00:00:00Z"`,
	`"startsAt": "2026-12-07T09:58:01.123Z", "endsAt": "2026-12-07T10:03:01.000Z"`, 1)

func amGroup(alertname, groupKey string) string {
	return strings.NewReplacer("UPSOnBattery", alertname, `{}/{severity=\"critical\"}:{alertname=\"UPSOnBattery\"}`, groupKey).Replace(amFiring)
}

// Alertmanager's notifications become proposals that page nobody: a responder confirms
// one (it becomes a declaration) or dismisses another with a reason; the same group key
// updates the same proposal and notes the resolved alerts; another payload version is
// refused, on the record.
func TestAlertmanagerProposesAndAHumanDecides(t *testing.T) {
	storetest.Each(t, testAlertmanagerProposesAndAHumanDecides)
}

func testAlertmanagerProposesAndAHumanDecides(t *testing.T) {
	a, _ := newTestAPI(t, adminToken, func(c *config.Config) {
		c.Integrations.DeclareAtOnce = []config.AlertRule{{AlertName: "DatacenterFlooded", Impact: "critical", Urgency: "critical", Teams: []string{"operations"}}}
	})
	monitor, resp := a.token(optimum.RoleIntegration), a.token(optimum.RoleResponder)
	post := func(body string) (alerts.Proposal, response) {
		t.Helper()
		var p alerts.Proposal
		res := a.do("POST", "/api/v1/integrations/alertmanager", monitor, body)
		if res.status == 200 {
			res.json(t, &p)
		}
		return p, res
	}
	incidents := func() int {
		var list []incident.Incident
		a.do("GET", "/api/v1/incidents", adminToken, nil).json(t, &list)
		return len(list)
	}

	first, res := post(amFiring)
	if res.status != 200 || first.Status != alerts.StatusOpen || first.Firing != 2 || first.Title != "El CPD principal funciona con baterías" || first.AlertName != "UPSOnBattery" {
		t.Fatalf("firing group = %d %s", res.status, res.body)
	}
	if n := incidents(); n != 0 {
		t.Fatalf("a proposal declared %d incidents: nobody is paged before a human decides", n)
	}
	again, _ := post(amOneResolved)
	if again.ID != first.ID || again.Firing != 1 || again.Resolved != 1 || again.Notifications != 2 || again.AllResolved {
		t.Fatalf("same group key = %+v, want the same proposal, 1 firing and 1 resolved", again)
	}
	other, _ := post(amGroup("DiskFull", `{}:{alertname=\"DiskFull\"}`))
	if other.ID == first.ID {
		t.Fatal("another group key updated the first proposal")
	}
	var open []alerts.Proposal
	a.do("GET", "/api/v1/proposals", resp, nil).json(t, &open)
	if len(open) != 2 {
		t.Fatalf("%d open proposals, want 2", len(open))
	}

	// The monitoring token may do nothing else.
	if res := a.do("GET", "/api/v1/incidents", monitor, nil); res.status != 403 {
		t.Errorf("the integration token read incidents: %d", res.status)
	}
	if res := a.do("POST", "/api/v1/proposals/"+first.ID+"/confirm", monitor, nil); res.status != 403 {
		t.Errorf("the integration token confirmed: %d", res.status)
	}

	var confirmed alerts.Proposal
	res = a.do("POST", "/api/v1/proposals/"+first.ID+"/confirm", resp, nil)
	res.json(t, &confirmed)
	if res.status != 200 || confirmed.Status != alerts.StatusConfirmed || confirmed.Folio == "" || confirmed.DecidedBy == nil {
		t.Fatalf("confirm = %d %s", res.status, res.body)
	}
	var inc incident.Incident
	a.do("GET", "/api/v1/incidents/"+confirmed.IncidentID, resp, nil).json(t, &inc)
	if inc.Title != first.Title || inc.Impact != incident.High || inc.Urgency != incident.Critical || len(inc.Teams) != 1 || inc.Teams[0] != "technology" {
		t.Errorf("declared = %+v: want the alert's title, critical severity as high impact and critical urgency, its team", inc)
	}
	if res := a.do("POST", "/api/v1/proposals/"+first.ID+"/confirm", resp, nil, "Accept-Language", "en"); res.status != 409 || !strings.Contains(string(res.body), "already confirmed") {
		t.Errorf("confirm twice = %d %s", res.status, res.body)
	}
	// Alertmanager repeats the group while it fires: same episode, same proposal, no
	// second incident.
	if p, _ := post(amFiring); p.ID != first.ID || p.Status != alerts.StatusConfirmed {
		t.Errorf("a repeat after the confirmation = %+v", p)
	}
	if n := incidents(); n != 1 {
		t.Errorf("%d incidents after a repeat, want 1", n)
	}

	if res := a.do("POST", "/api/v1/proposals/"+other.ID+"/dismiss", resp, map[string]string{"reason": " "}); res.status != 422 {
		t.Errorf("dismiss without a reason = %d %s", res.status, res.body)
	}
	var dismissed alerts.Proposal
	a.do("POST", "/api/v1/proposals/"+other.ID+"/dismiss", resp, map[string]string{"reason": "Disco de pruebas; se limpia solo"}).json(t, &dismissed)
	if dismissed.Status != alerts.StatusDismissed || dismissed.Reason != "Disco de pruebas; se limpia solo" {
		t.Errorf("dismissed = %+v", dismissed)
	}

	// A rule declares its alert name at once.
	ruled, _ := post(amGroup("DatacenterFlooded", `{}:{alertname=\"DatacenterFlooded\"}`))
	if ruled.Status != alerts.StatusConfirmed || ruled.Folio == "" || !strings.Contains(ruled.Reason, "declare_at_once") {
		t.Errorf("a rule's alert = %+v, want declared at once", ruled)
	}

	// Another version, a truncated body, no alerts: 422 or 400, recorded, nothing changed.
	before := incidents()
	for name, body := range map[string]string{
		"version 3": strings.Replace(amFiring, `"version": "4"`, `"version": "3"`, 1),
		"not JSON":  amFiring[:200],
		"no alerts": `{"version":"4","groupKey":"x","status":"firing","alerts":[]}`,
	} {
		if _, res := post(body); res.status != 422 && res.status != 400 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	// Unsigned (no token), a wrong token, a responder's token: refused, on the record too.
	for name, token := range map[string]string{"no token": "", "a wrong token": "obcp_not-a-token-of-this-server", "a responder's": resp} {
		if res := a.do("POST", "/api/v1/integrations/alertmanager", token, amFiring); res.status != 401 && res.status != 403 {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
	}
	if incidents() != before {
		t.Error("a refused notification changed the incidents")
	}
	if n := refusals(t, a); n != 6 {
		t.Errorf("%d refusals on the audit record, want 6", n)
	}
}

// refusals counts the integration.refused events of the log.
func refusals(t *testing.T, a *api) int {
	t.Helper()
	var x audit.Export
	a.do("GET", "/api/v1/audit/export?from=2000-01-01&to="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), adminToken, nil).json(t, &x)
	n := 0
	for _, e := range x.Events {
		if e.Type == alerts.EventRefused {
			n++
		}
	}
	return n
}

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func sign(id string, ts time.Time, body string) (string, string) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(testWebhookSecret, "whsec_"))
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + stamp + "." + body))
	return stamp, "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// A generic webhook signed as Standard Webhooks say makes a proposal; unsigned, forged
// or stale ones are refused on the record; a retry with the same id changes nothing.
func TestSignedWebhookProposes(t *testing.T) { storetest.Each(t, testSignedWebhookProposes) }

func testSignedWebhookProposes(t *testing.T) {
	a, clk := newTestAPI(t, adminToken, func(c *config.Config) { c.Integrations.WebhookSecret = testWebhookSecret })
	body := `{"key":"zabbix:trigger:18212","title":"Sin enlace con la sucursal Monterrey","severity":"high","name":"LinkDown","labels":{"team":"operations"}}`
	send := func(id string, at time.Time, b string, forge bool) response {
		stamp, sig := sign(id, at, b)
		if forge {
			sig = "v1," + base64.StdEncoding.EncodeToString([]byte("not the signature of this body.."))
		}
		return a.do("POST", "/api/v1/integrations/webhook", "", b, "webhook-id", id, "webhook-timestamp", stamp, "webhook-signature", sig)
	}
	res := send("msg_2Kp1", clk.Now(), body, false)
	var p alerts.Proposal
	res.json(t, &p)
	if res.status != 200 || p.Status != alerts.StatusOpen || p.Source != alerts.SourceWebhook || p.AlertName != "LinkDown" {
		t.Fatalf("signed webhook = %d %s", res.status, res.body)
	}
	if again := send("msg_2Kp1", clk.Now(), body, false); again.status != 200 || string(again.body) != string(res.body) {
		t.Errorf("a retry = %d %s, want the first answer", again.status, again.body)
	}
	var all []alerts.Proposal
	a.do("GET", "/api/v1/proposals?status=all", a.token(optimum.RoleResponder), nil).json(t, &all)
	if len(all) != 1 || all[0].Notifications != 1 {
		t.Errorf("after a retry: %+v, want one proposal, one notification", all)
	}
	for name, res := range map[string]response{
		"forged":   send("msg_2Kp2", clk.Now(), body, true),
		"stale":    send("msg_2Kp3", clk.Now().Add(-10*time.Minute), body, false),
		"unsigned": a.do("POST", "/api/v1/integrations/webhook", "", body),
		"altered":  a.do("POST", "/api/v1/integrations/webhook", "", strings.Replace(body, "Monterrey", "Tijuana", 1), "webhook-id", "msg_2Kp1", "webhook-timestamp", strconv.FormatInt(clk.Now().Unix(), 10), "webhook-signature", func() string { _, s := sign("msg_2Kp1", clk.Now(), body); return s }()),
		"no title": send("msg_2Kp4", clk.Now(), `{"key":"k"}`, false),
	} {
		want := 401
		if name == "no title" {
			want = 422
		}
		if res.status != want {
			t.Errorf("%s: %d %s, want %d", name, res.status, res.body, want)
		}
	}
	if n := refusals(t, a); n != 5 {
		t.Errorf("%d refusals on the record, want 5", n)
	}
}
