package escalation

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// What an inbound SMS means, as the channel adapter read it.
const (
	ReplyAck     = "ack"
	ReplyStop    = "stop"
	ReplyStart   = "start"
	ReplyHelp    = "help"
	ReplyUnknown = "unknown"
	// Safety-poll answers: "1 = estoy a salvo, 2 = necesito ayuda".
	ReplySafe       = "safe"
	ReplyHelpNeeded = "help_needed"
	// ReplyRefused is what Digits records when the number the call went to is shared by
	// several active people: nothing, since the answer cannot be told to be one person's.
	ReplyRefused = "refused"
)

// Sender is a person who wrote or answered on a channel.
type Sender struct {
	PersonID string
	Name     string
	Language string
}

// OpenAlert is an open incident a person was alerted of and has not acknowledged, or
// one that asks them a safety poll.
type OpenAlert struct {
	IncidentID   string
	Folio        string
	Priority     string
	Title        string
	SafetyPoll   bool
	Acknowledged bool
}

// InboundStore is what replies need of the database.
type InboundStore interface {
	// PersonByPhone returns the active person with the E.164 phone; ENOTFOUND otherwise.
	PersonByPhone(ctx context.Context, phone string) (Sender, error)
	// SetSMSOptOut records a STOP (at) or a START (nil).
	SetSMSOptOut(ctx context.Context, personID string, at *time.Time) error
	// OpenAlerts returns the open incidents the person is a recipient of and has not
	// acknowledged, and the open ones that ask a safety poll, newest first.
	OpenAlerts(ctx context.Context, personID string) ([]OpenAlert, error)
	// DeliveryTarget returns the incident and the person of a delivery.
	DeliveryTarget(ctx context.Context, deliveryID string) (incidentID string, to Sender, err error)
}

// Inbound turns replies (an SMS, a key pressed during a call) into acknowledgements.
type Inbound struct {
	store     InboundStore
	incidents *incident.Service
	now       func() time.Time
	// Requests, when set, takes a free-text SMS from a requester who was asked a
	// question as their answer.
	Requests RequesterAnswers
	// Logger records replies refused because their number is shared; nil means
	// slog.Default().
	Logger *slog.Logger
	// Crisis, when set, declares from "CRISIS <text>" SMS (crisis.go).
	Crisis *CrisisLine
}

// RequesterAnswers records a requester's reply to the responders' question.
type RequesterAnswers interface {
	// AnswerByPerson records answer on the newest open incident the person declared
	// that asked them a question and returns its folio; "" when they were asked nothing.
	AnswerByPerson(ctx context.Context, personID, name, answer string) (folio string, err error)
}

// NewInbound returns an Inbound; now nil means time.Now.
func NewInbound(store InboundStore, incidents *incident.Service, now func() time.Time) *Inbound {
	if now == nil {
		now = time.Now
	}
	return &Inbound{store: store, incidents: incidents, now: now}
}

