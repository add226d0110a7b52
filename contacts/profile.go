package contacts

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/optimum-bcp/optimum"
)

// ChannelNames are the channels a person may put in order in "Mi perfil". email is
// sent by the email sender when one is configured (broadcast/email); a channel the
// server cannot use is skipped, never an error.
var ChannelNames = []string{"webpush", "sms", "voice", "email"}

// Profile is what people may change about themselves ("Mi perfil"). Phone and Language
// are always given; a nil Phone2 or ContactEmail and a nil ChannelOrder keep what the
// person has, "" and [] clear them.
type Profile struct {
	Phone        string   `json:"phone"`
	Language     string   `json:"language"`
	Phone2       *string  `json:"phone2,omitempty"`
	ContactEmail *string  `json:"contact_email,omitempty"`
	ChannelOrder []string `json:"channel_order,omitempty"`
}

// validate returns the problems of the self-kept contacts; in is the person as they will be.
func (pr *Profile) validate(in PersonInput) []optimum.FieldError {
	var f []optimum.FieldError
	if pr.Phone2 != nil {
		v := strings.TrimSpace(*pr.Phone2)
		pr.Phone2 = &v
		if v != "" {
			e, err := E164(v)
			switch {
			case err != nil:
				f = append(f, optimum.FieldError{Field: "phone2", Message: err.Error()})
			case in.Phone != "" && sameE164(in.Phone, e):
				f = append(f, optimum.FieldError{Field: "phone2", Message: "is the same number as the first phone"})
			default:
				pr.Phone2 = &e
			}
		}
	}
	if pr.ContactEmail != nil {
		v := strings.ToLower(strings.TrimSpace(*pr.ContactEmail))
		pr.ContactEmail = &v
		if v != "" {
			if msg := validEmail(v); msg != "" {
				f = append(f, optimum.FieldError{Field: "contact_email", Message: msg})
			}
		}
	}
	if pr.ChannelOrder != nil {
		seen := []string{}
		for i, c := range pr.ChannelOrder {
			c = strings.ToLower(strings.TrimSpace(c))
			pr.ChannelOrder[i] = c
			switch {
			case !slices.Contains(ChannelNames, c):
				f = append(f, optimum.FieldError{Field: fmt.Sprintf("channel_order[%d]", i), Message: fmt.Sprintf("%q is not a channel (webpush, sms, voice, email)", clip(c))})
			case slices.Contains(seen, c):
				f = append(f, optimum.FieldError{Field: fmt.Sprintf("channel_order[%d]", i), Message: fmt.Sprintf("%q is listed twice", c)})
			}
			seen = append(seen, c)
		}
	}
	return f
}

func sameE164(raw, e164 string) bool {
	e, err := E164(raw)
	return err == nil && e == e164
}

// apply copies the self-kept contacts onto p and returns the names of what changed. A
// new second phone must be verified again.
func (pr *Profile) apply(p *Person) []string {
	var changed []string
	if pr.Phone2 != nil && *pr.Phone2 != p.Phone2 {
		p.Phone2, p.Channels.Phone2VerifiedAt = *pr.Phone2, nil
		changed = append(changed, "phone2")
	}
	if pr.ContactEmail != nil && *pr.ContactEmail != p.ContactEmail {
		p.ContactEmail = *pr.ContactEmail
		changed = append(changed, "contact_email")
	}
	if pr.ChannelOrder != nil && !slices.Equal(pr.ChannelOrder, p.ChannelOrder) {
		p.ChannelOrder = slices.Clone(pr.ChannelOrder)
		changed = append(changed, "channel_order")
	}
	if p.ChannelOrder == nil {
		p.ChannelOrder = []string{}
	}
	return changed
}

// Preferred returns the channels the person can be alerted on now (Usable), in the order
// they chose: the ones they ordered first, then the others in the default order.
func (p Person) Preferred(verifiedOnly bool) []string {
	usable := p.Usable(verifiedOnly)
	out := make([]string, 0, len(usable))
	for _, c := range p.ChannelOrder {
		if slices.Contains(usable, c) {
			out = append(out, c)
		}
	}
	for _, c := range usable {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// onField moves the field errors of a phone conflict to another field ("phone2").
func onField(err error, field string) error {
	var e *optimum.Error
	if errors.As(err, &e) {
		c := *e
		c.Fields = slices.Clone(e.Fields)
		for i := range c.Fields {
			c.Fields[i].Field = field
		}
		return &c
	}
	return err
}
