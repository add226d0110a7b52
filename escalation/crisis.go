package escalation

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// Declaring a crisis when the web is down: a person of the directory texts "CRISIS
// <what happens>" to the alert number, or leaves a voice message on the hotline.
//
// Who may: an active person of the directory whose phone is verified (they proved with a
// code that the number is theirs) and the only active person with that number. Every
// person of the directory counts as a reporter, the least role, since reporters are the
// people who may declare; a person linked to a disabled user account may not. Everything
// else is refused, recorded as sms.declare_refused with the reason, and answered in plain
// words saying what the person can do instead.

// Why a CRISIS text or a hotline call was refused (sms.declare_refused's reason).
const (
	RefusedUnknown    = "unknown_number"
	RefusedShared     = "shared_number"
	RefusedUnverified = "unverified_phone"
	RefusedDisabled   = "disabled_user"
	RefusedEmpty      = "empty_text"
	RefusedRateLimit  = "rate_limited"
	RefusedRepeated   = "repeated"
	RefusedTemplate   = "template_required" // a lanzador's words match no template
)

// EventDeclareRefused records a CRISIS text or a hotline message that declared nothing.
const EventDeclareRefused = "sms.declare_refused"

// Defaults of CrisisLine.
const (
	// CrisisPerHour is how many crises one number may declare in an hour.
	CrisisPerHour = 3
	// CrisisRepeatWindow is how long the same words from the same number are the same
	// report: a text sent 20 times declares once.
	CrisisRepeatWindow = 24 * time.Hour
)

// CrisisCaller is a person who texted CRISIS or called the hotline, as the directory has
// them.
type CrisisCaller struct {
	Sender
	Verified bool // their phone is verified
	Disabled bool // a user account linked to them is disabled
	// Launcher: their user account is a "lanzador", who declares only from a template:
	// their words must match one, and the hotline (no words to match) is not theirs.
	Launcher bool
}

// Outcomes of CrisisStore.ClaimCrisis.
const (
	ClaimNew       = "new"      // declare it: the claim is yours
	ClaimRepeated  = "repeated" // the same words were declared (incidentID, or "" while in progress)
	ClaimRateLimit = "rate_limited"
)

// CrisisStore is what declaring by SMS and the hotline needs of the database.
type CrisisStore interface {
	// CrisisCaller returns the active person with the E.164 phone: ENOTFOUND when nobody
	// has it, ECONFLICT when several do.
	CrisisCaller(ctx context.Context, phone string) (CrisisCaller, error)
	// ClaimCrisis decides, one request at a time per database, what a report is: a repeat
	// of one from the same phone with the same hash within window, over perHour
	// declarations from the phone in the last hour, or new (then claim names it).
	ClaimCrisis(ctx context.Context, phone, personID, hash string, now time.Time, window time.Duration, perHour int) (outcome, incidentID, claim string, err error)
	// CrisisDeclared records the incident a claim declared.
	CrisisDeclared(ctx context.Context, claim, incidentID string) error
	// ReleaseCrisis forgets a claim whose declaration failed.
	ReleaseCrisis(ctx context.Context, claim string) error
	// CrisisCount returns how many crises the phone declared since.
	CrisisCount(ctx context.Context, phone string, since time.Time) (int, error)
	// AppendEvent records an event that belongs to no incident.
	AppendEvent(ctx context.Context, e optimum.Event) error
}

// CrisisLine declares incidents from CRISIS texts and hotline messages.
type CrisisLine struct {
	store     CrisisStore
	incidents *incident.Service
	templates func(ctx context.Context) ([]incident.Template, error)
	now       func() time.Time
	// PerHour and Window default to CrisisPerHour and CrisisRepeatWindow.
	PerHour int
	Window  time.Duration
	// Transcriptions puts a hotline message's transcription on its incident.
	Transcriptions func(ctx context.Context, incidentID, personID, name, text string) error
	Logger         *slog.Logger
}

// NewCrisisLine returns a CrisisLine; templates lists the scenario templates whose
// keywords classify a report; now nil means time.Now.
func NewCrisisLine(store CrisisStore, incidents *incident.Service, templates func(ctx context.Context) ([]incident.Template, error), now func() time.Time) *CrisisLine {
	if now == nil {
		now = time.Now
	}
	return &CrisisLine{store: store, incidents: incidents, templates: templates, now: now}
}

