package store_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
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
