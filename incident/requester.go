package incident

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
)

// Message is something the requester (the person who declared) was told: the folio, a
// question from the responders, the solution with a conformity link. It is kept, shown to
// the requester in the web app and put on the timeline.
type Message struct {
	ID         string    `json:"id"`
	IncidentID string    `json:"incident_id"`
	Kind       string    `json:"kind"` // folio, question, conformity
	To         Person    `json:"to"`
	Language   string    `json:"language"`
	Text       string    `json:"text"`
	URL        string    `json:"url,omitempty"`
	At         time.Time `json:"at"`
}

// Message kinds.
const (
	MessageFolio      = "folio"
	MessageQuestion   = "question"
	MessageConformity = "conformity"
)

// messageTexts are the messages to requesters, per language and kind. They say "tú",
// like every message people receive from the system.
var messageTexts = map[string]map[string]string{
	"es": {
		MessageFolio:      "%sRecibimos tu reporte «%s». Tu folio es %s; úsalo para cualquier seguimiento.",
		MessageQuestion:   "%sSobre tu reporte %s, el equipo de respuesta pregunta: %s",
		MessageConformity: "%sTu reporte %s quedó resuelto: %s. ¿Estás conforme con la solución? Responde aquí: %s",
		"drill":           "SIMULACRO. ",
	},
	"en": {
		MessageFolio:      "%sWe received your report “%s”. Your reference is %s; use it for any follow-up.",
		MessageQuestion:   "%sAbout your report %s, the response team asks: %s",
		MessageConformity: "%sYour report %s was resolved: %s. Are you satisfied with the solution? Answer here: %s",
		"drill":           "DRILL. ",
	},
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "es"
}

// tell records a message to the requester, with its event, inside tx.
func (d *Desk) tell(ctx context.Context, tx DeskTx, inc Incident, kind, url string, at time.Time, args ...any) (Message, error) {
	m, data, err := d.message(ctx, tx, inc, kind, url, at, args...)
	if err != nil {
		return m, err
	}
	return m, appendEvent(ctx, tx, EventMessageSent, at, optimum.System, inc, data)
}

// message records a message to the requester and returns it with its event data.
func (d *Desk) message(ctx context.Context, tx DeskTx, inc Incident, kind, url string, at time.Time, args ...any) (Message, map[string]any, error) {
	l, err := tx.PersonLanguage(ctx, inc.Reporter.ID)
	if err != nil {
		return Message{}, nil, err
	}
	l = lang(l)
	prefix := ""
	if inc.Drill {
		prefix = messageTexts[l]["drill"]
	}
	m := Message{ID: optimum.NewID("msg"), IncidentID: inc.ID, Kind: kind, To: inc.Reporter, Language: l,
		Text: fmt.Sprintf(messageTexts[l][kind], append([]any{prefix}, args...)...), URL: url, At: at}
	if err := tx.AddMessage(ctx, m); err != nil {
		return Message{}, nil, err
	}
	data := map[string]any{"message_id": m.ID, "kind": kind, "to": m.To, "language": l, "text": m.Shown().Text}
	return m, data, nil
}

// tellFolio tells the requester the folio, in the declaring transaction; the message is
// part of incident.declared's data.
func (d *Desk) tellFolio(ctx context.Context, tx Tx, inc Incident, at time.Time) (any, error) {
	dtx, ok := tx.(DeskTx)
	if !ok || inc.Reporter.ID == "" {
		return nil, nil
	}
	_, data, err := d.message(ctx, dtx, inc, MessageFolio, "", at, inc.Title, inc.Folio)
	if err != nil {
		return nil, err
	}
	return map[string]any{"message": data}, nil
}

// linkShown stands for a requester's link in a message shown anywhere but on their phone.
var linkShown = map[string]string{"es": "[enlace]", "en": "[link]"}

// Shown is the message as the timeline and the web app show it: without its link, which
// is the requester's alone (and, stored, only a ConformitySlot).
func (m Message) Shown() Message {
	if m.URL != "" {
		m.Text = strings.ReplaceAll(m.Text, m.URL, linkShown[lang(m.Language)])
		m.URL = ""
	}
	return m
}