var crisisTexts = map[string]map[string]string{
	"es": {
		"declared":            "Recibimos tu reporte de crisis «%s». Tu folio es %s (prioridad %s); el equipo de continuidad ya fue avisado.",
		"in_progress":         "Ya estamos registrando este reporte; en un momento te llega el folio. No hace falta que lo envíes de nuevo.",
		RefusedRepeated:       "Ya recibimos este reporte, con el folio %s. No lo declaramos otra vez. Si es otra emergencia, descríbela con otras palabras.",
		RefusedRateLimit:      "Desde este número ya se declararon %d crisis en la última hora, el máximo por SMS. Si es otra emergencia, llama a tu responsable de continuidad o decláralo en la app.",
		RefusedEmpty:          "Para declarar una crisis escribe CRISIS y lo que pasa, por ejemplo: CRISIS incendio en el almacén norte.",
		RefusedUnknown:        "Este número no está registrado en OPTIMUM BCP, así que no podemos declarar la crisis. Llama a tu responsable de continuidad o al número de emergencias.",
		RefusedShared:         "Este número está registrado para más de una persona en OPTIMUM BCP, así que no sabemos quién declara. Declara desde la app o llama a tu responsable de continuidad.",
		RefusedUnverified:     "Tu teléfono aún no está verificado en OPTIMUM BCP, así que no podemos declarar por SMS. Verifícalo en la app (Mi perfil) o llama a tu responsable de continuidad.",
		RefusedDisabled:       "Tu cuenta de OPTIMUM BCP está desactivada, así que no podemos declarar la crisis. Llama a tu responsable de continuidad.",
		RefusedTemplate:       "Tu cuenta solo declara crisis de un escenario preparado: escribe CRISIS y el escenario, por ejemplo CRISIS incendio, sismo, inundación o apagón. Si es otra cosa, llama a tu responsable de continuidad.",
		"hotline_template":    "Tu cuenta solo declara crisis de un escenario preparado. Escribe CRISIS y el escenario a este número, por ejemplo CRISIS incendio, o llama a tu responsable de continuidad.",
		"hotline_prompt":      "Línea de crisis de OPTIMUM BCP. Después del tono, di qué pasa y dónde. Al terminar, cuelga o presiona la tecla de número.",
		"hotline_declared":    "Recibimos tu mensaje. Tu folio es %s. El equipo de continuidad ya fue avisado. Hasta luego.",
		"hotline_in_progress": "Ya estamos registrando tu mensaje. Hasta luego.",
		"hotline_none":        "No escuchamos ningún mensaje, así que no declaramos nada. Llama de nuevo o escribe CRISIS y lo que pasa a este número.",
		"hotline_repeated":    "Ya recibimos este mensaje, con el folio %s. Hasta luego.",
		"hotline_rate":        "Desde este número ya se declararon %d crisis en la última hora, el máximo. Llama a tu responsable de continuidad.",
		"voice_message":       "Mensaje de voz de %d segundos: %s",
	},
	"en": {
		"declared":            "We received your crisis report “%s”. Your reference is %s (priority %s); the continuity team has been alerted.",
		"in_progress":         "We are already recording this report; the reference will reach you in a moment. No need to send it again.",
		RefusedRepeated:       "We already received this report: its reference is %s. It was not declared again. If it is another emergency, describe it in other words.",
		RefusedRateLimit:      "This number already declared %d crises in the last hour, the most allowed by SMS. If it is another emergency, call your continuity manager or declare it in the app.",
		RefusedEmpty:          "To declare a crisis, write CRISIS and what is happening, for example: CRISIS fire in the north warehouse.",
		RefusedUnknown:        "This number is not registered in OPTIMUM BCP, so the crisis cannot be declared. Call your continuity manager or the emergency number.",
		RefusedShared:         "This number is registered for more than one person in OPTIMUM BCP, so we cannot tell who is declaring. Declare in the app or call your continuity manager.",
		RefusedUnverified:     "Your phone is not verified in OPTIMUM BCP yet, so you cannot declare by SMS. Verify it in the app (My profile) or call your continuity manager.",
		RefusedDisabled:       "Your OPTIMUM BCP account is disabled, so the crisis cannot be declared. Call your continuity manager.",
		RefusedTemplate:       "Your account declares only prepared scenarios: write CRISIS and the scenario, for example CRISIS fire, earthquake, flood or power outage. If it is something else, call your continuity manager.",
		"hotline_template":    "Your account declares only prepared scenarios. Text CRISIS and the scenario to this number, for example CRISIS fire, or call your continuity manager.",
		"hotline_prompt":      "OPTIMUM BCP crisis line. After the tone, say what is happening and where. When you finish, hang up or press the pound key.",
		"hotline_declared":    "We received your message. Your reference is %s. The continuity team has been alerted. Goodbye.",
		"hotline_in_progress": "We are already recording your message. Goodbye.",
		"hotline_none":        "We heard no message, so nothing was declared. Call again, or text CRISIS and what is happening to this number.",
		"hotline_repeated":    "We already received this message: its reference is %s. Goodbye.",
		"hotline_rate":        "This number already declared %d crises in the last hour, the most allowed. Call your continuity manager.",
		"voice_message":       "Voice message of %d seconds: %s",
	},
}

