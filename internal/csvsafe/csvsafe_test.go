package csvsafe_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/csvsafe"
)

func TestDefuse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Ana López", "Ana López"},
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"=1+1", "'=1+1"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"-3.5", "-3.5"},                   // a number stays a number
		{"+525512345678", "+525512345678"}, // an E.164 phone
		{"-", "'-"},
		{"a=b", "a=b"},
		{"'=already", "'=already"},
	} {
		if got := csvsafe.Defuse(tc.in); got != tc.want {
			t.Errorf("Defuse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRestore(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"'=1+1", "=1+1"},
		{"'@x", "@x"},
		{"'-", "-"},
		{"'quoted", "'quoted"}, // an apostrophe a person typed stays
		{"'", "'"},
		{"Ana", "Ana"},
	} {
		if got := csvsafe.Restore(tc.in); got != tc.want {
			t.Errorf("Restore(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterDefusesEveryCell(t *testing.T) {
	var b strings.Builder
	w := csvsafe.NewWriter(&b)
	rec := []string{"=a", "b", "@c", "-1"}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if rec[0] != "=a" {
		t.Errorf("the caller's record was changed: %q", rec)
	}
	got, err := csv.NewReader(strings.NewReader(b.String())).Read()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"'=a", "b", "'@c", "-1"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("wrote %q, want %q", got, want)
	}
}