// ConformitySlot stands, in a stored message to the requester, where the token of their
// conformity link goes. A link in incident_messages or deliveries would let whoever reads
// them (a responder looking at the requester's messages, a database reader) accept the
// solution in the requester's name; so the message keeps this slot, and PrepareConformity
// mints a link when the message is sent. It is as long as a token, so an SMS has the
// same segments before and after.
const ConformitySlot = "{conformity-link-not-yet-minted}"

// askConformity sends the requester the solution and a one-tap link to accept or reject
// it. The request replaces any earlier one: their links stop working.
func (d *Desk) askConformity(ctx context.Context, tx DeskTx, inc *Incident, at time.Time) error {
	if inc.Reporter.ID == "" {
		return nil
	}
	if err := tx.CloseConformityLinks(ctx, inc.ID, at); err != nil {
		return err
	}
	url := d.opt.PublicURL + "/c/" + ConformitySlot
	m, err := d.tell(ctx, tx, *inc, MessageConformity, url, at, inc.Folio, strings.TrimRight(inc.Resolution, ". "), url)
	if err != nil {
		return err
	}
	return tx.CreateConformityRequest(ctx, ConformityRequest{ID: m.ID, IncidentID: inc.ID, Requester: inc.Reporter,
		Language: m.Language, CreatedAt: at, ExpiresAt: at.Add(d.opt.ConformityTTL)})
}

// MintConformityLink returns the URL of a new link to the incident's open conformity
// request, or false when there is no open request (answered, replaced or expired).
// Every link minted for one request works until one of them is used.
func (d *Desk) MintConformityLink(ctx context.Context, incidentID string) (string, bool, error) {
	token := newToken()
	ok, err := d.store.MintConformityLink(ctx, incidentID, HashToken(token), d.now())
	if err != nil || !ok {
		return "", false, err
	}
	return d.opt.PublicURL + "/c/" + token, true, nil
}

// PrepareConformity is a dispatcher hook (broadcast.DispatcherOptions.Prepare): a
// message with the ConformitySlot gets a new link to its incident's open request. A
// message whose request was answered, replaced or expired meanwhile is not sent
// (broadcast.ErrSuperseded): the newer request has its own message.
func (d *Desk) PrepareConformity(ctx context.Context, del *broadcast.Delivery) error {
	if !strings.Contains(del.URL, ConformitySlot) && !strings.Contains(del.Text, ConformitySlot) && !strings.Contains(del.Title, ConformitySlot) {
		return nil
	}
	url, ok, err := d.MintConformityLink(ctx, del.Subject)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the conformity request was answered, replaced or expired: %w", broadcast.ErrSuperseded)
	}
	token := url[strings.LastIndex(url, "/")+1:]
	del.URL = strings.ReplaceAll(del.URL, ConformitySlot, token)
	del.Text = strings.ReplaceAll(del.Text, ConformitySlot, token)
	del.Title = strings.ReplaceAll(del.Title, ConformitySlot, token)
	return nil
}

// Messages returns what the requester of the incident was told.
func (d *Desk) Messages(ctx context.Context, incidentID string) ([]Message, error) {
	ms, err := d.store.Messages(ctx, incidentID)
	if ms == nil {
		ms = []Message{}
	}
	return ms, err
}

// AskRequester sends the requester a question from the responders.
func (d *Desk) AskRequester(ctx context.Context, idOrFolio, question string) (Message, error) {
	actor, _ := optimum.ActorFrom(ctx)
	question = strings.TrimSpace(question)
	if err := checkText("question", question, "write the question for the requester"); err != nil {
		return Message{}, err
	}
	now := d.now()
	var m Message
	err := d.store.Tx(ctx, func(tx DeskTx) error {
		inc, err := tx.Lock(ctx, idOrFolio)
		if err != nil {
			return err
		}
		if err := workable(inc, "asked for information"); err != nil {
			return err
		}
		if inc.Reporter.ID == "" {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s has no requester to ask.", inc.Folio)
		}
		if m, err = d.tell(ctx, tx, inc, MessageQuestion, "", now, inc.Folio, question); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventInfoRequested, now, actor, inc, map[string]any{"question": question, "message_id": m.ID})
	})
	return m, err
}