func crisisText(lang, key string) string {
	if lang != "en" {
		lang = "es"
	}
	return crisisTexts[lang][key]
}

// CrisisWords returns what follows the CRISIS keyword of an SMS ("CRISIS incendio",
// "crisis: incendio", "Crisis"), and whether the SMS starts with it at all.
func CrisisWords(body string) (string, bool) {
	b := strings.TrimSpace(body)
	if len(b) < 6 || !strings.EqualFold(b[:6], "crisis") {
		return "", false
	}
	rest := b[6:]
	if rest != "" {
		r := []rune(rest)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return "", false // "crisisnada" is not the keyword
		}
	}
	return strings.TrimSpace(strings.TrimLeft(rest, " \t\r\n:;,.-—!¡")), true
}

// SMS handles an inbound SMS: ok is false when it is not a CRISIS text (the other replies
// handle it). Otherwise it declares, or refuses, and returns the answer to text back.
func (c *CrisisLine) SMS(ctx context.Context, from, body string) (answer string, ok bool, err error) {
	words, ok := CrisisWords(body)
	if !ok {
		return "", false, nil
	}
	p, lang, refused, err := c.caller(ctx, incident.ViaSMS, from)
	if err != nil || refused != "" {
		return refused, true, err
	}
	if strings.TrimFunc(words, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) == "" {
		return crisisText(lang, RefusedEmpty), true, c.refuse(ctx, incident.ViaSMS, from, p.PersonID, RefusedEmpty, "")
	}
	if p.Launcher {
		ok, err := c.matchesTemplate(ctx, words)
		if err != nil {
			return "", true, err
		}
		if !ok {
			return crisisText(lang, RefusedTemplate), true, c.refuse(ctx, incident.ViaSMS, from, p.PersonID, RefusedTemplate, "")
		}
	}
	inc, outcome, err := c.declare(ctx, incident.ViaSMS, from, p, words, "sms:"+fold(words))
	if err != nil {
		return "", true, err
	}
	switch outcome {
	case ClaimRateLimit:
		return fmt.Sprintf(crisisText(lang, RefusedRateLimit), c.perHour()), true, nil
	case ClaimRepeated:
		if inc.Folio == "" {
			return crisisText(lang, "in_progress"), true, nil
		}
		return fmt.Sprintf(crisisText(lang, RefusedRepeated), inc.Folio), true, nil
	}
	return fmt.Sprintf(crisisText(lang, "declared"), clip(inc.Title, 60), inc.Folio, inc.Priority), true, nil
}

