package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// ChannelFigures counts an incident's deliveries on one channel.
type ChannelFigures struct {
	Channel   string `json:"channel"`
	Total     int    `json:"total"`
	Queued    int    `json:"queued"`
	Sent      int    `json:"sent"`
	Delivered int    `json:"delivered"`
	Failed    int    `json:"failed"`
	// Other counts any other status (undelivered, cancelled…).
	Other int `json:"other"`
}

// Report is the post-incident report, built from the incident and its timeline.
type Report struct {
	Incident Incident      `json:"incident"`
	Summary  string        `json:"summary"`
	Impact   ReportImpact  `json:"impact"`
	Timeline []ReportEntry `json:"timeline"`
	// TimeToAcknowledge and TimeToResolve compare the incident with its SLA.
	TimeToAcknowledge SLAFigure        `json:"time_to_acknowledge"`
	TimeToResolve     SLAFigure        `json:"time_to_resolve"`
	Acknowledgements  int              `json:"acknowledgements"`
	Escalations       int              `json:"escalations"`
	Updates           int              `json:"updates"`
	Reopenings        int              `json:"reopenings"`
	Deliveries        []ChannelFigures `json:"deliveries"`
	// Conclusions is space for the review: filled in by people, not computed.
	Conclusions Conclusions `json:"conclusions"`
	GeneratedAt time.Time   `json:"generated_at"`
}

// ReportImpact is what was hit and how badly.
type ReportImpact struct {
	Impact   Level    `json:"impact"`
	Urgency  Level    `json:"urgency"`
	Priority Priority `json:"priority"`
	Services []string `json:"services"`
	Location string   `json:"location"`
	Audience int      `json:"audience"`
	Teams    []string `json:"teams"`
}

// ReportEntry is one milestone of the timeline.
type ReportEntry struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"` // declared, acknowledged, escalated, update, resolved, reopened, closed, cancelled, reclassified, assigned
	Actor string    `json:"actor"`
	Text  string    `json:"text"`
}

// SLAFigure is a measured time against its target. Seconds is nil until it happened.
type SLAFigure struct {
	Seconds       *int64 `json:"seconds"`
	TargetSeconds int64  `json:"target_seconds"`
	// Met is nil while pending; false once the deadline passed or was missed.
	Met *bool `json:"met"`
}

// Conclusions are the review's contributing factors and actions.
type Conclusions struct {
	ContributingFactors []string `json:"contributing_factors"`
	Actions             []string `json:"actions"`
}

// Report builds the post-incident report of an incident.
func (d *Desk) Report(ctx context.Context, idOrFolio string) (Report, error) {
	inc, err := d.svc.Get(ctx, idOrFolio)
	if err != nil {
		return Report{}, err
	}
	events, err := d.svc.Timeline(ctx, inc.ID)
	if err != nil {
		return Report{}, err
	}
	figures, err := d.store.DeliveryFigures(ctx, inc.ID)
	if err != nil {
		return Report{}, err
	}
	return BuildReport(inc, events, figures, d.now()), nil
}