var replies = map[string]map[string]string{
	"es": {
		"unknown_number": "Este número no está registrado en OPTIMUM BCP. Si debería estarlo, avisa a tu responsable de continuidad.",
		"shared_number":  "Este número está registrado para más de una persona en OPTIMUM BCP, así que no podemos registrar tu respuesta. Responde desde la app o avisa a tu responsable de continuidad.",
		"none":           "No tienes alertas pendientes de confirmar.",
		"acked":          "Recepción confirmada: %s. Gracias.",
		"several":        "Tienes %d alertas pendientes: %s. Para confirmar una, responde 1 y el folio de esa alerta (por ejemplo: 1 %s).",
		"one_hint":       "Tienes una alerta pendiente: %s. Responde 1 para confirmar recepción.",
		"no_such":        "No encontramos la alerta %s entre tus pendientes. %s",
		"help":           "OPTIMUM BCP: responde 1 para confirmar recepción de una alerta. STOP para dejar de recibir SMS, START para volver.",
		"start":          "Volverás a recibir alertas por SMS de OPTIMUM BCP.",
		"safe":           "Gracias. Registramos que estás a salvo (%s).",
		"help_needed":    "Registramos que necesitas ayuda (%s). El equipo de continuidad ya lo sabe. Si puedes, responde con tu ubicación.",
		"answered":       "Gracias. Tu respuesta quedó registrada en el reporte %s.",
	},
	"en": {
		"unknown_number": "This number is not registered in OPTIMUM BCP. If it should be, tell your continuity manager.",
		"shared_number":  "This number is registered for more than one person in OPTIMUM BCP, so your answer cannot be recorded. Answer in the app or tell your continuity manager.",
		"none":           "You have no alerts waiting for acknowledgement.",
		"acked":          "Acknowledged: %s. Thank you.",
		"several":        "You have %d pending alerts: %s. To acknowledge one, reply 1 and its folio (for example: 1 %s).",
		"one_hint":       "You have one pending alert: %s. Reply 1 to acknowledge it.",
		"no_such":        "Alert %s is not among your pending ones. %s",
		"help":           "OPTIMUM BCP: reply 1 to acknowledge an alert. STOP to stop SMS, START to get them again.",
		"start":          "You will receive OPTIMUM BCP alerts by SMS again.",
		"safe":           "Thank you. We recorded that you are safe (%s).",
		"help_needed":    "We recorded that you need help (%s). The continuity team knows. If you can, reply with where you are.",
		"answered":       "Thank you. Your answer was added to report %s.",
	},
}

func text(lang, key string) string {
	if lang != "en" {
		lang = "es"
	}
	return replies[lang][key]
}

// SMS handles an inbound SMS from an E.164 number and returns the answer to send back
// ("" for none). read tells what the reply means (kind, and the folio it quotes, if any),
// read as an answer to a safety poll when poll is true: "1" is then "I am safe" and "2"
// "I need help". A reply that is none of those, from a requester the responders asked a
// question, is their answer (body). A reply nobody can match acknowledges nothing and
// gets a helpful answer.
func (in *Inbound) SMS(ctx context.Context, from, body string, read func(poll bool) (kind, folio string)) (string, error) {
	if in.Crisis != nil {
		if answer, ok, err := in.Crisis.SMS(ctx, from, body); ok {
			return answer, err
		}
	}
	p, err := in.store.PersonByPhone(ctx, from)
	switch optimum.ErrorCode(err) {
	case optimum.ENOTFOUND:
		return text("es", "unknown_number"), nil
	case optimum.ECONFLICT:
		// Matching it to one of them (the oldest, say) would record one person's answer
		// as another's: a "necesito ayuda" lost in a crisis. Nothing is recorded.
		in.logger().Warn("inbound SMS refused: the number belongs to more than one active person",
			"reason", "shared_phone", "from", from)
		return text("es", "shared_number"), nil
	}
	if err != nil {
		return "", err
	}
	lang := p.Language
	all, err := in.store.OpenAlerts(ctx, p.PersonID)
	if err != nil {
		return "", err
	}
	kind, folio := read(false)
	var polls, open []OpenAlert
	for _, a := range all {
		if a.SafetyPoll && (folio == "" || strings.EqualFold(a.Folio, folio)) {
			polls = append(polls, a)
		}
		if !a.Acknowledged {
			open = append(open, a)
		}
	}
	if len(polls) > 0 {
		// The person was asked whether they are safe: read the reply as the answer. With
		// several polls open and no folio, the newest is the one they are answering.
		if k, _ := read(true); k == ReplySafe || k == ReplyHelpNeeded {
			target := polls[0]
			if _, err := in.incidents.AnswerSafety(ctx, target.IncidentID, p.PersonID, p.Name, "sms", k); err != nil {
				return "", err
			}
			return fmt.Sprintf(text(lang, k), target.Folio), nil
		}
	}
	switch kind {
	case ReplyStop:
		now := in.now().UTC()
		return "", in.store.SetSMSOptOut(ctx, p.PersonID, &now) // the carrier confirms STOP itself
	case ReplyStart:
		return text(lang, "start"), in.store.SetSMSOptOut(ctx, p.PersonID, nil)
	case ReplyHelp:
		return text(lang, "help"), nil
	}
	if kind == ReplyUnknown && in.Requests != nil && strings.TrimSpace(body) != "" {
		folio, err := in.Requests.AnswerByPerson(ctx, p.PersonID, p.Name, body)
		if err != nil {
			return "", err
		}
		if folio != "" {
			return fmt.Sprintf(text(lang, "answered"), folio), nil
		}
	}
	if kind != ReplyAck {
		return in.pending(lang, open), nil
	}
	var target *OpenAlert
	switch {
	case folio != "":
		for i := range open {
			if strings.EqualFold(open[i].Folio, folio) {
				target = &open[i]
			}
		}
		if target == nil {
			return fmt.Sprintf(text(lang, "no_such"), folio, in.pending(lang, open)), nil
		}
	case len(open) == 1:
		target = &open[0]
	default:
		return in.pending(lang, open), nil
	}
	if _, err := in.incidents.AcknowledgeAsPerson(ctx, target.IncidentID, p.PersonID, p.Name, "sms"); err != nil {
		return "", err
	}
	return fmt.Sprintf(text(lang, "acked"), target.Folio), nil
}

