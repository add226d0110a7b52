package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Notices takes the desk's messages off the event log and out to people's phones, the
// way the escalation notifier sends the first alert: what the requester is told (the
// folio, a question, the conformity link) goes to the requester by SMS and push when the
// requester is a directory person with them; a stakeholder update goes to the whole
// audience by push, and by SMS only when the update asks for it. It is a consumer with
// its own cursor, so each event is turned into deliveries once, in the transaction that
// advances the cursor.
type Notices struct {
	store NoticeStore
	opt   NoticeOptions
	ids   <-chan int64
}

// NoticeStore is what Notices needs of the database.
type NoticeStore interface {
	// Consume runs fn for up to limit events after the consumer's cursor, in order, in
	// one transaction that also advances the cursor.
	Consume(ctx context.Context, consumer string, limit int, fn func(NoticeTx, optimum.Event) error) (int, error)
}

// NoticeTx is the work done with one event.
type NoticeTx interface {
	// Audience returns the incident's active recipients with their addresses.
	Audience(ctx context.Context, incidentID string) ([]Contact, error)
	// Contact returns the directory person behind an actor id (a person, or a user
	// linked to one); false when there is none.
	Contact(ctx context.Context, actorID string) (Contact, bool, error)
	// Message returns a message to a requester by id.
	Message(ctx context.Context, id string) (Message, error)
	// Send queues the notices for the dispatcher.
	Send(ctx context.Context, ns []Notice) error
}

// Contact is a person with the addresses they can be reached at now.
type Contact struct {
	PersonID    string
	Name        string
	Language    string
	Phone       string // E.164, "" if none
	SMSOptedOut bool
	Push        []string // PushSubscription JSON
	Email       string   // "" if none
}

// Notice is one message to one address, ready to queue as a delivery.
type Notice struct {
	IncidentID string
	PersonID   string
	// Kind is "update", "bridge" or "requester": a newer push of the same kind replaces an older one.
	Kind     string
	Channel  string // "sms", "webpush" or "email"
	To       string
	Language string
	Title    string
	Text     string
	URL      string
	At       time.Time
}

// NoticeOptions configure Notices.
type NoticeOptions struct {
	// PublicURL is the base of the links in the messages.
	PublicURL string
	// Channels are the channels with a configured sender ("sms", "webpush", "email").
	Channels []string
	// Location is the time zone of the times in messages (the next update at 14:30).
	Location *time.Location
	Wake     func()
	Poll     time.Duration
	Logger   *slog.Logger
	// SMSNoLinkCountries are country calling codes ("52": Mexico) whose update SMS carry
	// no link: carriers there block automated messages with URLs. sms2.
	SMSNoLinkCountries []string
}

// NoticesConsumer is the cursor's name in the event log.
const NoticesConsumer = "incident.notices"

// NewNotices returns the consumer; ids (a bus subscription) wakes it up.
func NewNotices(store NoticeStore, ids <-chan int64, opt NoticeOptions) *Notices {
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
	return &Notices{store: store, opt: opt, ids: ids}
}

// Run processes the log until ctx is done.
func (n *Notices) Run(ctx context.Context) error {
	return runConsumer(ctx, n.Step, n.ids, n.opt.Poll, n.opt.Logger, "notices")
}

// runConsumer runs step until it has nothing left, then waits for the bus (ids) or the
// poll, until ctx is done: the loop of the desk's consumers of the event log.
func runConsumer(ctx context.Context, step func(context.Context) (int, error), ids <-chan int64, every time.Duration, log *slog.Logger, name string) error {
	poll := time.NewTicker(every)
	defer poll.Stop()
	for {
		for {
			done, err := step(ctx)
			if err != nil && ctx.Err() == nil {
				log.Error(name+": processing the event log", "err", err)
			}
			if done == 0 || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ids:
		case <-poll.C:
		}
	}
}

// Step processes the next batch of events and returns how many it processed.
func (n *Notices) Step(ctx context.Context) (int, error) {
	queued := 0
	done, err := n.store.Consume(ctx, NoticesConsumer, 100, func(tx NoticeTx, e optimum.Event) error {
		ns, err := n.notices(ctx, tx, e)
		if err != nil || len(ns) == 0 {
			return err
		}
		queued += len(ns)
		return tx.Send(ctx, ns)
	})
	if queued > 0 {
		n.opt.Wake()
	}
	return done, err
}