// AnswerRequest records the requester's answer (or what a responder heard from them) on
// the timeline.
func (d *Desk) AnswerRequest(ctx context.Context, idOrFolio, answer string) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	answer = strings.TrimSpace(answer)
	if err := checkText("answer", answer, "write the answer"); err != nil {
		return Incident{}, err
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if err := workable(*inc, "given information"); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventInfoProvided, now, actor, *inc, map[string]any{"answer": answer})
	})
}

// AnswerByPerson records a directory person's free-text reply (an SMS) as their answer
// to the responders' question, on the newest open incident they declared that asked
// them one. It returns that incident's folio, or "" when they were asked nothing (the
// reply is then not an answer).
func (d *Desk) AnswerByPerson(ctx context.Context, personID, name, answer string) (string, error) {
	folios, err := d.store.AskedRequests(ctx, personID)
	if err != nil || len(folios) == 0 {
		return "", err
	}
	ctx = optimum.WithActor(ctx, optimum.Actor{ID: personID, Name: name, Role: optimum.RoleReporter, PersonID: personID})
	if _, err := d.AnswerRequest(ctx, folios[0], answer); err != nil {
		return "", err
	}
	return folios[0], nil
}

// workable refuses work on a closed or cancelled incident.
func workable(inc Incident, what string) error {
	if inc.Status == StatusClosed || inc.Status == StatusCancelled {
		return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be %s.", inc.Folio, inc.Status, what)
	}
	return nil
}

// Conformity returns the incident and link of a conformity token. An unknown token is
// ENOTFOUND; a used or expired one is ECONFLICT, saying which.
func (d *Desk) Conformity(ctx context.Context, token string) (Incident, ConformityLink, error) {
	if token == "" || len(token) > 100 {
		return Incident{}, ConformityLink{}, optimum.Errorf(optimum.ENOTFOUND, "This conformity link is unknown.")
	}
	l, err := d.store.ConformityLink(ctx, HashToken(token))
	if optimum.ErrorCode(err) == optimum.ENOTFOUND {
		return Incident{}, l, optimum.Errorf(optimum.ENOTFOUND, "This conformity link is unknown.")
	} else if err != nil {
		return Incident{}, l, err
	}
	if err := linkUsable(l, d.now()); err != nil {
		return Incident{}, l, err
	}
	inc, err := d.svc.Get(ctx, l.IncidentID)
	return inc, l, err
}

func linkUsable(l ConformityLink, now time.Time) error {
	if l.UsedAt != nil {
		return optimum.Errorf(optimum.ECONFLICT, "This conformity link was already used or replaced by a newer one.")
	}
	if !now.Before(l.ExpiresAt) {
		return optimum.Errorf(optimum.ECONFLICT, "This conformity link has expired.")
	}
	return nil
}

// AnswerConformity records the requester's answer through their link: acceptance closes
// the incident (through verified), rejection reopens it with the comment as the reason.
// The link works once.
func (d *Desk) AnswerConformity(ctx context.Context, token string, accept bool, comment string) (Incident, error) {
	comment = strings.TrimSpace(comment)
	required := ""
	if !accept {
		required = "say what is still wrong"
	}
	if err := checkText("comment", comment, required); err != nil {
		return Incident{}, err
	}
	_, l, err := d.Conformity(ctx, token)
	if err != nil {
		return Incident{}, err
	}
	now := d.now()
	actor := optimum.Actor{ID: l.Requester.ID, Name: l.Requester.Name, Role: optimum.RoleReporter}
	var inc Incident
	err = d.store.Tx(ctx, func(tx DeskTx) error {
		ok, err := tx.UseConformityLink(ctx, l.Hash, now)
		if err != nil {
			return err
		}
		if !ok {
			return optimum.Errorf(optimum.ECONFLICT, "This conformity link was already used or replaced by a newer one.")
		}
		if inc, err = tx.Lock(ctx, l.IncidentID); err != nil {
			return err
		}
		if inc.Status != StatusResolved && inc.Status != StatusVerified {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it is no longer waiting for your conformity.", inc.Folio, inc.Status)
		}
		answer := ConformityAccepted
		if !accept {
			answer = ConformityRejected
		}
		inc.Conformity = answer
		if err := appendEvent(ctx, tx, EventConformity, now, actor, inc, map[string]any{"answer": answer, "comment": comment}); err != nil {
			return err
		}
		if !accept {
			return d.move(ctx, tx, &inc, actor, StatusReopened, comment, now)
		}
		if inc.Status == StatusResolved {
			if err := d.move(ctx, tx, &inc, actor, StatusVerified, "the requester confirmed the solution", now); err != nil {
				return err
			}
		}
		note := "closed with the requester's conformity"
		if comment != "" {
			note += ": " + comment
		}
		return d.move(ctx, tx, &inc, actor, StatusClosed, note, now)
	})
	return inc, err
}

