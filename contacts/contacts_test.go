package contacts

import (
	"strings"
	"testing"
	"time"
)

func TestE164(t *testing.T) {
	for _, tt := range []struct{ in, want, err string }{
		{"+52 55 1234 5678", "+525512345678", ""},
		{"+34 612 34 56 78", "+34612345678", ""},
		{"+1 (415) 555-2671", "+14155552671", ""},
		{"55 1234 5678", "", "must start with +"},
		{"+1415555", "", "not a valid phone number"},
		{"+52 abc", "", "not a valid phone number"},
	} {
		got, err := E164(tt.in)
		if got != tt.want || (tt.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("E164(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Tecnología de la Información": "tecnologia-de-la-informacion",
		"  Operaciones  ":              "operaciones",
		"Dirección/Comité":             "direccion-comite",
		"---":                          "",
		"Ñoño 2":                       "nono-2",
	} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPersonValidation(t *testing.T) {
	ok := PersonInput{Name: "Ana López", Email: "ana@example.com", Phone: "+525512345678", Language: "es", Teams: []Membership{{Team: "technology"}}}
	for _, tt := range []struct {
		name   string
		edit   func(*PersonInput)
		fields string
	}{
		{"valid", func(*PersonInput) {}, ""},
		{"no name", func(p *PersonInput) { p.Name = "" }, "name"},
		{"bad email", func(p *PersonInput) { p.Email = "ana@" }, "email"},
		{"local phone", func(p *PersonInput) { p.Phone = "5512345678" }, "phone"},
		{"bad language", func(p *PersonInput) { p.Language = "fr" }, "language"},
		{"bad zone", func(p *PersonInput) { p.TimeZone = "Mars/Base" }, "time_zone"},
		{"own manager", func(p *PersonInput) { p.ManagerEmail = "ana@example.com" }, "manager_email"},
		{"bad role", func(p *PersonInput) { p.Teams[0].Role = "boss" }, "teams[0]"},
		{"team twice", func(p *PersonInput) { p.Teams = append(p.Teams, Membership{Team: "Technology"}) }, "teams[1]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			in.Teams = append([]Membership(nil), ok.Teams...)
			tt.edit(&in)
			in.Normalize()
			var got []string
			for _, f := range in.Validate() {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != tt.fields {
				t.Errorf("fields = %v, want %q", got, tt.fields)
			}
		})
	}
}

func TestParseCSV(t *testing.T) {
	csv := "\uFEFFname,email,phone,language,teams,manager_email\n" +
		"Ana López,ana@example.com,+525512345678,es,technology:lead;operations,\n" +
		"\n" +
		"\"Bob, Jr.\",bob@example.com,,en,technology,ana@example.com\n"
	rows, err := ParseCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows = %d", len(rows))
	}
	if rows[0].Line != 2 || rows[1].Line != 4 {
		t.Errorf("lines = %d, %d; want 2, 4", rows[0].Line, rows[1].Line)
	}
	if got := rows[0].Input.Teams; len(got) != 2 || got[0] != (Membership{"technology", "lead"}) || got[1].Team != "operations" {
		t.Errorf("teams = %+v", got)
	}
	if rows[1].Input.Name != "Bob, Jr." || rows[1].Input.ManagerEmail != "ana@example.com" {
		t.Errorf("row 2 = %+v", rows[1].Input)
	}
}

func TestParseCSVRefusesBadFiles(t *testing.T) {
	for _, tt := range []struct {
		name, data, want string
	}{
		{"empty", "", "empty"},
		{"wrong header", "nombre,correo\nAna,ana@x.com\n", "Missing: name, email"},
		{"unknown column", "name,email,phone,language,teams,manager_email,salary\n", "Unknown: salary"},
		{"latin-1", "name,email,phone,language,teams,manager_email\nJos\xe9,jose@x.com,,es,,\n", "not UTF-8 (line 2"},
		{"utf-16", "\xff\xfen\x00a\x00", "UTF-16"},
		{"broken quotes", "name,email,phone,language,teams,manager_email\n\"Ana,ana@x.com,,es,,\n", "not valid CSV"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCSV(strings.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	var b strings.Builder
	b.WriteString("name,email,phone,language,teams,manager_email\n")
	for range MaxImportRows + 1 {
		b.WriteString("A,a@x.com,,es,,\n")
	}
	if _, err := ParseCSV(strings.NewReader(b.String())); err == nil || !strings.Contains(err.Error(), "split it") {
		t.Errorf("too many rows: %v", err)
	}
}

func TestParseYAML(t *testing.T) {
	f, err := ParseYAML([]byte(`
teams:
  - {id: security, name_es: Seguridad, name_en: Security}
services:
  - {id: erp, name: ERP, owner_team: technology}
people:
  - name: Ana
    email: ana@example.com
    language: es
    teams: [technology:lead, security]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Teams) != 1 || len(f.Services) != 1 || len(f.People) != 1 || f.People[0].Line != 7 {
		t.Fatalf("file = %+v", f)
	}
	if m := f.People[0].Input.Teams; len(m) != 2 || m[0].Role != "lead" {
		t.Errorf("teams = %+v", m)
	}
	if _, err := ParseYAML([]byte("people:\n  - name: x\n    salary: 3\n")); err == nil {
		t.Error("unknown key accepted")
	}
}

// The channels a person can be reached on count a second phone only once proved, as the
// alerts do (docs/sites.md, "Alerts follow the person's channels"); by hand.
func TestUsableCountsAProvedSecondPhone(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		p                Person
		usable, verified string
	}{
		{"no phone", Person{}, "", ""},
		{"an unproved first phone", Person{Phone: "+525500000001"}, "sms voice", ""},
		{"a proved first phone", Person{Phone: "+525500000001", Channels: Channels{PhoneVerifiedAt: &at}}, "sms voice", "sms voice"},
		{"only an unproved second phone", Person{Phone2: "+525500000002"}, "", ""},
		{"only a proved second phone", Person{Phone2: "+525500000002", Channels: Channels{Phone2VerifiedAt: &at}}, "sms voice", "sms voice"},
		{"an unproved first, a proved second", Person{Phone: "+525500000001", Phone2: "+525500000002", Channels: Channels{Phone2VerifiedAt: &at}}, "sms voice", "sms voice"},
	} {
		if got := strings.Join(tc.p.Usable(false), " "); got != tc.usable {
			t.Errorf("%s: Usable(false) = %q, want %q", tc.name, got, tc.usable)
		}
		if got := strings.Join(tc.p.Usable(true), " "); got != tc.verified {
			t.Errorf("%s: Usable(true) = %q, want %q", tc.name, got, tc.verified)
		}
	}
}