// HotlineCall is what the hotline says when a call comes in: the prompt to record
// (refused == ""), or why the caller cannot declare.
func (c *CrisisLine) HotlineCall(ctx context.Context, from string) (lang, say string, record bool, err error) {
	p, lang, refused, err := c.caller(ctx, incident.ViaHotline, from)
	if err != nil || refused != "" {
		return lang, refused, false, err
	}
	if p.Launcher {
		return lang, crisisText(lang, "hotline_template"), false, c.refuse(ctx, incident.ViaHotline, from, p.PersonID, RefusedTemplate, "")
	}
	n, err := c.store.CrisisCount(ctx, from, c.now().Add(-time.Hour))
	if err != nil {
		return lang, "", false, err
	}
	if n >= c.perHour() {
		return lang, fmt.Sprintf(crisisText(lang, "hotline_rate"), c.perHour()), false, c.refuse(ctx, incident.ViaHotline, from, p.PersonID, RefusedRateLimit, "")
	}
	return lang, crisisText(lang, "hotline_prompt"), true, nil
}

// HotlineRecording declares with a voice message left on the hotline (callSID names the
// call, so Twilio's retries declare once) and returns what the call says before hanging
// up.
func (c *CrisisLine) HotlineRecording(ctx context.Context, from, callSID, recordingURL string, seconds int, transcription string) (lang, say string, err error) {
	p, lang, refused, err := c.caller(ctx, incident.ViaHotline, from)
	if err != nil || refused != "" {
		return lang, refused, err
	}
	if p.Launcher {
		return lang, crisisText(lang, "hotline_template"), c.refuse(ctx, incident.ViaHotline, from, p.PersonID, RefusedTemplate, "")
	}
	if recordingURL == "" || seconds <= 0 {
		return lang, crisisText(lang, "hotline_none"), c.refuse(ctx, incident.ViaHotline, from, p.PersonID, RefusedEmpty, "")
	}
	words := fmt.Sprintf(crisisText(lang, "voice_message"), seconds, recordingURL)
	if t := strings.TrimSpace(transcription); t != "" {
		words = t + "\n\n" + words
	}
	inc, outcome, err := c.declare(ctx, incident.ViaHotline, from, p, words, "call:"+callSID)
	if err != nil {
		return lang, "", err
	}
	switch outcome {
	case ClaimRateLimit:
		return lang, fmt.Sprintf(crisisText(lang, "hotline_rate"), c.perHour()), nil
	case ClaimRepeated:
		if inc.Folio == "" {
			return lang, crisisText(lang, "hotline_in_progress"), nil
		}
		return lang, fmt.Sprintf(crisisText(lang, "hotline_repeated"), spell(inc.Folio)), nil
	}
	return lang, fmt.Sprintf(crisisText(lang, "hotline_declared"), spell(inc.Folio)), nil
}

// HotlineTranscription puts the transcription Twilio made of a hotline message on the
// incident the call declared; nothing when the call declared none.
func (c *CrisisLine) HotlineTranscription(ctx context.Context, from, callSID, text string) error {
	text = strings.TrimSpace(text)
	if text == "" || c.Transcriptions == nil {
		return nil
	}
	p, err := c.store.CrisisCaller(ctx, from)
	if err != nil {
		return nil // refused at the call already
	}
	outcome, incID, claim, err := c.store.ClaimCrisis(ctx, from, p.PersonID, hash("call:"+callSID), c.now(), c.window(), c.perHour())
	if err != nil {
		return err
	}
	switch outcome {
	case ClaimNew:
		return c.store.ReleaseCrisis(ctx, claim) // the call declared nothing
	case ClaimRateLimit:
		return nil // the call declared nothing (and could not)
	}
	if incID == "" {
		return optimum.Errorf(optimum.EUNAVAILABLE, "The call's declaration is in progress; try again.")
	}
	return c.Transcriptions(ctx, incID, p.PersonID, p.Name, text)
}

// caller finds who texts or calls from the number; refused is the answer when they may
// not declare (recorded with its reason).
func (c *CrisisLine) caller(ctx context.Context, via, from string) (CrisisCaller, string, string, error) {
	p, err := c.store.CrisisCaller(ctx, from)
	reason := ""
	switch optimum.ErrorCode(err) {
	case optimum.ENOTFOUND:
		reason = RefusedUnknown
	case optimum.ECONFLICT:
		reason = RefusedShared
	case "":
		switch {
		case p.Disabled:
			reason = RefusedDisabled
		case !p.Verified:
			reason = RefusedUnverified
		}
	default:
		return p, "es", "", err
	}
	lang := p.Language
	if lang != "en" {
		lang = "es"
	}
	if reason == "" {
		return p, lang, "", nil
	}
	return p, lang, crisisText(lang, reason), c.refuse(ctx, via, from, p.PersonID, reason, "")
}

