package incident

import (
	"context"
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
	return s.answerSafety(ctx, idOrFolio, actor, channel, answer)
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
	return s.answerSafety(ctx, idOrFolio, actor, channel, answer)
}

func (s *Service) answerSafety(ctx context.Context, idOrFolio string, actor optimum.Actor, channel, answer string) (Incident, error) {
	if answer != SafetySafe && answer != SafetyHelpNeeded {
		return Incident{}, optimum.Invalid("The answer has errors.", []optimum.FieldError{{Field: "safety", Message: "The answer must be safe or help_needed."}})
	}
	if channel == "" {
		channel = "web"
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	return s.locked(ctx, idOrFolio, func(tx Tx, inc *Incident) error {
		if !inc.SafetyPoll {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s does not ask whether people are safe; acknowledge it instead.", inc.Folio)
		}
		if _, err := acknowledgeTx(ctx, tx, inc, actor, channel, now); err != nil {
			return err
		}
		prev, err := tx.SetSafety(ctx, inc.ID, SafetyAnswer{PersonID: actor.PersonID, Answer: answer, Channel: channel, At: now})
		if err != nil {
			return err
		}
		if prev == answer {
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
		return appendEvent(ctx, tx, EventSafetyAnswered, now, actor, *inc, map[string]any{
			"person_id": actor.PersonID, "name": actor.Name, "channel": channel, "answer": answer, "previous": prev,
		})
	})
}