func (n *Notices) notices(ctx context.Context, tx NoticeTx, e optimum.Event) ([]Notice, error) {
	var data struct {
		MessageID string `json:"message_id"`
		Message   *struct {
			MessageID string `json:"message_id"`
		} `json:"message"`
		Known        string     `json:"known"`
		Doing        string     `json:"doing"`
		NextUpdateAt *time.Time `json:"next_update_at"`
		SMS          bool       `json:"sms"`
		Via          string     `json:"via"`
	}
	switch e.Type {
	case EventDeclared, EventMessageSent, EventUpdatePosted, EventBridgeOpened:
	default:
		return nil, nil
	}
	if len(e.Data) > 0 {
		if err := json.Unmarshal(e.Data, &data); err != nil {
			return nil, fmt.Errorf("decode event data: %w", err)
		}
	}
	var inc Incident
	if err := json.Unmarshal(e.Incident, &inc); err != nil {
		return nil, fmt.Errorf("decode incident: %w", err)
	}
	if e.Type == EventBridgeOpened && inc.Bridge != nil { // bridge: everyone alerted gets the number and PIN
		people, err := tx.Audience(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		var out []Notice
		for _, c := range people {
			title, text := bridgeNotice(inc, c.Language)
			out = append(out, n.to(c, inc, "bridge", title, text, n.pageURL(inc), e.At, true)...)
		}
		return out, nil
	}
	if e.Type == EventUpdatePosted {
		people, err := tx.Audience(ctx, inc.ID)
		if err != nil {
			return nil, err
		}
		var out []Notice
		for _, c := range people {
			title, text := n.updateText(inc, c.Language, data.Known, data.Doing, data.NextUpdateAt)
			out = append(out, n.to(c, inc, "update", title, text, n.pageURL(inc), e.At, data.SMS)...)
		}
		return out, nil
	}
	id := data.MessageID
	if data.Message != nil {
		id = data.Message.MessageID
	}
	if id == "" {
		return nil, nil
	}
	m, err := tx.Message(ctx, id)
	if err != nil {
		return nil, err
	}
	c, ok, err := tx.Contact(ctx, m.To.ID)
	if err != nil || !ok {
		return nil, err
	}
	c.Language = m.Language
	url := m.URL
	if url == "" {
		url = n.pageURL(inc)
	}
	// A CRISIS text got its folio in the SMS answer: it is not texted twice.
	sms := !(e.Type == EventDeclared && data.Via == ViaSMS)
	return n.to(c, inc, "requester", "OPTIMUM · "+inc.Folio, m.Text, url, e.At, sms), nil
}

// to addresses one text to a person on each configured channel they have.
func (n *Notices) to(c Contact, inc Incident, kind, title, text, url string, at time.Time, sms bool) []Notice {
	var out []Notice
	for _, ch := range n.opt.Channels {
		var addrs []string
		switch ch {
		case "webpush":
			addrs = c.Push
		case "sms":
			if sms && c.Phone != "" && !c.SMSOptedOut {
				addrs = []string{c.Phone}
			}
		case "email":
			// Email costs nothing and is read later in full: every notice goes by email
			// too, as the SMS would, without asking.
			if c.Email != "" {
				addrs = []string{c.Email}
			}
		}
		for _, a := range addrs {
			body, link := text, url
			if ch == "sms" && kind == "update" && n.noLink(a) {
				link = "" // the update reads alone; the page is one tap away in the app
			}
			if ch == "sms" && link != "" && !strings.Contains(body, link) {
				body = clipText(body, 480) + " " + link
			}
			out = append(out, Notice{IncidentID: inc.ID, PersonID: c.PersonID, Kind: kind, Channel: ch, To: a, Language: lang(c.Language),
				Title: title, Text: body, URL: link, At: at})
		}
	}
	return out
}

// noLink reports whether the E.164 phone is in a country whose SMS carry no link.
func (n *Notices) noLink(phone string) bool {
	digits := strings.TrimPrefix(phone, "+")
	for _, cc := range n.opt.SMSNoLinkCountries {
		if cc != "" && strings.HasPrefix(digits, cc) {
			return true
		}
	}
	return false
}

func (n *Notices) pageURL(inc Incident) string { return n.opt.PublicURL + "/#/incidente/" + inc.Folio }

var updateTexts = map[string][3]string{
	"es": {"%sActualización %s", "%sActualización de %s (%s): %s%s", " Próxima actualización: %s."},
	"en": {"%sUpdate %s", "%sUpdate on %s (%s): %s%s", " Next update: %s."},
}

func (n *Notices) updateText(inc Incident, language, known, doing string, next *time.Time) (string, string) {
	l := lang(language)
	f := updateTexts[l]
	prefix := ""
	if inc.Drill {
		prefix = messageTexts[l]["drill"]
	}
	body := strings.TrimSpace(known)
	if doing = strings.TrimSpace(doing); doing != "" {
		body = strings.TrimRight(body, ".") + ". " + doing
	}
	nextText := ""
	if next != nil {
		nextText = fmt.Sprintf(f[2], next.In(n.opt.Location).Format("15:04 MST"))
	}
	// The text names the crisis and its folio: an update SMS is read alone, maybe days
	// after the alert.
	return fmt.Sprintf(f[0], prefix, inc.Folio), fmt.Sprintf(f[1], prefix, clipText(inc.Title, 80), inc.Folio, clipText(body, 400), nextText)
}

func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
