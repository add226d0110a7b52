package contacts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Phone verification: a six-digit code sent by SMS proves the phone reaches the person.
const (
	CodeTTL         = 10 * time.Minute
	maxCodeAttempts = 5
)

// VerificationStore keeps pending phone verifications.
type VerificationStore interface {
	SavePhoneCode(ctx context.Context, personID, phone, codeHash string, expires time.Time) error
	// PhoneCode returns the pending code of a person and counts one attempt.
	PhoneCode(ctx context.Context, personID string) (phone, codeHash string, expires time.Time, attempts int, err error)
	// PhoneVerified marks the phone verified (if it is still the person's) and forgets the code.
	PhoneVerified(ctx context.Context, personID, phone string, at time.Time, e optimum.Event) error
}

// StartPhoneVerification creates a code for the person's phone (or, with which
// "phone2", their second phone) and returns it with the phone and language to send it
// to. A new code replaces any pending one.
func (s *Directory) StartPhoneVerification(ctx context.Context, vs VerificationStore, personID string, which ...string) (code, phone, lang string, err error) {
	p, err := s.store.Person(ctx, personID)
	if err != nil {
		return "", "", "", err
	}
	if len(which) > 0 && which[0] == "phone2" {
		p.Phone = p.Phone2
	}
	if p.Phone == "" {
		return "", "", "", optimum.Errorf(optimum.ECONFLICT, "There is no phone to verify; add one first.")
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
	code = fmt.Sprintf("%06d", n.Int64())
	if err := vs.SavePhoneCode(ctx, p.ID, p.Phone, hashCode(p.ID, code), s.now().Add(CodeTTL)); err != nil {
		return "", "", "", err
	}
	return code, p.Phone, p.Language, nil
}

// ConfirmPhone checks a code; right, it marks the phone verified. Five wrong tries or
// ten minutes end the code.
func (s *Directory) ConfirmPhone(ctx context.Context, vs VerificationStore, personID, code string) error {
	phone, hash, expires, attempts, err := vs.PhoneCode(ctx, personID)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return optimum.Errorf(optimum.ECONFLICT, "There is no code pending; ask for a new one.")
	} else if err != nil {
		return err
	}
	switch {
	case !s.now().Before(expires):
		return optimum.Errorf(optimum.ECONFLICT, "The code has expired; ask for a new one.")
	case attempts > maxCodeAttempts:
		return optimum.Errorf(optimum.ECONFLICT, "Too many wrong codes; ask for a new one.")
	case subtle.ConstantTimeCompare([]byte(hash), []byte(hashCode(personID, code))) != 1:
		return optimum.Invalid("The code is wrong.", []optimum.FieldError{{Field: "code", Message: "is not the code we sent"}})
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	actor := actorOf(ctx)
	data := []byte(fmt.Sprintf(`{"id":%q,"changed":["phone_verified"]}`, personID))
	return vs.PhoneVerified(ctx, personID, phone, now, optimum.Event{Type: EventPersonUpdated, At: now, Actor: &actor, Data: data})
}

func hashCode(personID, code string) string {
	sum := sha256.Sum256([]byte(personID + ":" + code))
	return hex.EncodeToString(sum[:])
}