func (in *Inbound) logger() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.Default()
}

// pending tells a person what is waiting and how to answer.
func (in *Inbound) pending(lang string, open []OpenAlert) string {
	switch len(open) {
	case 0:
		return text(lang, "none")
	case 1:
		return fmt.Sprintf(text(lang, "one_hint"), open[0].Folio+" "+open[0].Title)
	}
	var list []string
	for i, a := range open {
		if i == 3 {
			list = append(list, "…")
			break
		}
		list = append(list, a.Priority+" "+a.Folio)
	}
	return fmt.Sprintf(text(lang, "several"), len(open), strings.Join(list, ", "), open[0].Folio)
}

// Digits handles a key pressed during an alert call. Without a safety poll "1"
// acknowledges; with one, "1" answers safe and "2" help needed. It returns the language
// to answer in, what was recorded (ReplyAck, ReplySafe, ReplyHelpNeeded, or "" for
// nothing; ReplyRefused when the number is shared and nothing can be recorded) and
// whether the call asks the poll.
func (in *Inbound) Digits(ctx context.Context, deliveryID, digits string) (lang, recorded string, poll bool, err error) {
	incID, p, err := in.store.DeliveryTarget(ctx, deliveryID)
	if optimum.ErrorCode(err) == optimum.ECONFLICT {
		in.logger().Warn("key pressed in a call refused: the number belongs to more than one active person",
			"reason", "shared_phone", "delivery", deliveryID, "incident", incID)
		return p.Language, ReplyRefused, false, nil
	}
	if err != nil {
		return "es", "", false, err
	}
	inc, err := in.incidents.Get(ctx, incID)
	if err != nil {
		return p.Language, "", false, err
	}
	digits = strings.TrimSpace(digits)
	if inc.SafetyPoll {
		answer := map[string]string{"1": ReplySafe, "2": ReplyHelpNeeded}[digits]
		if answer == "" {
			return p.Language, "", true, nil
		}
		if _, err := in.incidents.AnswerSafety(ctx, incID, p.PersonID, p.Name, "voice", answer); err != nil {
			return p.Language, "", true, err
		}
		return p.Language, answer, true, nil
	}
	if digits != "1" {
		return p.Language, "", false, nil
	}
	if _, err := in.incidents.AcknowledgeAsPerson(ctx, incID, p.PersonID, p.Name, "voice"); err != nil {
		return p.Language, "", false, err
	}
	return p.Language, ReplyAck, false, nil
}
