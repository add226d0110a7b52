package drill_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/drill"
)

// Names, plans and provider errors are typed by people or by outsiders: in the CSV a
// cell a spreadsheet would run as a formula starts with an apostrophe.
func TestReportCSVDefusesFormulas(t *testing.T) {
	rep := drill.Report{
		Header:    drill.Header{Plan: "=HYPERLINK(\"http://evil.example\",\"plan\")", Scenario: "@SUM(A1)"},
		Unreached: []drill.Unreached{{PersonID: "per_1", Name: "+cmd|' /C calc'!A0", Reason: "failed", Error: "-2+3+cmd"}},
		Hygiene:   []drill.HygieneAction{{PersonID: "per_2", Name: "\t=1", Action: drill.ActionAddChannel}},
	}
	var b strings.Builder
	if err := drill.WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	cr := csv.NewReader(strings.NewReader(b.String()))
	cr.FieldsPerRecord = -1 // header rows are shorter
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]bool{}
	for _, r := range rows {
		for _, c := range r {
			cells[c] = true
		}
	}
	for _, want := range []string{"'=HYPERLINK(\"http://evil.example\",\"plan\")", "'@SUM(A1)", "'+cmd|' /C calc'!A0", "'-2+3+cmd", "'\t=1"} {
		if !cells[want] {
			t.Errorf("no cell %q in:\n%s", want, b.String())
		}
	}
	for c := range cells {
		if c != "" && strings.ContainsRune("=+@\t\r", rune(c[0])) {
			t.Errorf("cell %q would run as a formula", c)
		}
	}
}