// Tick closes the incidents whose requester did not answer the conformity request in
// time, recorded as timed out. It is idempotent; cron calls it.
func (d *Desk) Tick(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Millisecond)
	var ids []string
	err := d.store.Tx(ctx, func(tx DeskTx) error {
		var err error
		ids, err = tx.ExpiredConformity(ctx, now)
		return err
	})
	if err != nil {
		return 0, err
	}
	closed := 0
	for _, id := range ids {
		err := d.store.Tx(ctx, func(tx DeskTx) error {
			inc, err := tx.Lock(ctx, id)
			if err != nil {
				return err
			}
			if (inc.Status != StatusResolved && inc.Status != StatusVerified) || inc.Conformity != ConformityPending {
				return tx.CloseConformityLinks(ctx, inc.ID, now) // nothing waits for it any more
			}
			note := fmt.Sprintf("no answer from the requester within %s", d.opt.ConformityTTL)
			if inc.Status == StatusResolved {
				if err := d.move(ctx, tx, &inc, optimum.System, StatusVerified, note, now); err != nil {
					return err
				}
			}
			inc.Conformity = ConformityTimedOut
			closed++
			return d.move(ctx, tx, &inc, optimum.System, StatusClosed, note, now)
		})
		if err != nil {
			return closed, err
		}
	}
	return closed, nil
}

// Update is a stakeholder update: what we know, what we are doing, and when the next
// update will come.
type Update struct {
	Known        string     `json:"known"`
	Doing        string     `json:"doing"`
	NextUpdateAt *time.Time `json:"next_update_at"`
	// SMS also sends it by SMS (push and the live board always get it).
	SMS bool `json:"sms"`
}

// MaxUpdateInterval is the furthest a next update may be promised.
const MaxUpdateInterval = 7 * 24 * time.Hour

// PostUpdate records a stakeholder update; its event reaches the live boards and the
// notifier that sends it by push (and SMS when flagged).
func (d *Desk) PostUpdate(ctx context.Context, idOrFolio string, u Update) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	u.Known, u.Doing = strings.TrimSpace(u.Known), strings.TrimSpace(u.Doing)
	now := d.now()
	var f []optimum.FieldError
	for _, e := range []error{checkText("known", u.Known, "say what we know"), checkText("doing", u.Doing, "")} {
		f = append(f, optimum.ErrorFields(e)...)
	}
	if u.NextUpdateAt != nil {
		next := u.NextUpdateAt.UTC().Truncate(time.Millisecond)
		switch {
		case !next.After(now):
			f = append(f, optimum.FieldError{Field: "next_update_at", Message: "must be in the future"})
		case next.Sub(now) > MaxUpdateInterval:
			f = append(f, optimum.FieldError{Field: "next_update_at", Message: "must be within 7 days"})
		}
		u.NextUpdateAt = &next
	}
	if err := optimum.Invalid("The update has errors.", f); err != nil {
		return Incident{}, err
	}
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if err := workable(*inc, "updated"); err != nil {
			return err
		}
		inc.LastUpdateAt, inc.NextUpdateAt, inc.UpdatedAt = &now, u.NextUpdateAt, now
		inc.Updates++
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventUpdatePosted, now, actor, *inc, map[string]any{
			"known": u.Known, "doing": u.Doing, "next_update_at": u.NextUpdateAt, "sms": u.SMS, "number": inc.Updates})
	})
}
