package contacts_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

var manager = optimum.WithActor(context.Background(), optimum.Actor{ID: "usr_m", Name: "Manager", Role: optimum.RoleManager})

func newDirectory(t testing.TB) (*contacts.Directory, *store.DB) {
	t.Helper()
	db := storetest.Open(t) // SQLite, or PostgreSQL inside storetest.Each
	d := contacts.NewDirectory(db.Contacts(), nil)
	err := d.EnsureTeams(context.Background(), []contacts.TeamInput{
		{ID: "directors", NameES: "Dirección", NameEN: "Directors"},
		{ID: "continuity", NameES: "Continuidad del negocio", NameEN: "Business continuity"},
		{ID: "technology", NameES: "Tecnología", NameEN: "Technology"},
		{ID: "operations", NameES: "Operaciones", NameEN: "Operations"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, db
}

func importCSV(t testing.TB, d *contacts.Directory, csv string) (contacts.ImportReport, error) {
	t.Helper()
	rows, err := contacts.ParseCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	return d.Import(manager, rows, nil, nil, false)
}

func events(t testing.TB, db *store.DB) []optimum.Event {
	t.Helper()
	ev, err := db.EventsAfter(context.Background(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestImportExampleFilesAndReimportChangesNothing(t *testing.T) {
	storetest.Each(t, testImportExampleFilesAndReimportChangesNothing)
}

func testImportExampleFilesAndReimportChangesNothing(t *testing.T) {
	d, db := newDirectory(t)
	data, err := os.ReadFile("../configs/contacts.example.csv")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := importCSV(t, d, string(data))
	if err != nil {
		t.Fatalf("%v %+v", err, rep.Errors)
	}
	if rep.Created != 5 || !slices.Equal(rep.TeamsCreated, []string{"seguridad"}) {
		t.Errorf("report = %+v", rep)
	}
	diego, err := d.Person(context.Background(), "DIEGO.TORRES@example.com")
	if err != nil {
		t.Fatal(err)
	}
	priya, _ := d.Person(context.Background(), "priya.shah@example.com")
	if diego.ManagerID != priya.ID || diego.Phone != "+525587654321" || !slices.Equal(diego.Teams, []string{"operations", "technology"}) {
		t.Errorf("diego = %+v", diego)
	}
	before := len(events(t, db))
	rep, err = importCSV(t, d, string(data))
	if err != nil || rep.Unchanged != 5 || rep.Created+rep.Updated != 0 || len(rep.TeamsCreated) != 0 {
		t.Errorf("re-import: %+v %v", rep, err)
	}
	if after := len(events(t, db)); after != before {
		t.Errorf("re-import appended %d events", after-before)
	}
	// The YAML example describes the same people; importing it adds its team and services
	// and changes only what differs (Priya's second team is named differently).
	ydata, _ := os.ReadFile("../configs/contacts.example.yaml")
	f, err := contacts.ParseYAML(ydata)
	if err != nil {
		t.Fatal(err)
	}
	rep, err = d.Import(manager, f.People, f.Teams, f.Services, false, f.Sites...)
	if err != nil {
		t.Fatalf("%v %+v", err, rep.Errors)
	}
	if laura, _ := d.Person(context.Background(), "laura.mendez@example.com"); laura.PrimarySite != "torre-norte" || !slices.Equal(laura.Sites, []string{"torre-norte", "madrid"}) {
		t.Errorf("Laura's sites from the YAML example: %v (primary %q)", laura.Sites, laura.PrimarySite)
	}
	if rep.Created != 0 || rep.ServicesChanged != 3 || !slices.Equal(rep.TeamsCreated, []string{"security"}) {
		t.Errorf("yaml report = %+v", rep)
	}
}

// One bad row and nothing is imported; the report names every problem by line and field.
func TestImportIsAllOrNothing(t *testing.T) { storetest.Each(t, testImportIsAllOrNothing) }

func testImportIsAllOrNothing(t *testing.T) {
	d, db := newDirectory(t)
	before := len(events(t, db))
	csv := "name,email,phone,language,teams,manager_email\n" +
		"Ana,ana@example.com,+525512345678,es,technology,\n" + // line 2: fine
		"Bob,bob@example.com,5512345678,fr,technology:chief,nobody@example.com\n" + // line 3: phone, language, role, manager
		"Ana Bis,ana@example.com,,es,,\n" + // line 4: duplicate email
		"Cy,cy@example.com,,es,,dee@example.com\n" + // line 5 and 6: a management loop
		"Dee,dee@example.com,,es,,cy@example.com\n"
	rep, err := importCSV(t, d, csv)
	if optimum.ErrorCode(err) != optimum.EINVALID {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	want := []string{"3:phone", "3:language", "3:teams[0]", "4:email", "5:manager_email", "6:manager_email"}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %s in %v", w, got)
		}
	}
	people, _ := d.People(context.Background(), contacts.Filter{})
	if len(people) != 0 || len(events(t, db)) != before {
		t.Errorf("something was imported: %d people", len(people))
	}
}

func TestImportMatchesByExternalID(t *testing.T) { storetest.Each(t, testImportMatchesByExternalID) }

func testImportMatchesByExternalID(t *testing.T) {
	d, _ := newDirectory(t)
	h := "name,email,phone,language,teams,manager_email,external_id\n"
	if _, err := importCSV(t, d, h+"Ana,ana@old.example.com,,es,technology,,E1\n"); err != nil {
		t.Fatal(err)
	}
	rep, err := importCSV(t, d, h+"Ana García,ana@new.example.com,,es,technology,,E1\n")
	if err != nil || rep.Updated != 1 || rep.Created != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	p, err := d.Person(context.Background(), "ana@new.example.com")
	if err != nil || p.ExternalID != "E1" || p.Name != "Ana García" {
		t.Errorf("person = %+v %v", p, err)
	}
}

func TestPersonEditsAreValidatedAndLogged(t *testing.T) {
	storetest.Each(t, testPersonEditsAreValidatedAndLogged)
}

func testPersonEditsAreValidatedAndLogged(t *testing.T) {
	d, db := newDirectory(t)
	boss, err := d.CreatePerson(manager, contacts.PersonInput{Name: "Boss", Email: "boss@example.com", Language: "es", Teams: []contacts.Membership{{Team: "Dirección", Role: "lead"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(boss.Teams, []string{"directors"}) {
		t.Errorf("team by Spanish name: %v", boss.Teams)
	}
	emp, err := d.CreatePerson(manager, contacts.PersonInput{Name: "Emp", Email: "emp@example.com", Phone: "+34612345678", Language: "en", ManagerEmail: "boss@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// The boss may not report to her own report.
	_, err = d.UpdatePerson(manager, boss.ID, contacts.PersonInput{Name: "Boss", Email: "boss@example.com", Language: "es", ManagerEmail: "emp@example.com"})
	if f := optimum.ErrorFields(err); len(f) != 1 || f[0].Field != "manager_email" {
		t.Errorf("cycle: %v", err)
	}
	_, err = d.CreatePerson(manager, contacts.PersonInput{Name: "Dup", Email: "EMP@example.com", Language: "es", Teams: []contacts.Membership{{Team: "marketing"}}})
	var fields []string
	for _, f := range optimum.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	if !slices.Equal(fields, []string{"email", "teams[0]"}) {
		t.Errorf("fields = %v", fields)
	}
	if _, err := d.SetActive(manager, emp.ID, false); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events(t, db) {
		if strings.HasPrefix(e.Type, "person.") {
			types = append(types, e.Type)
			if strings.Contains(string(e.Data), "+34") {
				t.Errorf("an event carries a phone number: %s", e.Data)
			}
		}
	}
	if !slices.Equal(types, []string{"person.created", "person.created", "person.updated"}) {
		t.Errorf("events = %v", types)
	}
}

func TestResolveAudience(t *testing.T) { storetest.Each(t, testResolveAudience) }

func testResolveAudience(t *testing.T) {
	d, _ := newDirectory(t)
	_, err := importCSV(t, d, "name,email,phone,language,teams,manager_email,active\n"+
		"Ana,ana@example.com,+525512345678,es,technology:lead;directors,,\n"+
		"Bob,bob@example.com,,en,technology,,\n"+
		"Cy,cy@example.com,+34612345678,es,technology:backup,,false\n"+
		"Dee,dee@example.com,,es,operations,,\n")
	if err != nil {
		t.Fatal(err)
	}
	names := func(a contacts.Audience) string {
		rs, err := d.Resolve(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, r := range rs {
			n = append(n, r.Name)
		}
		return strings.Join(n, ",")
	}
	for _, tt := range []struct {
		a    contacts.Audience
		want string
	}{
		{contacts.Audience{Teams: []string{"technology", "directors"}}, "Ana,Bob"}, // distinct; Cy inactive
		{contacts.Audience{Teams: []string{"Tecnología"}, Roles: []string{"lead"}}, "Ana"},
		{contacts.Audience{Teams: []string{"directors"}, People: []string{"dee@example.com"}}, "Ana,Dee"},
	} {
		if got := names(tt.a); got != tt.want {
			t.Errorf("%+v: got %s, want %s", tt.a, got, tt.want)
		}
	}
	rs, _ := d.Resolve(context.Background(), contacts.Audience{Teams: []string{"technology"}})
	if !slices.Equal(rs[0].Channels, []string{"sms", "voice"}) || len(rs[1].Channels) != 0 {
		t.Errorf("channels = %v / %v", rs[0].Channels, rs[1].Channels)
	}
	if _, err := d.Resolve(context.Background(), contacts.Audience{Teams: []string{"marketing"}}); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("unknown team: %v", err)
	}
}

func TestReadiness(t *testing.T) { storetest.Each(t, testReadiness) }

func testReadiness(t *testing.T) {
	d, _ := newDirectory(t)
	importCSV(t, d, "name,email,phone,language,teams,manager_email\n"+
		"Ana,ana@example.com,+525512345678,es,technology,\n"+
		"Bob,bob@example.com,,en,technology,\n")
	r, err := d.Readiness(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Nobody has verified a phone yet: both are without a verified channel, Ana is reachable.
	if r.Overall.People != 2 || r.Overall.Reachable != 1 || r.Overall.Verified != 0 || len(r.Overall.WithoutVerified) != 2 {
		t.Errorf("overall = %+v", r.Overall)
	}
	for _, tr := range r.Teams {
		if tr.Team == "technology" && tr.People != 2 {
			t.Errorf("technology = %+v", tr)
		}
	}
}

// BenchmarkImport10k measures an import of 10,000 new people (the issue asks for under
// 10 s), and then the re-import of the same file, which changes nothing.
func BenchmarkImport10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("name,email,phone,language,teams,manager_email\n")
	for i := range 10000 {
		mgr := ""
		if i > 0 {
			mgr = fmt.Sprintf("p%d@example.com", i/10)
		}
		fmt.Fprintf(&sb, "Person %d,p%d@example.com,+5255%08d,es,technology;team-%d,%s\n", i, i, 10000000+i, i%50, mgr)
	}
	csv := sb.String()
	for b.Loop() {
		b.StopTimer()
		d, _ := newDirectory(b)
		b.StartTimer()
		rep, err := importCSV(b, d, csv)
		if err != nil || rep.Created != 10000 {
			b.Fatalf("%v %+v", err, rep.Errors[:min(3, len(rep.Errors))])
		}
	}
}
