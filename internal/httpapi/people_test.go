package httpapi_test

import (
	"bytes"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

func (a *api) upload(path, token, contentType string, body []byte) response {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(res.Body)
	return response{res.StatusCode, res.Header, buf.Bytes()}
}

func TestImportExportPeopleOverHTTP(t *testing.T) { storetest.Each(t, testImportExportPeopleOverHTTP) }

func testImportExportPeopleOverHTTP(t *testing.T) {
	a := newAPI(t, adminToken)
	csv, err := os.ReadFile("../../configs/contacts.example.csv")
	if err != nil {
		t.Fatal(err)
	}
	manager := a.token(optimum.RoleManager)
	if res := a.upload("/api/v1/people/import", a.token(optimum.RoleResponder), "text/csv", csv); res.status != 403 {
		t.Errorf("responder import = %d", res.status)
	}
	res := a.upload("/api/v1/people/import?dry_run=true", manager, "text/csv", csv)
	var rep struct {
		Created, Updated, Unchanged int
		DryRun                      bool `json:"dry_run"`
	}
	res.json(t, &rep)
	if res.status != 200 || rep.Created != 5 || !rep.DryRun {
		t.Fatalf("dry run = %d %s", res.status, res.body)
	}
	if list := a.do("GET", "/api/v1/people", adminToken, nil); string(bytes.TrimSpace(list.body)) != "[]" {
		t.Fatalf("dry run wrote people: %s", list.body)
	}
	res = a.upload("/api/v1/people/import", manager, "text/csv; charset=utf-8", csv)
	res.json(t, &rep)
	if res.status != 200 || rep.Created != 5 {
		t.Fatalf("import = %d %s", res.status, res.body)
	}
	var people []struct {
		ID, Name, Email, Phone, Language string
		Teams                            []string
	}
	a.do("GET", "/api/v1/people?team=technology", adminToken, nil).json(t, &people)
	if len(people) != 2 || people[0].Name != "Diego Torres" || people[0].Phone != "+525587654321" || people[0].Language != "es" {
		t.Errorf("technology = %+v", people)
	}
	var teams []struct {
		ID      string
		Members int
	}
	a.do("GET", "/api/v1/teams", adminToken, nil).json(t, &teams)
	if len(teams) != 5 {
		t.Errorf("teams = %+v", teams)
	}
	export := a.do("GET", "/api/v1/people/export", manager, nil)
	if export.status != 200 || !strings.HasPrefix(export.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export = %d", export.status)
	}
	res = a.upload("/api/v1/people/import", manager, "text/csv", export.body)
	res.json(t, &rep)
	if rep.Unchanged != 5 || rep.Created+rep.Updated != 0 {
		t.Errorf("re-import of the export = %s", res.body)
	}
}

func TestImportErrorsAreReportedPerRow(t *testing.T) {
	storetest.Each(t, testImportErrorsAreReportedPerRow)
}

func testImportErrorsAreReportedPerRow(t *testing.T) {
	a := newAPI(t, adminToken)
	for _, tt := range []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"bad rows", "text/csv", "name,email,phone,language,teams,manager_email\nAna,ana@x.com,123,es,,\n", 422, `"line":2`},
		{"wrong header", "text/csv", "nombre,correo\n", 422, "Faltan: name"}, // Spanish: the request names no language
		{"latin-1", "text/csv", "name,email,phone,language,teams,manager_email\nJos\xe9,j@x.com,,es,,\n", 422, "no está en UTF-8"},
		{"not csv", "application/pdf", "%PDF", 415, "text/csv"},
		{"bad yaml", "application/yaml", "people: [", 422, "YAML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := a.upload("/api/v1/people/import", adminToken, tt.contentType, []byte(tt.body))
			if res.status != tt.status || !bytes.Contains(res.body, []byte(tt.want)) {
				t.Errorf("= %d %s", res.status, res.body)
			}
		})
	}
	if list := a.do("GET", "/api/v1/people", adminToken, nil); string(bytes.TrimSpace(list.body)) != "[]" {
		t.Errorf("people were imported: %s", list.body)
	}
}

func TestPersonLifecycleOverHTTP(t *testing.T) { storetest.Each(t, testPersonLifecycleOverHTTP) }