// BuildReport computes the report from the incident, its events (oldest first) and its
// delivery figures, as of now.
func BuildReport(inc Incident, events []optimum.Event, figures []ChannelFigures, now time.Time) Report {
	r := Report{Incident: inc, Timeline: []ReportEntry{}, Deliveries: figures, GeneratedAt: now,
		Conclusions: Conclusions{ContributingFactors: []string{}, Actions: []string{}},
		Impact: ReportImpact{Impact: inc.Impact, Urgency: inc.Urgency, Priority: inc.Priority, Services: inc.Services,
			Location: inc.Location, Audience: inc.Audience, Teams: inc.Teams}}
	if r.Deliveries == nil {
		r.Deliveries = []ChannelFigures{}
	}
	var firstAck, resolved *time.Time
	for _, e := range events {
		actor := ""
		if e.Actor != nil {
			actor = e.Actor.Name
		}
		var data map[string]any
		_ = json.Unmarshal(e.Data, &data)
		str := func(k string) string { s, _ := data[k].(string); return s }
		entry := func(kind, text string) {
			r.Timeline = append(r.Timeline, ReportEntry{At: e.At, Kind: kind, Actor: actor, Text: text})
		}
		switch {
		case e.Type == EventDeclared:
			entry("declared", inc.Title)
		case e.Type == EventAcknowledged:
			r.Acknowledgements++
			if firstAck == nil {
				at := e.At
				firstAck = &at
				entry("acknowledged", str("channel"))
			}
		case e.Type == EventTransitioned:
			to := str("to")
			switch to {
			case string(StatusAcknowledged), string(StatusInvestigating), string(StatusResolved):
				// Working on it or solving it owns it: the first of these acknowledges.
				if firstAck == nil {
					at := e.At
					firstAck = &at
				}
			}
			switch to {
			case string(StatusResolved):
				at := e.At
				resolved = &at
			case string(StatusReopened):
				r.Reopenings++
				resolved = nil
			}
			entry(to, str("note"))
		case e.Type == "incident.escalated": // escalation/ (a ladder step or a manual escalation)
			r.Escalations++
			text := str("reason")
			if to := str("to"); to != "" {
				text = strings.TrimSpace(str("kind") + " → " + to + ": " + text)
			}
			entry("escalated", text)
		case e.Type == "incident.escalation_exhausted" || e.Type == "incident.sla_breached":
			entry(strings.TrimPrefix(e.Type, "incident."), str("reason"))
		case e.Type == EventUpdatePosted:
			r.Updates++
			entry("update", strings.TrimSpace(str("known")+" "+str("doing")))
		case e.Type == EventReclassified:
			entry("reclassified", fmt.Sprintf("%s/%s → %s: %s", data["impact"], data["urgency"], data["priority"], str("note")))
		case e.Type == EventAssigned:
			entry("assigned", str("note"))
		case e.Type == EventConformity:
			entry("conformity", strings.TrimSpace(str("answer")+" "+str("comment")))
		}
	}
	r.TimeToAcknowledge = slaFigure(inc.CreatedAt, inc.SLA.AckBy, firstAck, now)
	r.TimeToResolve = slaFigure(inc.CreatedAt, inc.SLA.ResolveBy, resolved, now)
	r.Summary = r.SummaryIn("en")
	return r
}

func slaFigure(start, deadline time.Time, done *time.Time, now time.Time) SLAFigure {
	f := SLAFigure{TargetSeconds: int64(deadline.Sub(start) / time.Second)}
	if done != nil {
		s := int64(done.Sub(start) / time.Second)
		met := !done.After(deadline)
		f.Seconds, f.Met = &s, &met
	} else if now.After(deadline) {
		met := false
		f.Met = &met
	}
	return f
}

// SummaryIn is the report's one-paragraph summary in a language.
func (r Report) SummaryIn(language string) string {
	l, inc := r.Labels(language), r.Incident
	s := fmt.Sprintf("%s %s (%s): %s. %s: %s.", inc.Priority, inc.Folio, inc.CreatedAt.Format(time.RFC3339), inc.Title,
		l["status"], r.Word(language, string(inc.Status)))
	if inc.Resolution != "" {
		s += " " + l["solution"] + ": " + strings.TrimRight(inc.Resolution, ".") + "."
	}
	return s
}

// Word is a timeline kind, a status or a note the system writes, in a language.
func (r Report) Word(language, w string) string {
	if lang(language) == "es" {
		if es, ok := reportWordsES[w]; ok {
			return es
		}
		if strings.HasPrefix(w, "no answer from the requester within ") {
			return "sin respuesta de quien reportó en " + strings.TrimPrefix(w, "no answer from the requester within ")
		}
		if rest, ok := strings.CutPrefix(w, "closed with the requester's conformity: "); ok {
			return reportWordsES["closed with the requester's conformity"] + ": " + rest
		}
	}
	return w
}