// declare claims the report and declares it; outcome is ClaimNew when it declared.
func (c *CrisisLine) declare(ctx context.Context, via, from string, p CrisisCaller, words, key string) (incident.Incident, string, error) {
	outcome, incID, claim, err := c.store.ClaimCrisis(ctx, from, p.PersonID, hash(key), c.now(), c.window(), c.perHour())
	if err != nil {
		return incident.Incident{}, "", err
	}
	switch outcome {
	case ClaimRateLimit:
		return incident.Incident{}, outcome, c.refuse(ctx, via, from, p.PersonID, RefusedRateLimit, "")
	case ClaimRepeated:
		var inc incident.Incident
		if incID != "" {
			if inc, err = c.incidents.Get(ctx, incID); err != nil {
				return inc, outcome, err
			}
		}
		return inc, outcome, c.refuse(ctx, via, from, p.PersonID, RefusedRepeated, inc.Folio)
	}
	inc, err := c.declareClaimed(ctx, via, p, words, claim)
	if err != nil {
		if rerr := c.store.ReleaseCrisis(context.WithoutCancel(ctx), claim); rerr != nil {
			c.logger().Error("releasing a failed crisis claim", "claim", claim, "err", rerr)
		}
		return inc, "", err
	}
	if err := c.store.CrisisDeclared(context.WithoutCancel(ctx), claim, inc.ID); err != nil {
		// Declared but not linked: a repeat is answered "in progress" instead of with
		// the folio, and declares nothing twice.
		c.logger().Error("recording a crisis claim's incident", "claim", claim, "incident", inc.ID, "err", err)
	}
	c.logger().Info("crisis declared", "via", via, "from", from, "person", p.PersonID, "incident", inc.ID, "folio", inc.Folio)
	return inc, ClaimNew, nil
}

func (c *CrisisLine) declareClaimed(ctx context.Context, via string, p CrisisCaller, words, claim string) (incident.Incident, error) {
	var templates []incident.Template
	if c.templates != nil {
		var err error
		if templates, err = c.templates(ctx); err != nil {
			return incident.Incident{}, err
		}
	}
	d, _ := c.incidents.CrisisDeclaration(words, via, templates)
	inc, _, err := c.incidents.DeclareAsPerson(ctx, p.PersonID, p.Name, d, "crisis:"+claim)
	return inc, err
}

// matchesTemplate reports whether the words pick a scenario template.
func (c *CrisisLine) matchesTemplate(ctx context.Context, words string) (bool, error) {
	if c.templates == nil {
		return false, nil
	}
	ts, err := c.templates(ctx)
	if err != nil {
		return false, err
	}
	_, ok := incident.MatchTemplate(ts, words)
	return ok, nil
}

// refuse records why a text or a call declared nothing.
func (c *CrisisLine) refuse(ctx context.Context, via, from, personID, reason, folio string) error {
	c.logger().Warn("crisis declaration refused", "via", via, "reason", reason, "from", from, "person", personID)
	data := map[string]string{"via": via, "reason": reason, "from": from}
	if personID != "" {
		data["person_id"] = personID
	}
	if folio != "" {
		data["folio"] = folio
	}
	raw, _ := json.Marshal(data)
	return c.store.AppendEvent(ctx, optimum.Event{Type: EventDeclareRefused, At: c.now().UTC().Truncate(time.Millisecond), Actor: &optimum.System, Data: raw})
}

func (c *CrisisLine) perHour() int {
	if c.PerHour > 0 {
		return c.PerHour
	}
	return CrisisPerHour
}

func (c *CrisisLine) window() time.Duration {
	if c.Window > 0 {
		return c.Window
	}
	return CrisisRepeatWindow
}

func (c *CrisisLine) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// fold is the words as compared for repeats: lower case, white space collapsed.
func fold(words string) string { return strings.Join(strings.Fields(strings.ToLower(words)), " ") }

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
