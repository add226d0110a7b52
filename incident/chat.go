package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Chat takes the event log to team chats and outbound webhooks. A team's chat channel
// (Microsoft Teams, Slack) gets the alert, the first acknowledgement, the updates and the
// resolution (or cancellation, closing, reopening) of the incidents the team is in the
// audience of, and the functional escalations to the team, with a button to the incident, in the channel's language; a drill's posts
// start SIMULACRO / DRILL. A webhook gets every event of the types it subscribed to, as
// JSON. It is a consumer with its own cursor: the posts of an event are queued in the
// transaction that advances the cursor, so a crash loses none and queues none twice.
type Chat struct {
	store ChatStore
	opt   ChatOptions
	ids   <-chan int64
}

// ChatStore is what Chat needs of the database.
type ChatStore interface {
	// Consume runs fn for up to limit events after the consumer's cursor, in order, in
	// one transaction that also advances the cursor.
	Consume(ctx context.Context, consumer string, limit int, fn func(ChatTx, optimum.Event) error) (int, error)
}

// ChatTx is the work done with one event.
type ChatTx interface {
	// Subscriptions returns the subscriptions that are neither deleted nor broken.
	Subscriptions(ctx context.Context) ([]ChatSubscription, error)
	// Post queues the posts for the chat dispatcher.
	Post(ctx context.Context, ps []ChatPost) error
}

// ChatSubscription is where posts go.
type ChatSubscription struct {
	ID   string
	Kind string // "teams", "slack" or "webhook"
	// Team is the team whose incidents a chat channel gets ("" for a webhook).
	Team     string
	Language string
	// Events are the event types a webhook gets: exact types, "prefix.*" or "*".
	Events []string
}

// ChatPost is one post of one event to one subscription.
type ChatPost struct {
	SubscriptionID string
	Kind           string
	EventID        int64
	IncidentID     string
	At             time.Time
	Title          string
	Text           string
	Facts          [][2]string
	Button         string
	URL            string
	Drill          bool
	// Body is a webhook's JSON payload.
	Body json.RawMessage
}

// ChatOptions configure Chat.
type ChatOptions struct {
	// PublicURL is the base of the button's link.
	PublicURL string
	// Location is the time zone of the times in posts (24-hour clock).
	Location *time.Location
	Wake     func()
	Poll     time.Duration
	Logger   *slog.Logger
}

// ChatConsumer is the cursor's name in the event log.
const ChatConsumer = "incident.chat"

