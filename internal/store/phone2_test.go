package store_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// A reply from a person's second phone is theirs: PersonByPhone finds a person by either
// number, so an SMS "1" from the second phone acknowledges like one from the first.
func TestPersonByPhoneFindsTheSecondPhone(t *testing.T) {
	storetest.Each(t, testPersonByPhoneFindsTheSecondPhone)
}

func testPersonByPhoneFindsTheSecondPhone(t *testing.T) {
	db := storetest.Open(t)
	ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "usr_m", Name: "M", Role: optimum.RoleManager})
	dir := contacts.NewDirectory(db.Contacts(), nil)
	p, err := dir.CreatePerson(ctx, contacts.PersonInput{Name: "Ana", Email: "ana@example.com", Phone: "+525512345678", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	second := "+525511112222"
	if _, err := dir.UpdateProfile(ctx, p.ID, contacts.Profile{Phone: p.Phone, Language: "es", Phone2: &second}); err != nil {
		t.Fatal(err)
	}
	for _, phone := range []string{"+525512345678", second} {
		got, err := db.Escalation().PersonByPhone(context.Background(), phone)
		if err != nil || got.PersonID != p.ID {
			t.Errorf("PersonByPhone(%s) = %+v, %v; want Ana", phone, got, err)
		}
	}
	if _, err := db.Escalation().PersonByPhone(context.Background(), "+525599998888"); optimum.ErrorCode(err) != optimum.ENOTFOUND {
		t.Errorf("an unknown phone: %v", err)
	}
}

// Alerts by email go to the address the person chose in "Mi perfil", else to the
// directory's: the escalation's contacts carry it.
func TestAlertEmailIsTheOneThePersonChose(t *testing.T) {
	storetest.Each(t, testAlertEmailIsTheOneThePersonChose)
}

func testAlertEmailIsTheOneThePersonChose(t *testing.T) {
	db := storetest.Open(t)
	ctx := optimum.WithActor(context.Background(), optimum.Actor{ID: "usr_m", Name: "M", Role: optimum.RoleManager})
	dir := contacts.NewDirectory(db.Contacts(), nil)
	ana, err := dir.CreatePerson(ctx, contacts.PersonInput{Name: "Ana", Email: "ana@example.com", Language: "es"})
	if err != nil {
		t.Fatal(err)
	}
	emailOf := func() string {
		t.Helper()
		var got string
		err := db.Escalation().Work(context.Background(), func(tx escalation.Tx) error {
			cs, err := tx.Resolve(context.Background(), escalation.Target{Person: ana.ID}, nil)
			if err == nil && len(cs) == 1 {
				got = cs[0].Email
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := emailOf(); got != "ana@example.com" {
		t.Errorf("without a contact email: %q", got)
	}
	home := "ana.casa@example.com"
	if _, err := dir.UpdateProfile(ctx, ana.ID, contacts.Profile{Language: "es", ContactEmail: &home}); err != nil {
		t.Fatal(err)
	}
	if got := emailOf(); got != home {
		t.Errorf("with a contact email: %q, want %q", got, home)
	}
}