var reportWordsES = map[string]string{
	"declared": "declarada", "acknowledged": "acuse", "investigating": "en investigación", "resolved": "resuelta",
	"verified": "verificada", "closed": "cerrada", "cancelled": "cancelada", "reopened": "reabierta",
	"escalated": "escalada", "update": "actualización", "reclassified": "reclasificada", "assigned": "asignada",
	"conformity": "conformidad", "accepted": "aceptada", "rejected": "rechazada",
	"escalation_exhausted": "escalamiento agotado", "sla_breached": "SLA vencido",
	"the requester confirmed the solution":   "quien reportó confirmó la solución",
	"closed with the requester's conformity": "cerrada con la conformidad de quien reportó",
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// reportLabels are the words of the Markdown and printable report per language.
var reportLabels = map[string]map[string]string{
	"es": {"report": "Informe posterior a la crisis", "summary": "Resumen", "impact": "Impacto", "timeline": "Cronología",
		"sla": "Tiempos frente al SLA", "ack": "Tiempo hasta el acuse", "resolve": "Tiempo hasta la resolución", "target": "objetivo",
		"met": "cumplido", "missed": "incumplido", "pending": "pendiente", "deliveries": "Envíos por canal", "channel": "Canal",
		"total": "Total", "queued": "En cola", "sent": "Enviados", "delivered": "Entregados", "failed": "Fallidos", "other": "Otros",
		"factors": "Factores contribuyentes", "actions": "Acciones", "fill": "(por completar en la revisión)",
		"services": "Servicios", "location": "Ubicación", "audience": "Destinatarios", "priority": "Prioridad",
		"when": "Cuándo", "what": "Qué", "who": "Quién", "none": "ninguno", "status": "Estado", "solution": "Solución"},
	"en": {"report": "Post-incident report", "summary": "Summary", "impact": "Impact", "timeline": "Timeline",
		"sla": "Times against the SLA", "ack": "Time to acknowledge", "resolve": "Time to resolve", "target": "target",
		"met": "met", "missed": "missed", "pending": "pending", "deliveries": "Deliveries per channel", "channel": "Channel",
		"total": "Total", "queued": "Queued", "sent": "Sent", "delivered": "Delivered", "failed": "Failed", "other": "Other",
		"factors": "Contributing factors", "actions": "Actions", "fill": "(to be completed in the review)",
		"services": "Services", "location": "Location", "audience": "Audience", "priority": "Priority",
		"when": "When", "what": "What", "who": "Who", "none": "none", "status": "Status", "solution": "Solution"},
}

// Labels returns the report's words in a language (Spanish unless "en").
func (r Report) Labels(language string) map[string]string { return reportLabels[lang(language)] }

// FormatSLA writes a figure as "12m 30s (target 5m, missed)".
func (r Report) FormatSLA(f SLAFigure, language string) string {
	l := r.Labels(language)
	state := l["pending"]
	if f.Met != nil {
		state = l["missed"]
		if *f.Met {
			state = l["met"]
		}
	}
	got := "—"
	if f.Seconds != nil {
		got = (time.Duration(*f.Seconds) * time.Second).String()
	}
	return fmt.Sprintf("%s (%s %s, %s)", got, l["target"], time.Duration(f.TargetSeconds)*time.Second, state)
}

// Markdown renders the report in a language, ready to paste into a review document.
func (r Report) Markdown(language string) string {
	l := r.Labels(language)
	var b strings.Builder
	cell := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }
	inc := r.Incident
	fmt.Fprintf(&b, "# %s: %s %s\n\n", l["report"], inc.Folio, cell(inc.Title))
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", l["summary"], r.SummaryIn(language))
	fmt.Fprintf(&b, "## %s\n\n- %s: %s (%s × %s)\n- %s: %s\n- %s: %s\n- %s: %d\n\n", l["impact"],
		l["priority"], inc.Priority, inc.Impact, inc.Urgency, l["services"], orNone(strings.Join(inc.Services, ", "), l),
		l["location"], orNone(inc.Location, l), l["audience"], inc.Audience)
	fmt.Fprintf(&b, "## %s\n\n| %s | %s | %s | |\n|---|---|---|---|\n", l["timeline"], l["when"], l["what"], l["who"])
	for _, e := range r.Timeline {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.At.Format(time.RFC3339), r.Word(language, e.Kind), cell(e.Actor), cell(r.Word(language, e.Text)))
	}
	fmt.Fprintf(&b, "\n## %s\n\n- %s: %s\n- %s: %s\n\n", l["sla"], l["ack"], r.FormatSLA(r.TimeToAcknowledge, language),
		l["resolve"], r.FormatSLA(r.TimeToResolve, language))
	fmt.Fprintf(&b, "## %s\n\n| %s | %s | %s | %s | %s | %s | %s |\n|---|---|---|---|---|---|---|\n", l["deliveries"],
		l["channel"], l["total"], l["queued"], l["sent"], l["delivered"], l["failed"], l["other"])
	for _, c := range r.Deliveries {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", c.Channel, c.Total, c.Queued, c.Sent, c.Delivered, c.Failed, c.Other)
	}
	fmt.Fprintf(&b, "\n## %s\n\n%s\n\n## %s\n\n%s\n", l["factors"], l["fill"], l["actions"], l["fill"])
	return b.String()
}

func orNone(s string, l map[string]string) string {
	if s == "" {
		return l["none"]
	}
	return s
}