func testPersonLifecycleOverHTTP(t *testing.T) {
	a := newAPI(t, adminToken)
	body := map[string]any{"name": "Ana López", "email": "ana@example.com", "phone": "+52 55 1234 5678", "language": "es", "teams": []map[string]string{{"team": "technology", "role": "lead"}}}
	res := a.do("POST", "/api/v1/people", adminToken, body)
	var p struct {
		ID, Phone string
		Active    bool
	}
	res.json(t, &p)
	if res.status != 201 || p.Phone != "+525512345678" || !p.Active {
		t.Fatalf("create = %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/people", adminToken, body); res.status != 422 || !bytes.Contains(res.body, []byte("ya pertenece a Ana")) {
		t.Errorf("duplicate email = %d %s", res.status, res.body)
	}
	body["name"] = "Ana López García"
	if res := a.do("PUT", "/api/v1/people/"+p.ID, adminToken, body); res.status != 200 || !bytes.Contains(res.body, []byte("García")) {
		t.Errorf("update = %d %s", res.status, res.body)
	}
	if res := a.do("POST", "/api/v1/people/"+p.ID+"/deactivate", adminToken, nil); res.status != 200 || !bytes.Contains(res.body, []byte(`"active":false`)) {
		t.Errorf("deactivate = %d %s", res.status, res.body)
	}
	if res := a.do("GET", "/api/v1/people/nobody@example.com", adminToken, nil); res.status != 404 {
		t.Errorf("unknown person = %d", res.status)
	}
}

// The declare path resolves the audience from the directory: the incident lists its
// recipients, and the preview tells who can be reached before sending.
func TestDeclareResolvesTheAudience(t *testing.T) { storetest.Each(t, testDeclareResolvesTheAudience) }

func testDeclareResolvesTheAudience(t *testing.T) {
	a := newAPI(t, adminToken)
	a.upload("/api/v1/people/import", adminToken, "text/csv", []byte("name,email,phone,language,teams,manager_email\n"+
		"Ana,ana@example.com,+525512345678,es,technology,\nBob,bob@example.com,,en,technology;directors,\n"))
	var preview struct{ People, Reachable, Verified int }
	res := a.do("GET", "/api/v1/audience/preview?teams=technology,directors", adminToken, nil)
	res.json(t, &preview)
	if preview.People != 2 || preview.Reachable != 1 || preview.Verified != 0 {
		t.Errorf("preview = %s", res.body)
	}
	d := declaration()
	d["teams"] = []string{"technology"}
	res = a.do("POST", "/api/v1/incidents", adminToken, d)
	var inc struct {
		ID       string
		Audience int
	}
	res.json(t, &inc)
	if inc.Audience != 2 {
		t.Errorf("audience = %s", res.body)
	}
	var view struct {
		Recipients []struct {
			Name           string
			AcknowledgedAt *string `json:"acknowledged_at"`
		}
	}
	a.do("GET", "/api/v1/incidents/"+inc.ID, adminToken, nil).json(t, &view)
	if len(view.Recipients) != 2 || view.Recipients[0].Name != "Ana" || view.Recipients[0].AcknowledgedAt != nil {
		t.Errorf("recipients = %+v", view.Recipients)
	}
	d["teams"] = []string{"marketing"}
	if res := a.do("POST", "/api/v1/incidents", adminToken, d); res.status != 422 || !bytes.Contains(res.body, []byte("teams[0]")) {
		t.Errorf("unknown team = %d %s", res.status, res.body)
	}
}

// "Mi perfil": a signed-in user whose email is in the directory keeps their own phone and
// language; a new phone must be verified again. A user outside the directory is told so.
func TestProfileSelfService(t *testing.T) { storetest.Each(t, testProfileSelfService) }

func testProfileSelfService(t *testing.T) {
	a, _ := newUserAPI(t, generous)
	a.do("POST", "/api/v1/people", adminToken, map[string]any{"name": "Ana López", "email": "ana@example.com", "phone": "+525512345678", "language": "es", "teams": []map[string]string{{"team": "technology"}}})
	a.createUser("ana@example.com", optimum.RoleResponder)
	cookie := a.session("ana@example.com", password)
	res := a.do("GET", "/api/v1/me/profile", "", nil, "Cookie", cookie)
	if res.status != 200 || !bytes.Contains(res.body, []byte("+525512345678")) {
		t.Fatalf("profile = %d %s", res.status, res.body)
	}
	res = a.do("PUT", "/api/v1/me/profile", "", map[string]string{"phone": "+34 612 34 56 78", "language": "en"}, "Cookie", cookie)
	var p struct {
		Phone, Language string
		Teams           []string
	}
	res.json(t, &p)
	if res.status != 200 || p.Phone != "+34612345678" || p.Language != "en" || len(p.Teams) != 1 {
		t.Errorf("update = %d %s", res.status, res.body)
	}
	if res := a.do("PUT", "/api/v1/me/profile", "", map[string]string{"phone": "12", "language": "en"}, "Cookie", cookie); res.status != 422 || !bytes.Contains(res.body, []byte(`"phone"`)) {
		t.Errorf("bad phone = %d %s", res.status, res.body)
	}
	a.createUser("bob@example.com", optimum.RoleResponder)
	if res := a.do("GET", "/api/v1/me/profile", "", nil, "Cookie", a.session("bob@example.com", password)); res.status != 404 || !bytes.Contains(res.body, []byte("no está vinculada")) {
		t.Errorf("unlinked = %d %s", res.status, res.body)
	}
}
