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

const (
	anaPhone = "+525512345678"
	bobPhone = "+34612345678"
)

func add(t *testing.T, d *contacts.Directory, name, email, phone string) contacts.Person {
	t.Helper()
	p, err := d.CreatePerson(manager, contacts.PersonInput{Name: name, Email: email, Phone: phone, Language: "es"})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return p
}

// phoneRefused checks that err is a 409 on the field "phone", naming the holder only
// when told to.
func phoneRefused(t *testing.T, err error, holder string, named bool) {
	t.Helper()
	if optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Fatalf("err = %v, want a conflict", err)
	}
	f := optimum.ErrorFields(err)
	if len(f) != 1 || f[0].Field != "phone" {
		t.Fatalf("fields = %+v, want one on phone", f)
	}
	if strings.Contains(f[0].Message, holder) != named {
		t.Errorf("message %q names %s: %v, want %v", f[0].Message, holder, !named, named)
	}
}

// A phone number belongs to one active person: taking another's number is refused,
// through the profile (without saying whose it is), by a manager (who is told), and by
// bringing back someone whose number was given away meanwhile. Nothing changes.
func TestPhoneBelongsToOneActivePerson(t *testing.T) {
	storetest.Each(t, testPhoneBelongsToOneActivePerson)
}

func testPhoneBelongsToOneActivePerson(t *testing.T) {
	ctx := context.Background()
	d, db := newDirectory(t)
	ana := add(t, d, "Ana Victim", "ana@example.com", anaPhone)
	bob := add(t, d, "Bob Other", "bob@example.com", bobPhone)
	before := len(events(t, db))

	// Bob, a responder, writes Ana's number (in another spelling) in "Mi perfil".
	responder := optimum.WithActor(ctx, optimum.Actor{ID: "usr_b", Name: "Bob", Role: optimum.RoleResponder, PersonID: bob.ID})
	_, err := d.UpdateProfile(responder, bob.ID, contacts.Profile{Phone: "+52 55 1234 5678", Language: "es"})
	phoneRefused(t, err, "Ana", false)

	// A manager creating or editing someone with Ana's number is told whose it is.
	_, err = d.CreatePerson(manager, contacts.PersonInput{Name: "Cy", Email: "cy@example.com", Phone: anaPhone, Language: "es"})
	phoneRefused(t, err, "Ana Victim", true)
	_, err = d.UpdatePerson(manager, bob.ID, contacts.PersonInput{Name: bob.Name, Email: bob.Email, Phone: anaPhone, Language: "es"})
	phoneRefused(t, err, "Ana Victim", true)

	if got, _ := d.Person(ctx, bob.ID); got.Phone != bobPhone {
		t.Errorf("bob's phone = %q, want %q", got.Phone, bobPhone)
	}
	if after := len(events(t, db)); after != before {
		t.Errorf("refusals appended %d events", after-before)
	}

	// Keeping one's own number while changing something else is fine.
	if _, err := d.UpdateProfile(responder, bob.ID, contacts.Profile{Phone: bobPhone, Language: "en"}); err != nil {
		t.Errorf("own number: %v", err)
	}
	// An inactive person's number is free; bringing them back while someone has it is not.
	if _, err := d.SetActive(manager, ana.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UpdateProfile(responder, bob.ID, contacts.Profile{Phone: anaPhone, Language: "es"}); err != nil {
		t.Fatalf("number of an inactive person: %v", err)
	}
	_, err = d.SetActive(manager, ana.ID, true)
	phoneRefused(t, err, "Bob Other", true)
	if got, _ := d.Person(ctx, ana.ID); got.Active {
		t.Error("ana was reactivated with a number that is now bob's")
	}
}

// An import is all or nothing about numbers too: a row taking an active person's
// number, or two rows with one number, fail by line and field (409 when that is all
// that is wrong) and nothing is imported.
func TestImportRefusesSharedPhones(t *testing.T) { storetest.Each(t, testImportRefusesSharedPhones) }

func testImportRefusesSharedPhones(t *testing.T) {
	ctx := context.Background()
	d, db := newDirectory(t)
	add(t, d, "Ana Victim", "ana@example.com", anaPhone)
	before := len(events(t, db))
	h := "name,email,phone,language,teams,manager_email\n"
	csv := h +
		"Fine,fine@example.com,+525511112222,es,technology,\n" + // line 2
		"Thief,thief@example.com,+52 55 1234 5678,es,technology,\n" + // line 3: Ana's
		"Twin A,twa@example.com,+34611111111,es,,\n" + // line 4 and 5: one number
		"Twin B,twb@example.com,+34611111111,es,,\n"
	rep, err := importCSV(t, d, csv)
	if optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Fatalf("err = %v, want a conflict", err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%d:%s", e.Line, e.Field))
	}
	if want := []string{"3:phone", "4:phone", "5:phone"}; !slices.Equal(got, want) {
		t.Errorf("errors = %v, want %v", got, want)
	}
	people, _ := d.People(ctx, contacts.Filter{})
	if len(people) != 1 || len(events(t, db)) != before {
		t.Errorf("something was imported: %d people", len(people))
	}
	// With another kind of error too, the file is invalid (422), and still lists the phone.
	rep, err = importCSV(t, d, h+"Thief,thief@example.com,+525512345678,es,,\nFrench,fr@example.com,,fr,,\n")
	if optimum.ErrorCode(err) != optimum.EINVALID || rep.ErrorCount != 2 {
		t.Errorf("mixed errors: %v %+v", err, rep.Errors)
	}
	// A row that deactivates the holder frees the number for another row of the file.
	csv = "name,email,phone,language,teams,manager_email,active\n" +
		"Ana Victim,ana@example.com,+525512345678,es,,,false\n" +
		"Heir,heir@example.com,+525512345678,es,,,\n"
	if rep, err := importCSV(t, d, csv); err != nil {
		t.Errorf("handing a number over: %v %+v", err, rep.Errors)
	}
}

// Numbers shared before the rule existed do not stop anything: they are listed by the
// readiness report, their holders can still be edited, and re-importing them unchanged
// works; only a new claim on them is refused.
func TestSharedPhonesFromBeforeAreListed(t *testing.T) {
	storetest.Each(t, testSharedPhonesFromBeforeAreListed)
}

func testSharedPhonesFromBeforeAreListed(t *testing.T) {
	ctx := context.Background()
	d, db := newDirectory(t)
	ana := add(t, d, "Ana Victim", "ana@example.com", anaPhone)
	bob := add(t, d, "Bob Other", "bob@example.com", "")
	add(t, d, "Cy Gone", "cy@example.com", "")
	// Rows as an older version wrote them: Bob and (inactive) Cy share Ana's number.
	storetest.Exec(t, db, "UPDATE people SET phone = $1 WHERE email IN ($2, $3)", anaPhone, "bob@example.com", "cy@example.com")
	storetest.Exec(t, db, "UPDATE people SET active = 0 WHERE email = $1", "cy@example.com")

	shared, err := d.SharedPhones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	holders := func(s contacts.SharedPhone) []string {
		var ids []string
		for _, p := range s.People {
			ids = append(ids, p.ID)
		}
		slices.Sort(ids)
		return ids
	}
	want := []string{ana.ID, bob.ID}
	slices.Sort(want)
	if len(shared) != 1 || shared[0].Phone != anaPhone || !slices.Equal(holders(shared[0]), want) {
		t.Fatalf("shared = %+v, want ana's number held by ana and bob", shared)
	}
	r, err := d.Readiness(ctx, nil)
	if err != nil || len(r.SharedPhones) != 1 || r.SharedPhones[0].Phone != anaPhone {
		t.Errorf("readiness = %+v %v", r.SharedPhones, err)
	}
	if _, err := d.UpdatePerson(manager, bob.ID, contacts.PersonInput{Name: "Bob Renamed", Email: bob.Email, Phone: anaPhone, Language: "es"}); err != nil {
		t.Errorf("editing a holder without touching the number: %v", err)
	}
	h := "name,email,phone,language,teams,manager_email\n"
	if rep, err := importCSV(t, d, h+"Ana Victim,ana@example.com,+525512345678,es,,\nBob Renamed,bob@example.com,+525512345678,es,,\n"); err != nil {
		t.Errorf("re-import unchanged: %v %+v", err, rep.Errors)
	}
	_, err = d.SetActive(manager, add(t, d, "Dee", "dee@example.com", "").ID, true)
	if err != nil {
		t.Errorf("activating an active person: %v", err)
	}
	_, err = d.CreatePerson(manager, contacts.PersonInput{Name: "Eve", Email: "eve@example.com", Phone: anaPhone, Language: "es"})
	phoneRefused(t, err, "Ana Victim", true)
	// Fixed by a manager: the list empties.
	if _, err := d.UpdatePerson(manager, bob.ID, contacts.PersonInput{Name: "Bob Renamed", Email: bob.Email, Phone: bobPhone, Language: "es"}); err != nil {
		t.Fatal(err)
	}
	if shared, _ := d.SharedPhones(ctx); len(shared) != 0 {
		t.Errorf("after the fix shared = %+v", shared)
	}
}
