package incident

import (
	"context"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// A safety poll asks each recipient "¿Estás a salvo?" with two answers. Answering
// acknowledges the alert too: the person has seen it. A person may change their answer
// (safe, then trapped): the latest one counts, and every answer is on the timeline.
const (
	SafetySafe       = "safe"
	SafetyHelpNeeded = "help_needed"

	// EventSafetyAnswered records one person's answer to an incident's safety poll.
	EventSafetyAnswered = "incident.safety_answered"
)

// SafetyTally counts the latest answer of each person who answered.
type SafetyTally struct {
	Safe       int `json:"safe"`
	HelpNeeded int `json:"help_needed"`
}

// SafetyAnswer is one person's latest answer.
type SafetyAnswer struct {
	PersonID string
	Answer   string
	Channel  string
	At       time.Time
}

// AnswerSafety records a directory person's answer to the incident's safety poll, from
// a channel ("sms", "voice", "link", "webpush", "web"), and acknowledges the alert for
// them if they had not yet. Answering an incident without a poll, or with another
// answer than safe / help_needed, is refused and changes nothing.
func (s *Service) AnswerSafety(ctx context.Context, idOrFolio, personID, name, channel, answer string) (Incident, error) {
	actor := optimum.Actor{ID: personID, Name: name, PersonID: personID}
	return s.answerSafety(ctx, idOrFolio, actor, actor, channel, answer, "")
}

// AnswerSafetyByLink records the answer given through a one-tap link (channel "link",
// or "webpush" from a notification's button). Whoever holds a link can use it, so a link
// may say "I need help" but never take it back: once the person needs help, only they,
// signed in, or a responder can change the answer (ECONFLICT).
func (s *Service) AnswerSafetyByLink(ctx context.Context, token, channel, answer string) (Incident, AckLink, error) {
	_, l, err := s.Link(ctx, token)
	if err != nil {
		return Incident{}, l, err
	}
	actor := optimum.Actor{ID: l.PersonID, Name: l.Name, PersonID: l.PersonID}
	inc, err := s.answerSafetyGuarded(ctx, l.IncidentID, actor, actor, channel, answer, "", true)
	return inc, l, err
}

// AnswerSafetyAsActor records the signed-in actor's answer (the web app).
func (s *Service) AnswerSafetyAsActor(ctx context.Context, idOrFolio, channel, answer string) (Incident, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Incident{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to acknowledge.")
	}
	if actor.PersonID == "" {
		return Incident{}, optimum.Errorf(optimum.EFORBIDDEN, "Only a person of the directory can answer a safety poll; your account is not linked to one.")
	}
	return s.answerSafety(ctx, idOrFolio, actor, actor, channel, answer, "")
}

// SetSafetyFor records, as the signed-in responder, a person's answer they heard by
// other means (a call, in person): "Ana is safe now". The note says how they know and is
// on the timeline with the responder's name. It does not acknowledge for the person.
func (s *Service) SetSafetyFor(ctx context.Context, idOrFolio, personID, answer, note string) (Incident, error) {
	actor, ok := optimum.ActorFrom(ctx)
	if !ok {
		return Incident{}, optimum.Errorf(optimum.EUNAUTHORIZED, "Sign in to acknowledge.")
	}
	if !actor.Role.AtLeast(optimum.RoleResponder) {
		return Incident{}, optimum.Errorf(optimum.EFORBIDDEN, "Only a responder can record another person's answer.")
	}
	note = strings.TrimSpace(note)
	if err := checkNote(note, "say how you know the person's answer"); err != nil {
		return Incident{}, err
	}
	inc, err := s.store.Incident(ctx, idOrFolio)
	if err != nil {
		return Incident{}, err
	}
	rs, err := s.store.Recipients(ctx, inc.ID)
	if err != nil {
		return Incident{}, err
	}
	var person optimum.Actor
	for _, r := range rs {
		if r.PersonID == personID {
			person = optimum.Actor{ID: r.PersonID, Name: r.Name, PersonID: r.PersonID}
		}
	}
	if person.PersonID == "" {
		return Incident{}, optimum.Invalid("The answer has errors.", []optimum.FieldError{{Field: "person_id", Message: "is not among the people this incident was sent to"}})
	}
	return s.answerSafety(ctx, inc.ID, actor, person, "web", answer, note)
}

func (s *Service) answerSafety(ctx context.Context, idOrFolio string, actor, person optimum.Actor, channel, answer, note string) (Incident, error) {
	return s.answerSafetyGuarded(ctx, idOrFolio, actor, person, channel, answer, note, false)
}

// answerSafetyGuarded records person's answer, given by actor (the person, or a
// responder for them). keepHelp refuses to take back a "help needed" (a link's answer).
func (s *Service) answerSafetyGuarded(ctx context.Context, idOrFolio string, actor, person optimum.Actor, channel, answer, note string, keepHelp bool) (Incident, error) {
	if answer != SafetySafe && answer != SafetyHelpNeeded {
		return Incident{}, optimum.Invalid("The answer has errors.", []optimum.FieldError{{Field: "safety", Message: "The answer must be safe or help_needed."}})
	}
	if channel == "" {
		channel = "web"
	}
	byResponder := actor.ID != person.ID
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.locked(ctx, idOrFolio, func(tx Tx, inc *Incident) error {
		if !inc.SafetyPoll {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s does not ask whether people are safe; acknowledge it instead.", inc.Folio)
		}
		if byResponder {
			if inc.Status == StatusCancelled || inc.Status == StatusClosed {
				return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be acknowledged.", inc.Folio, inc.Status)
			}
		} else if _, err := acknowledgeTx(ctx, tx, inc, actor, channel, now); err != nil {
			return err
		}
		prev, err := tx.SetSafety(ctx, inc.ID, SafetyAnswer{PersonID: person.PersonID, Answer: answer, Channel: channel, At: now})
		if err != nil {
			return err
		}
		if keepHelp && prev == SafetyHelpNeeded && answer != SafetyHelpNeeded {
			// The transaction is rolled back: nothing changes.
			return optimum.Errorf(optimum.ECONFLICT, "You told us you need help; a link cannot change that. Sign in to the app, or tell the continuity team.")
		}
		if prev == answer && !byResponder {
			return nil // the same answer again: nothing new to tell
		}
		if inc.Safety == nil {
			inc.Safety = &SafetyTally{}
		}
		count := func(a string, d int) {
			switch a {
			case SafetySafe:
				inc.Safety.Safe += d
			case SafetyHelpNeeded:
				inc.Safety.HelpNeeded += d
			}
		}
		count(prev, -1)
		count(answer, +1)
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		data := map[string]any{"person_id": person.PersonID, "name": person.Name, "channel": channel, "answer": answer, "previous": prev}
		if byResponder {
			data["note"] = note
		}
		return appendEvent(ctx, tx, EventSafetyAnswered, now, actor, *inc, data)
	})
}