// NewChat returns the consumer; ids (a bus subscription) wakes it up.
func NewChat(store ChatStore, ids <-chan int64, opt ChatOptions) *Chat {
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Wake == nil {
		opt.Wake = func() {}
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	return &Chat{store: store, opt: opt, ids: ids}
}

// Run processes the log until ctx is done.
func (c *Chat) Run(ctx context.Context) error {
	return runConsumer(ctx, c.Step, c.ids, c.opt.Poll, c.opt.Logger, "chat")
}

// Step processes the next batch of events and returns how many it processed.
func (c *Chat) Step(ctx context.Context) (int, error) {
	queued := 0
	done, err := c.store.Consume(ctx, ChatConsumer, 100, func(tx ChatTx, e optimum.Event) error {
		ps, err := c.posts(ctx, tx, e)
		if err != nil || len(ps) == 0 {
			return err
		}
		queued += len(ps)
		return tx.Post(ctx, ps)
	})
	if queued > 0 {
		c.opt.Wake()
	}
	return done, err
}

func (c *Chat) posts(ctx context.Context, tx ChatTx, e optimum.Event) ([]ChatPost, error) {
	if strings.HasPrefix(e.Type, "chat.") || e.Type == "consumer.event_parked" {
		return nil, nil // the chat's own bookkeeping, never posted anywhere
	}
	subs, err := tx.Subscriptions(ctx)
	if err != nil || len(subs) == 0 {
		return nil, err
	}
	var inc *Incident
	if len(e.Incident) > 0 && strings.HasPrefix(e.Type, "incident.") {
		inc = new(Incident)
		if err := json.Unmarshal(e.Incident, inc); err != nil {
			return nil, fmt.Errorf("decode incident: %w", err)
		}
	}
	var out []ChatPost
	for _, s := range subs {
		if s.Kind == "webhook" {
			if !WebhookWants(s.Events, e.Type) {
				continue
			}
			body, err := webhookBody(e, inc)
			if err != nil {
				return nil, err
			}
			out = append(out, ChatPost{SubscriptionID: s.ID, Kind: s.Kind, EventID: e.ID, IncidentID: e.IncidentID, At: e.At,
				Title: e.Type, Body: body, Drill: inc != nil && inc.Drill})
			continue
		}
		if inc == nil || inc.Canary {
			continue
		}
		escalatedTo := e.Type == eventEscalated && escalatedTeam(e) == s.Team
		if !escalatedTo && !slices.Contains(inc.Teams, s.Team) {
			continue
		}
		p, ok, err := c.teamPost(e, *inc, lang(s.Language), escalatedTo)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		p.SubscriptionID, p.Kind = s.ID, s.Kind
		out = append(out, p)
	}
	return out, nil
}

// WebhookWants reports whether a webhook subscribed to the patterns gets an event of
// the type: an exact type, "prefix.*" for every type under prefix, or "*" for every
// event except the once-a-second delivery progress (which "incident.*" does not match
// either; only its exact name does).
func WebhookWants(patterns []string, typ string) bool {
	for _, p := range patterns {
		switch {
		case p == typ:
			return true
		case typ == "incident.deliveries_progress":
		case p == "*":
			return true
		case strings.HasSuffix(p, ".*") && strings.HasPrefix(typ, strings.TrimSuffix(p, "*")):
			return true
		}
	}
	return false
}

// webhookBody is the payload of an event, in the shape the Standard Webhooks
// specification suggests: {"type", "timestamp", "data"}.
func webhookBody(e optimum.Event, inc *Incident) (json.RawMessage, error) {
	data := map[string]any{"event_id": e.ID}
	if inc != nil {
		data["incident"] = json.RawMessage(e.Incident)
		data["drill"] = inc.Drill
	}
	if len(e.Data) > 0 {
		data["data"] = json.RawMessage(e.Data)
	}
	if e.Actor != nil {
		data["actor"] = map[string]string{"id": e.Actor.ID, "name": e.Actor.Name}
	}
	b, err := json.Marshal(map[string]any{"type": e.Type, "timestamp": e.At.UTC().Format(time.RFC3339Nano), "data": data})
	if err != nil {
		return nil, fmt.Errorf("webhook body: %w", err)
	}
	return b, nil
}

// eventEscalated is escalation.EventEscalated (escalation imports this package).
const eventEscalated = "incident.escalated"

// escalatedTeam is the team a functional escalation went to ("" for any other).
func escalatedTeam(e optimum.Event) string {
	var d struct {
		Kind string `json:"kind"`
		To   string `json:"to"`
	}
	if json.Unmarshal(e.Data, &d) != nil || d.Kind != "functional" {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(d.To))
}

// teamPost renders what a team's channel is told of the event, if anything; toTeam says
// the event is a functional escalation to the channel's team.
func (c *Chat) teamPost(e optimum.Event, inc Incident, l string, toTeam bool) (ChatPost, bool, error) {
	t := chatTexts[l]
	var d struct {
		Known        string     `json:"known"`
		Doing        string     `json:"doing"`
		NextUpdateAt *time.Time `json:"next_update_at"`
		To           Status     `json:"to"`
		Note         string     `json:"note"`
		Name         string     `json:"name"`
		Reason       string     `json:"reason"`
	}
	switch e.Type {
	case EventDeclared, EventAcknowledged, EventUpdatePosted, EventTransitioned, eventEscalated:
	default:
		return ChatPost{}, false, nil // other events' data have other shapes
	}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return ChatPost{}, false, fmt.Errorf("decode event data: %w", err)
		}
	}
	var head, text string
	switch e.Type {
	case EventDeclared:
		head, text = t["declared"], clipText(inc.Description, 600)
	case EventAcknowledged:
		if inc.AckCount != 1 {
			return ChatPost{}, false, nil // the channel hears of the first acknowledgement only
		}
		name := d.Name
		if name == "" && e.Actor != nil {
			name = e.Actor.Name
		}
		head, text = t["acknowledged"], fmt.Sprintf(t["acknowledged_by"], name)
	case EventUpdatePosted:
		head = t["update"]
		text = strings.TrimSpace(d.Known)
		if doing := strings.TrimSpace(d.Doing); doing != "" {
			text = strings.TrimRight(text, ".") + ". " + doing
		}
		text = clipText(text, 1200)
		if d.NextUpdateAt != nil {
			if text != "" && !strings.HasSuffix(text, ".") {
				text += "."
			}
			text += fmt.Sprintf(t["next_update"], d.NextUpdateAt.In(c.opt.Location).Format("15:04"))
		}
	case eventEscalated:
		if !toTeam {
			return ChatPost{}, false, nil // a step of the ladder: the people are paged, the channel already knows
		}
		name := ""
		if e.Actor != nil {
			name = e.Actor.Name
		}
		head, text = t["escalated"], fmt.Sprintf(t["escalated_by"], name, clipText(d.Reason, 600))
	case EventTransitioned:
		switch d.To {
		case StatusResolved, StatusClosed, StatusCancelled, StatusReopened:
			head, text = t[string(d.To)], clipText(d.Note, 600)
		default:
			return ChatPost{}, false, nil
		}
	default:
		return ChatPost{}, false, nil
	}
	prefix := ""
	if inc.Drill {
		prefix = t["drill"]
	}
	facts := [][2]string{{t["priority"], string(inc.Priority)}, {t["status"], statusLabel(l, inc.Status)}, {t["folio"], inc.Folio}}
	if len(inc.Services) > 0 {
		facts = append(facts, [2]string{t["services"], strings.Join(inc.Services, ", ")})
	}
	if inc.Location != "" {
		facts = append(facts, [2]string{t["location"], inc.Location})
	}
	if e.Type == EventDeclared && inc.Reporter.Name != "" {
		facts = append(facts, [2]string{t["reporter"], inc.Reporter.Name})
	}
	if e.Type == EventDeclared && !inc.SLA.AckBy.IsZero() {
		facts = append(facts, [2]string{t["ack_by"], inc.SLA.AckBy.In(c.opt.Location).Format("15:04")})
	}
	return ChatPost{
		EventID: e.ID, IncidentID: inc.ID, At: e.At, Drill: inc.Drill,
		Title:  fmt.Sprintf("%s%s %s · %s · %s", prefix, head, inc.Priority, inc.Folio, clipText(inc.Title, 120)),
		Text:   text,
		Facts:  facts,
		Button: t["button"],
		URL:    c.opt.PublicURL + "/#/incidente/" + inc.Folio,
	}, true, nil
}

