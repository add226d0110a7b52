package contacts

import (
	"context"
	"fmt"

	"github.com/optimum-bcp/optimum"
)

// A phone number is how an SMS reply or a key pressed in a call is matched to a person,
// so an E.164 number belongs to at most one active person: otherwise whoever sets
// another person's number to theirs answers for them. The directory refuses a change
// that would share a number (ECONFLICT on the field "phone"). Numbers shared before
// this rule existed are not removed: they are listed as SharedPhones (readiness, /readyz)
// and replies from them are refused until a manager fixes the directory.

// SharedPhone is a phone number that more than one active person has.
type SharedPhone struct {
	Phone  string      `json:"phone"`
	People []PersonRef `json:"people"`
}

// SharedPhones lists the phone numbers held by more than one active person, oldest
// holder first.
func (s *Directory) SharedPhones(ctx context.Context) ([]SharedPhone, error) {
	return s.store.SharedPhones(ctx)
}

// phoneTaken returns another active person (not self) whose phone is phone.
func (x *index) phoneTaken(phone, self string) (Person, bool) {
	for _, p := range x.byPhone[phone] {
		if p.ID != self && p.Active {
			return p, true
		}
	}
	return Person{}, false
}

// phoneConflict is the refusal of a phone that other belongs to. Only managers and
// admins are told whose it is: anyone else could use it to learn who has a number.
func phoneConflict(actor optimum.Actor, other Person) error {
	if actor.Role.AtLeast(optimum.RoleManager) {
		return &optimum.Error{Code: optimum.ECONFLICT, Message: "The phone number is another person's.", Fields: []optimum.FieldError{
			{Field: "phone", Message: fmt.Sprintf("already belongs to %s, who is active", other.Name)}}}
	}
	return &optimum.Error{Code: optimum.ECONFLICT, Message: "The phone number is another person's.", Fields: []optimum.FieldError{
		{Field: "phone", Message: "already belongs to another active person"}}}
}

// claimsPhone reports whether a person that was before (zero for a new one) and is
// after the change creates a shared number: they are active with a phone that they did
// not already hold while active. A number shared before the rule is kept while unchanged.
func claimsPhone(before Person, isNew bool, after Person) bool {
	if after.Phone == "" || !after.Active {
		return false
	}
	return isNew || before.Phone != after.Phone || !before.Active
}
