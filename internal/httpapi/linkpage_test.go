package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The public link pages never answer a person with JSON: an unknown link, the link of a
// cancelled crisis, an answer a link may not give, a used sign-in link each get a page in
// the person's words (Spanish with "tú" by default, English when the browser asks), and a
// crisis that is over says so on the first view, without a button. The one-tap page
// shows the crisis message and what to do. A client that asks for JSON still gets it.
func TestLinkPagesAreFriendlyPagesNeverJSON(t *testing.T) {
	storetest.Each(t, testLinkPagesAreFriendlyPagesNeverJSON)
}

func testLinkPagesAreFriendlyPagesNeverJSON(t *testing.T) {
	a, _ := newUserAPI(t, generous) // the per-client link limit is another test's subject
	page := func(method, path string, form url.Values, header ...string) response {
		t.Helper()
		var body any
		if form != nil {
			body = form.Encode()
			header = append(header, "Content-Type", "application/x-www-form-urlencoded")
		}
		res := a.do(method, path, "", body, append([]string{"Accept", "text/html,application/xhtml+xml"}, header...)...)
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s %s: Content-Type %q, want a page: %s", method, path, ct, res.body)
		}
		return res
	}
	has := func(res response, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(string(res.body), w) {
				t.Errorf("page lacks %q:\n%s", w, res.body)
			}
		}
	}

	// Unknown links, in Spanish by default and in English on request.
	res := page("GET", "/a/nope-nope-nope", nil)
	if res.status != 404 {
		t.Errorf("unknown one-tap link = %d", res.status)
	}
	has(res, "Este enlace ya no funciona", "responde al SMS")
	has(page("GET", "/a/nope-nope-nope", nil, "Accept-Language", "en-US,en;q=0.9"), "This link no longer works")
	has(page("GET", "/c/nope-nope-nope", nil), "Este enlace ya no funciona")
	has(page("POST", "/c/nope-nope-nope", url.Values{"decision": {"accept"}}), "Este enlace ya no funciona")
	res = page("POST", "/login/nope-nope-nope", url.Values{})
	if res.status != 401 {
		t.Errorf("used sign-in link = %d", res.status)
	}
	has(res, "Este enlace de acceso ya no funciona")

	// A real one-tap link of a poll: the message and the instructions.
	if res := a.do("POST", "/api/v1/people/import", adminToken, "name,email,phone,language,teams,manager_email\nAna López,ana@example.com,,es,operations,\n",
		"Content-Type", "text/csv"); res.status != 200 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	var inc struct{ ID, Folio string }
	a.do("POST", "/api/v1/incidents", adminToken, map[string]any{"title": "Sismo de magnitud 7.1", "description": "Evacúa por la escalera norte.",
		"impact": "critical", "urgency": "critical", "teams": []string{"operations"}, "safety_poll": true}).json(t, &inc)
	full := a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil)
	var v struct {
		Recipients []struct {
			PersonID string `json:"person_id"`
		}
	}
	full.json(t, &v)
	if len(v.Recipients) != 1 {
		t.Fatalf("recipients = %s", full.body)
	}
	const token = "Tk3mNp7qRs9tUv"
	sum := sha256.Sum256([]byte(token))
	now := time.Now()
	if err := a.db.Escalation().CreateAckLink(context.Background(), hex.EncodeToString(sum[:]), inc.ID, v.Recipients[0].PersonID, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	res = page("GET", "/a/"+token, nil)
	if res.status != 200 {
		t.Fatalf("one-tap page = %d %s", res.status, res.body)
	}
	has(res, "Evacúa por la escalera norte.", "Elige una respuesta", `value="help_needed"`)

	// "Necesito ayuda" by link, then "a salvo" by the same link: a page, not JSON.
	has(page("POST", "/a/"+token, url.Values{"answer": {"help_needed"}}), "Registramos que necesitas ayuda")
	res = page("POST", "/a/"+token, url.Values{"answer": {"safe"}})
	if res.status != 409 {
		t.Errorf("taking back help by link = %d", res.status)
	}
	has(res, "Nos dijiste que necesitas ayuda", inc.Folio)
	res = page("POST", "/a/"+token, url.Values{"answer": {"perhaps"}})
	if res.status != 422 {
		t.Errorf("a made-up answer = %d", res.status)
	}

	// The crisis is cancelled: the first view says so, with no button.
	if res := a.do("POST", "/api/v1/incidents/"+inc.ID+"/transitions", adminToken, map[string]string{"to": "cancelled", "note": "Falsa alarma"}); res.status != 200 {
		t.Fatalf("cancel = %d %s", res.status, res.body)
	}
	res = page("GET", "/a/"+token, nil)
	has(res, "Esta crisis se canceló", inc.Folio, "Ya no necesitas responder")
	if strings.Contains(string(res.body), "<button") || strings.Contains(string(res.body), "<form") {
		t.Errorf("the page of a cancelled crisis offers a button:\n%s", res.body)
	}
	// The service worker's notification button asks for JSON, and gets it.
	res = a.do("POST", "/a/"+token, "", nil, "Accept", "application/json")
	if res.status != 409 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("JSON client = %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
	}
}