// chatTexts are what team chats are told, per language. They say "tú", like every
// message people receive from the system.
var chatTexts = map[string]map[string]string{
	"es": {
		"drill":           "SIMULACRO · ",
		"declared":        "Alerta",
		"acknowledged":    "Confirmado",
		"acknowledged_by": "%s confirmó que recibió la alerta y la atiende.",
		"escalated":       "Escalado a tu equipo",
		"escalated_by":    "%s escaló la crisis a tu equipo: %s",
		"update":          "Actualización",
		"next_update":     " Próxima actualización: %s.",
		"resolved":        "Resuelto",
		"closed":          "Cerrado",
		"cancelled":       "Cancelado",
		"reopened":        "Reabierto",
		"priority":        "Prioridad",
		"status":          "Estado",
		"folio":           "Folio",
		"services":        "Servicios",
		"location":        "Ubicación",
		"reporter":        "Declarado por",
		"ack_by":          "Confirmar antes de",
		"button":          "Abre el incidente",
	},
	"en": {
		"drill":           "DRILL · ",
		"declared":        "Alert",
		"acknowledged":    "Acknowledged",
		"acknowledged_by": "%s acknowledged the alert and is on it.",
		"escalated":       "Escalated to your team",
		"escalated_by":    "%s escalated the crisis to your team: %s",
		"update":          "Update",
		"next_update":     " Next update: %s.",
		"resolved":        "Resolved",
		"closed":          "Closed",
		"cancelled":       "Cancelled",
		"reopened":        "Reopened",
		"priority":        "Priority",
		"status":          "Status",
		"folio":           "Reference",
		"services":        "Services",
		"location":        "Location",
		"reporter":        "Declared by",
		"ack_by":          "Acknowledge by",
		"button":          "Open the incident",
	},
}

var statusLabels = map[string]map[Status]string{
	"es": {StatusDeclared: "Declarado", StatusAcknowledged: "Confirmado", StatusInvestigating: "En investigación",
		StatusResolved: "Resuelto", StatusVerified: "Verificado", StatusClosed: "Cerrado", StatusCancelled: "Cancelado", StatusReopened: "Reabierto"},
	"en": {StatusDeclared: "Declared", StatusAcknowledged: "Acknowledged", StatusInvestigating: "Investigating",
		StatusResolved: "Resolved", StatusVerified: "Verified", StatusClosed: "Closed", StatusCancelled: "Cancelled", StatusReopened: "Reopened"},
}

func statusLabel(l string, s Status) string {
	if v, ok := statusLabels[l][s]; ok {
		return v
	}
	return string(s)
}
