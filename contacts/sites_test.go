package contacts_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Three sites in two cities: Torre Norte and Torre Sur in Ciudad de México ("CDMX"), and
// the Madrid office.
func withSites(t *testing.T, d *contacts.Directory) {
	t.Helper()
	for _, in := range []contacts.SiteInput{
		{ID: "torre-norte", Name: "Torre Norte", City: "CDMX", TimeZone: "America/Mexico_City"},
		{Name: "Torre Sur", City: "CDMX", TimeZone: "America/Mexico_City"},
		{ID: "madrid", Name: "Oficina Madrid", City: "Madrid", TimeZone: "Europe/Madrid"},
	} {
		if _, err := d.SaveSite(manager, in); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSitesAudienceImportAndReadiness(t *testing.T) {
	storetest.Each(t, testSitesAudienceImportAndReadiness)
}

func testSitesAudienceImportAndReadiness(t *testing.T) {
	d, db := newDirectory(t)
	ctx := context.Background()
	withSites(t, d)

	// A CSV with a sites column: the first of each cell is the primary site; sites are
	// named by id or by name (any case, accents or not).
	rep, err := importCSV(t, d, "name,email,phone,language,teams,manager_email,sites\n"+
		"Ana Norte,ana@example.com,,es,technology,,torre norte\n"+
		"Beto Sur,beto@example.com,,es,operations,,Torre Sur;madrid\n"+
		"Carmen Madrid,carmen@example.com,,en,technology,,Oficina Madrid\n"+
		"Dani Sin Sitio,dani@example.com,,es,directors,,\n")
	if err != nil {
		t.Fatalf("import: %v %+v", err, rep.Errors)
	}
	beto, err := d.Person(ctx, "beto@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"torre-sur", "madrid"}; !slices.Equal(beto.Sites, want) || beto.PrimarySite != "torre-sur" {
		t.Errorf("Beto's sites = %v primary %q, want %v primary torre-sur", beto.Sites, beto.PrimarySite, want)
	}

	names := func(a contacts.Audience) []string {
		t.Helper()
		rs, err := d.Resolve(ctx, a)
		if err != nil {
			t.Fatalf("resolve %+v: %v", a, err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	for _, c := range []struct {
		name string
		a    contacts.Audience
		want []string
	}{
		{"a site by name", contacts.Audience{Sites: []string{"Torre Norte"}}, []string{"Ana Norte"}},
		{"a city is every site of it", contacts.Audience{Sites: []string{"CDMX"}}, []string{"Ana Norte", "Beto Sur"}},
		{"a secondary site counts", contacts.Audience{Sites: []string{"madrid"}}, []string{"Beto Sur", "Carmen Madrid"}},
		{"sites and teams add up", contacts.Audience{Teams: []string{"directors"}, Sites: []string{"torre-norte"}}, []string{"Ana Norte", "Dani Sin Sitio"}},
	} {
		if got := names(c.a); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	_, err = d.Resolve(ctx, contacts.Audience{Sites: []string{"Guadalajara"}})
	if f := optimum.ErrorFields(err); len(f) != 1 || f[0].Field != "sites[0]" {
		t.Errorf("unknown site: got %v, want one error on sites[0]", err)
	}

	// A row naming an unknown site fails the whole file; nothing changes.
	before := len(events(t, db))
	rep, err = importCSV(t, d, "name,email,phone,language,teams,manager_email,sites\nEva,eva@example.com,,es,technology,,Guadalajara\n")
	if optimum.ErrorCode(err) != optimum.EINVALID || rep.ErrorCount != 1 || rep.Errors[0].Field != "sites[0]" {
		t.Errorf("unknown site in a file: err %v report %+v", err, rep.Errors)
	}
	if after := len(events(t, db)); after != before {
		t.Errorf("a refused import appended %d events", after-before)
	}

	// A file without the sites column keeps everybody's sites; an update without sites too.
	if _, err := importCSV(t, d, "name,email,phone,language,teams,manager_email\nBeto Sur,beto@example.com,,es,operations,\n"); err != nil {
		t.Fatal(err)
	}
	if p, _ := d.Person(ctx, "beto@example.com"); !slices.Equal(p.Sites, []string{"torre-sur", "madrid"}) {
		t.Errorf("an import without a sites column changed Beto's sites to %v", p.Sites)
	}

	rd, err := d.Readiness(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]int{}
	for _, r := range rd.Sites {
		people[r.Site] = r.People
	}
	if want := map[string]int{"torre-norte": 1, "torre-sur": 1, "madrid": 2}; !mapsEqual(people, want) {
		t.Errorf("readiness by site = %v, want %v", people, want)
	}

	// YAML: a file defines sites and people name them; a team may be located at sites.
	f, err := contacts.ParseYAML([]byte(`sites:
  - {id: monterrey, name: Planta Monterrey, city: Monterrey, time_zone: America/Monterrey}
teams:
  - {id: planta, name_es: Planta, name_en: Plant, sites: [monterrey]}
people:
  - {name: Fer, email: fer@example.com, language: es, teams: [planta], sites: [Planta Monterrey, torre-norte]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Import(manager, f.People, f.Teams, f.Services, false, f.Sites...); err != nil {
		t.Fatal(err)
	}
	fer, _ := d.Person(ctx, "fer@example.com")
	if fer.PrimarySite != "monterrey" || len(fer.Sites) != 2 {
		t.Errorf("Fer: sites %v primary %q", fer.Sites, fer.PrimarySite)
	}
	teams, _ := d.Teams(ctx)
	for _, tm := range teams {
		if tm.ID == "planta" && !slices.Equal(tm.Sites, []string{"monterrey"}) {
			t.Errorf("team planta sites = %v", tm.Sites)
		}
	}
}

func TestSiteNeedsCityAndTimeZone(t *testing.T) { storetest.Each(t, testSiteNeedsCityAndTimeZone) }

func testSiteNeedsCityAndTimeZone(t *testing.T) {
	d, db := newDirectory(t)
	before := len(events(t, db))
	_, err := d.SaveSite(manager, contacts.SiteInput{Name: "Torre Norte", TimeZone: "Mars/Olympus"})
	var fields []string
	for _, f := range optimum.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	if want := []string{"city", "time_zone"}; !slices.Equal(fields, want) {
		t.Errorf("fields = %v, want %v (%v)", fields, want, err)
	}
	if after := len(events(t, db)); after != before {
		t.Errorf("a refused site appended %d events", after-before)
	}
	// A person naming an unknown site is refused with the field.
	_, err = d.CreatePerson(manager, contacts.PersonInput{Name: "X", Email: "x@example.com", Language: "es", Sites: []string{"nowhere"}})
	if f := optimum.ErrorFields(err); len(f) != 1 || !strings.HasPrefix(f[0].Field, "sites[0]") {
		t.Errorf("unknown site: %v", err)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// BenchmarkResolveBySite10k measures resolving the audience of a city (the 10 sites of
// "CDMX", 5,500 of 10,000 people) as a declaration does, and a scoped manager's first
// page of the directory (the people of one team or one site).
func BenchmarkResolveBySite10k(b *testing.B) {
	d, _ := newDirectory(b)
	for i := range 20 {
		city := "CDMX"
		if i >= 10 {
			city = "Madrid"
		}
		if _, err := d.SaveSite(manager, contacts.SiteInput{ID: fmt.Sprintf("site-%d", i), Name: fmt.Sprintf("Sitio %d", i), City: city, TimeZone: "America/Mexico_City"}); err != nil {
			b.Fatal(err)
		}
	}
	var sb strings.Builder
	sb.WriteString("name,email,phone,language,teams,manager_email,sites\n")
	for i := range 10000 {
		fmt.Fprintf(&sb, "Person %d,p%d@example.com,+5255%08d,es,team-%d,,site-%d;site-%d\n", i, i, 10000000+i, i%50, i%20, (i+1)%20)
	}
	if _, err := importCSV(b, d, sb.String()); err != nil {
		b.Fatal(err)
	}
	b.Run("resolve city", func(b *testing.B) {
		for b.Loop() {
			rs, err := d.Resolve(context.Background(), contacts.Audience{Sites: []string{"CDMX"}})
			if err != nil || len(rs) < 5000 {
				b.Fatalf("%d %v", len(rs), err)
			}
		}
	})
	b.Run("resolve team (for comparison)", func(b *testing.B) {
		for b.Loop() {
			rs, err := d.Resolve(context.Background(), contacts.Audience{Teams: []string{"team-7"}})
			if err != nil || len(rs) != 200 {
				b.Fatalf("%d %v", len(rs), err)
			}
		}
	})
	scoped := optimum.WithActor(context.Background(), optimum.Actor{ID: "usr_s", Role: optimum.RoleManager,
		Scope: &optimum.Scope{Teams: []string{"team-7"}, Sites: []string{"site-3"}}})
	b.Run("scoped people page", func(b *testing.B) {
		for b.Loop() {
			ps, err := d.People(scoped, contacts.Filter{Limit: 100})
			if err != nil || len(ps) != 100 {
				b.Fatalf("%d %v", len(ps), err)
			}
		}
	})
}
