package contacts_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/store"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A large audience is declared by its plan, and its people are found by the database
// batch by batch (issue 16.4): the plan names exactly whom Resolve names, written out by
// hand below: active people only; a team (only its leads when roles say so); a site or
// every site of a city, primary or not; people by id or email; all adding up.
func TestAPlanNamesWhomResolveNames(t *testing.T) { storetest.Each(t, testAPlanNamesWhomResolveNames) }

func testAPlanNamesWhomResolveNames(t *testing.T) {
	d, db := newDirectory(t)
	ctx := context.Background()
	withSites(t, d)
	if rep, err := importCSV(t, d, "name,email,phone,language,teams,manager_email,sites\n"+
		"Ana Norte,ana@example.com,+525511110001,es,technology:lead,,torre norte\n"+
		"Beto Sur,beto@example.com,+525511110002,es,operations;technology:backup,,Torre Sur;madrid\n"+
		"Carmen Madrid,carmen@example.com,,en,technology,,Oficina Madrid\n"+
		"Dani Sin Sitio,dani@example.com,,es,directors,,\n"+
		"Eli Inactiva,eli@example.com,,es,technology:lead,,torre norte\n"); err != nil {
		t.Fatalf("import: %v %+v", err, rep.Errors)
	}
	eli, err := d.Person(ctx, "eli@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetActive(manager, eli.ID, false); err != nil {
		t.Fatal(err)
	}
	dani, err := d.Person(ctx, "dani@example.com")
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := any(db.Contacts()).(contacts.PlanStore)
	if !ok {
		t.Fatal("the store does not find a plan's people")
	}
	for _, c := range []struct {
		name string
		a    contacts.Audience
		want []string // by name
	}{
		{"a team", contacts.Audience{Teams: []string{"technology"}}, []string{"Ana Norte", "Beto Sur", "Carmen Madrid"}},
		{"a team by its Spanish name", contacts.Audience{Teams: []string{"Tecnología"}}, []string{"Ana Norte", "Beto Sur", "Carmen Madrid"}},
		{"a team's leads", contacts.Audience{Teams: []string{"technology"}, Roles: []string{"lead"}}, []string{"Ana Norte"}},
		{"leads and backups", contacts.Audience{Teams: []string{"technology", "operations"}, Roles: []string{"lead", "backup"}}, []string{"Ana Norte", "Beto Sur"}},
		{"a site", contacts.Audience{Sites: []string{"Torre Norte"}}, []string{"Ana Norte"}},
		{"a city", contacts.Audience{Sites: []string{"CDMX"}}, []string{"Ana Norte", "Beto Sur"}},
		{"a secondary site", contacts.Audience{Sites: []string{"madrid"}}, []string{"Beto Sur", "Carmen Madrid"}},
		{"people by email and id", contacts.Audience{People: []string{"CARMEN@example.com", dani.ID}}, []string{"Carmen Madrid", "Dani Sin Sitio"}},
		{"an inactive person named is left out", contacts.Audience{People: []string{"eli@example.com"}}, nil},
		{"all add up, once each", contacts.Audience{Teams: []string{"directors"}, Sites: []string{"CDMX"}, People: []string{"ana@example.com"}}, []string{"Ana Norte", "Beto Sur", "Dani Sin Sitio"}},
	} {
		rs, err := d.Resolve(ctx, c.a)
		if err != nil {
			t.Fatalf("%s: resolve: %v", c.name, err)
		}
		var resolved []string
		for _, r := range rs {
			resolved = append(resolved, r.Name)
		}
		plan, n, ok, err := d.Plan(ctx, c.a)
		if err != nil || !ok {
			t.Fatalf("%s: plan: %v, %v", c.name, ok, err)
		}
		// Two at a time, as batches go.
		var planned []string
		for after := ""; ; {
			people, err := ps.AudiencePeople(ctx, plan, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range people {
				planned = append(planned, p.Name)
				after = p.ID
			}
			if len(people) < 2 {
				break
			}
		}
		slices.Sort(planned)
		// The rule in Go, for stores that cannot say it in SQL.
		snap, err := d.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var included []string
		for _, p := range snap.People {
			if plan.Includes(p) {
				included = append(included, p.Name)
			}
		}
		slices.Sort(included)
		if !slices.Equal(resolved, c.want) || !slices.Equal(planned, c.want) || !slices.Equal(included, c.want) || n != len(c.want) {
			t.Errorf("%s: resolved %v, planned %v, included %v, counted %d; want %v", c.name, resolved, planned, included, n, c.want)
		}
	}
	// Unknown references: the same errors as Resolve's, field by field.
	bad := contacts.Audience{Teams: []string{"legal"}, Sites: []string{"Guadalajara"}, People: []string{"nadie@example.com"}}
	_, rerr := d.Resolve(ctx, bad)
	_, _, _, perr := d.Plan(ctx, bad)
	var fields []string
	for _, f := range optimum.ErrorFields(perr) {
		fields = append(fields, f.Field)
	}
	if want := []string{"teams[0]", "sites[0]", "people[0]"}; !slices.Equal(fields, want) || optimum.ErrorMessage(rerr) != optimum.ErrorMessage(perr) {
		t.Errorf("plan errors on %v (%v), want %v as Resolve's (%v)", fields, perr, want, rerr)
	}
}

// noSnapshot is the store, except that reading the whole directory fails the test.
type noSnapshot struct {
	*store.Contacts
	t *testing.T
}

func (s noSnapshot) Snapshot(context.Context) (contacts.Snapshot, error) {
	s.t.Error("the whole directory was read")
	return s.Contacts.Snapshot(context.Background())
}

// A declaration to a team of three during an alert to 100,000 people read the whole
// directory to find the three, and took seconds (issue 16.4): an audience is resolved
// from its own people.
func TestResolvingAnAudienceReadsOnlyItsPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		d, db := newDirectory(t)
		ctx := context.Background()
		if rep, err := importCSV(t, d, "name,email,phone,language,teams,manager_email\n"+
			"Zoe Guardia,zoe@example.com,+525511110001,es,operations,\n"+
			"Ana Guardia,ana@example.com,+525511110002,es,operations,\n"+
			"Beto Otro,beto@example.com,+525511110003,es,technology,\n"); err != nil {
			t.Fatalf("import: %v %+v", err, rep.Errors)
		}
		lean := contacts.NewDirectory(noSnapshot{Contacts: db.Contacts(), t: t}, nil)
		rs, err := lean.Resolve(ctx, contacts.Audience{Teams: []string{"operations"}, People: []string{"beto@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rs {
			names = append(names, r.Name+" "+strings.Join(r.Channels, "+"))
		}
		if want := []string{"Ana Guardia sms+voice", "Beto Otro sms+voice", "Zoe Guardia sms+voice"}; !slices.Equal(names, want) {
			t.Errorf("resolved %v, want %v (by name)", names, want)
		}
		if _, err := lean.Resolve(ctx, contacts.Audience{Teams: []string{"legal"}}); optimum.ErrorCode(err) != optimum.EINVALID {
			t.Errorf("an unknown team: %v, want EINVALID", err)
		}
	})
}
