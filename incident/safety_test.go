package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// An earthquake alert asks "¿Estás a salvo?". Each answer acknowledges (once), is one
// event, and the tally counts each person's latest answer: Ana says safe, Luis says he
// needs help and later that he is safe; the same answer twice changes nothing.
func TestSafetyPollTalliesTheLatestAnswerOfEachPerson(t *testing.T) {
	storetest.Each(t, testSafetyPollTalliesTheLatestAnswerOfEachPerson)
}

func testSafetyPollTalliesTheLatestAnswerOfEachPerson(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	f := newFixture(t, func() time.Time { return now })
	d := power()
	d.Title, d.SafetyPoll = "Sismo de magnitud 7.1", true
	inc, _, err := f.svc.Declare(as(alice), d, "")
	if err != nil || !inc.SafetyPoll {
		t.Fatalf("declare: %v, poll %v", err, inc.SafetyPoll)
	}
	ctx := context.Background()
	steps := []struct{ person, answer string }{
		{"per_ana", incident.SafetySafe},
		{"per_luis", incident.SafetyHelpNeeded},
		{"per_luis", incident.SafetyHelpNeeded}, // a repeat: no event, no change
		{"per_luis", incident.SafetySafe},
	}
	for _, s := range steps {
		if inc, err = f.svc.AnswerSafety(ctx, inc.Folio, s.person, s.person, "sms", s.answer); err != nil {
			t.Fatalf("%s answers %s: %v", s.person, s.answer, err)
		}
	}
	if inc.Safety == nil || inc.Safety.Safe != 2 || inc.Safety.HelpNeeded != 0 || inc.AckCount != 2 {
		t.Fatalf("tally %+v, acks %d: want 2 safe, 0 help, 2 acknowledgements", inc.Safety, inc.AckCount)
	}
	var answered, acked int
	for _, e := range f.events(t) {
		switch e.Type {
		case incident.EventSafetyAnswered:
			answered++
		case incident.EventAcknowledged:
			acked++
		}
	}
	if answered != 3 || acked != 2 {
		t.Errorf("%d answer events and %d acknowledgements, want 3 and 2", answered, acked)
	}
	rs, err := f.svc.Recipients(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rs {
		got[r.PersonID] = r.Safety
	}
	if got["per_ana"] != incident.SafetySafe || got["per_luis"] != incident.SafetySafe {
		t.Errorf("recipients' answers = %v", got)
	}
}

func TestSafetyAnswersAreRefusedWithoutAPollOrWithAnUnknownAnswer(t *testing.T) {
	storetest.Each(t, testSafetyAnswersAreRefusedWithoutAPollOrWithAnUnknownAnswer)
}

func testSafetyAnswersAreRefusedWithoutAPollOrWithAnUnknownAnswer(t *testing.T) {
	f := newFixture(t, time.Now)
	plain, _, err := f.svc.Declare(as(alice), power(), "")
	if err != nil {
		t.Fatal(err)
	}
	d := power()
	d.SafetyPoll = true
	poll, _, err := f.svc.Declare(as(alice), d, "")
	if err != nil {
		t.Fatal(err)
	}
	before := len(f.events(t))
	ctx := context.Background()
	if _, err := f.svc.AnswerSafety(ctx, plain.ID, "per_ana", "Ana", "sms", incident.SafetySafe); optimum.ErrorCode(err) != optimum.ECONFLICT {
		t.Errorf("answer without a poll: %v, want conflict", err)
	}
	if _, err := f.svc.AnswerSafety(ctx, poll.ID, "per_ana", "Ana", "sms", "maybe"); optimum.ErrorCode(err) != optimum.EINVALID {
		t.Errorf("unknown answer: %v, want invalid", err)
	}
	if _, err := f.svc.AnswerSafetyAsActor(as(alice), poll.ID, "web", incident.SafetySafe); optimum.ErrorCode(err) != optimum.EFORBIDDEN {
		t.Errorf("an account without a person: %v, want forbidden", err)
	}
	if after := len(f.events(t)); after != before {
		t.Errorf("refused answers appended %d events", after-before)
	}
	if inc, _ := f.svc.Get(ctx, plain.ID); inc.AckCount != 0 {
		t.Errorf("a refused answer acknowledged")
	}
}
