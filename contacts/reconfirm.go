package contacts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Reconfirming phones: a readiness action asks everyone whose phone is unverified, or
// was verified longer ago than some months, to confirm it is still theirs by tapping a
// link sent to it by SMS (receiving the SMS proves the number reaches them). The links
// are stored, with the event that records the request, before any SMS goes out, so a
// request that dies half way loses nothing: whoever was not reached is still
// unverified, and the next request asks them again.

// Event types of reconfirmation.
const (
	EventReconfirmRequested = "directory.reconfirm_requested"
	EventPhoneReconfirmed   = "person.phone_reconfirmed"
)

// ConfirmLinkTTL is how long a reconfirmation link works.
const ConfirmLinkTTL = 7 * 24 * time.Hour

// ConfirmLink is a stored reconfirmation link (its token is only ever sent by SMS).
type ConfirmLink struct {
	Hash      string
	PersonID  string
	Name      string
	Language  string
	Phone     string
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// ReconfirmStore keeps reconfirmation links.
type ReconfirmStore interface {
	// SaveConfirmLinks stores the links and appends e, in one transaction.
	SaveConfirmLinks(ctx context.Context, links []ConfirmLink, at time.Time, e optimum.Event) error
	// ConfirmLinkSent notes that the SMS of a link was accepted by the provider.
	ConfirmLinkSent(ctx context.Context, hash string, at time.Time) error
	// ConfirmLink returns the link with the hash (with the person's name and language);
	// ENOTFOUND when there is none.
	ConfirmLink(ctx context.Context, hash string) (ConfirmLink, error)
	// UseConfirmLink marks the link used and the phone verified, if the phone is still
	// the person's, and appends e; ECONFLICT when the link was used or the phone changed.
	UseConfirmLink(ctx context.Context, hash string, at time.Time, e optimum.Event) error
}

// Reconfirmation is one person to ask, with the token of their link.
type Reconfirmation struct {
	PersonID string
	Name     string
	Language string
	Phone    string
	Token    string
}

// StalePhones returns the active people (in the actor's scope) with a phone that is
// unverified or was verified before now minus months months.
func (s *Directory) StalePhones(ctx context.Context, months int) ([]Person, error) {
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	cutoff := s.now().AddDate(0, -months, 0)
	sc := scopeOf(ctx)
	out := []Person{}
	for _, p := range snap.People {
		if !p.Active || p.Phone == "" || !InScope(p, sc) || p.Channels.SMSOptedOutAt != nil {
			continue
		}
		if v := p.Channels.PhoneVerifiedAt; v == nil || v.Before(cutoff) {
			out = append(out, p)
		}
	}
	return out, nil
}

// RequestReconfirmation stores a link for each person with a stale phone (StalePhones)
// and returns them, with their tokens, for the caller to send.
func (s *Directory) RequestReconfirmation(ctx context.Context, rs ReconfirmStore, months int) ([]Reconfirmation, error) {
	if months < 0 || months > 120 {
		return nil, optimum.Invalid("The request has errors.", []optimum.FieldError{{Field: "older_than_months", Message: "must be from 0 to 120"}})
	}
	stale, err := s.StalePhones(ctx, months)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	out := make([]Reconfirmation, 0, len(stale))
	links := make([]ConfirmLink, 0, len(stale))
	for _, p := range stale {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		token := base64.RawURLEncoding.EncodeToString(b)
		links = append(links, ConfirmLink{Hash: HashToken(token), PersonID: p.ID, Phone: p.Phone, ExpiresAt: now.Add(ConfirmLinkTTL)})
		out = append(out, Reconfirmation{PersonID: p.ID, Name: p.Name, Language: p.Language, Phone: p.Phone, Token: token})
	}
	if len(out) == 0 {
		return out, nil
	}
	actor := actorOf(ctx)
	data, _ := json.Marshal(map[string]any{"people": len(out), "older_than_months": months})
	if err := rs.SaveConfirmLinks(ctx, links, now, optimum.Event{Type: EventReconfirmRequested, At: now, Actor: &actor, Data: data}); err != nil {
		return nil, err
	}
	return out, nil
}

// ConfirmByLink marks the phone of a link's person verified: they received the SMS.
func (s *Directory) ConfirmByLink(ctx context.Context, rs ReconfirmStore, token string) (ConfirmLink, error) {
	l, err := s.ConfirmLinkOf(ctx, rs, token)
	if err != nil {
		return l, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	actor := optimum.Actor{ID: l.PersonID, Name: l.Name, Role: optimum.RoleReporter, PersonID: l.PersonID}
	data, _ := json.Marshal(map[string]any{"id": l.PersonID, "changed": []string{"phone_verified"}, "via": "link"})
	return l, rs.UseConfirmLink(ctx, l.Hash, now, optimum.Event{Type: EventPhoneReconfirmed, At: now, Actor: &actor, Data: data})
}

// ConfirmLinkOf returns a live (unused, unexpired) link; ENOTFOUND otherwise.
func (s *Directory) ConfirmLinkOf(ctx context.Context, rs ReconfirmStore, token string) (ConfirmLink, error) {
	if token == "" || len(token) > 100 {
		return ConfirmLink{}, optimum.Errorf(optimum.ENOTFOUND, "This link is unknown, already used or expired.")
	}
	l, err := rs.ConfirmLink(ctx, HashToken(token))
	if err != nil {
		return l, err
	}
	if l.UsedAt != nil || !s.now().Before(l.ExpiresAt) {
		return l, optimum.Errorf(optimum.ENOTFOUND, "This link is unknown, already used or expired.")
	}
	return l, nil
}

// HashToken is how a link's token is stored: hex SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
