// Package escalation decides who is alerted, when, and on which channel, until someone
// owns the incident. The alert at declaration is the first step of the incident's
// ladder: the audience and the step's targets are paged at once, each with a one-tap
// acknowledgement link of their own; then each person is nagged on their reminder
// schedule until they acknowledge, and the ladder climbs while nobody owns it.
package escalation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/incident"
)

// Contact is a person an alert goes to, with their addresses now.
type Contact struct {
	PersonID    string
	Name        string
	Language    string
	Phone       string // E.164, "" if none
	SMSOptedOut bool
	// Push holds the person's browser push subscriptions (PushSubscription JSON).
	Push []string
	// Email is the person's email address, "" if none (channel email).
	Email string
	// ManagerID is the person's manager ("" when none), for hierarchical escalation.
	ManagerID string
	// PhoneVerified says the person proved Phone is theirs. Phone2 is the second phone
	// they keep in "Mi perfil" ("" if none); Phone2Verified says they proved it.
	PhoneVerified  bool
	Phone2         string
	Phone2Verified bool
	// Order is the person's order of channels ("Mi perfil", channel_order): empty for
	// the ladder's order.
	Order []string
}

// defaultSchedule nags the audience of an incident no ladder fits: the alert itself.
var defaultSchedule = []Reminder{{After: 0, Channels: []string{broadcast.ChannelWebPush, broadcast.ChannelSMS, broadcast.ChannelEmail}}}

// Phones returns the number SMS and calls go to first and the one they go to, once,
// when the first fails for good (the fallback; "" for none). The directory's phone
// (Phone, from HR, SCIM or an import) is used verified or not, as it always was; the
// second phone, typed by the person in "Mi perfil", only once they proved it (a typo
// must not send a crisis to a stranger). The proved number goes first: Phone2 leads when
// Phone is unverified (or missing) and Phone2 is verified.
func (c Contact) Phones() (first, fallback string) {
	second := ""
	if c.Phone2Verified && c.Phone2 != c.Phone {
		second = c.Phone2
	}
	switch {
	case c.Phone == "":
		return second, ""
	case second != "" && !c.PhoneVerified:
		return second, c.Phone
	}
	return c.Phone, second
}

// Ordered returns the channels of a reminder in the order the person is to be reached
// on them: the ones they put in their channel order first, in their order, then the
// others in the ladder's order. It adds no channel the ladder did not name and drops
// none it did: the ladder decides which channels, the person which goes first.
func (c Contact) Ordered(channels []string) []string {
	out := make([]string, 0, len(channels))
	for _, ch := range c.Order {
		if slices.Contains(channels, ch) && !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	for _, ch := range channels {
		if !slices.Contains(out, ch) {
			out = append(out, ch)
		}
	}
	return out
}

// DefaultChannelGap is how long after one channel a person who chose an order of
// channels is reached on the next (Options.ChannelGap).
const DefaultChannelGap = 10 * time.Second

// send queues one message per address of the person on each of the channels (those with
// a configured sender), each with the slot of a one-tap acknowledgement link, filled
// when it is sent (links.go); a reminder says so. audience marks the general audience's
// first alert, which goes after the people a step targets and reminders when a channel
// is the bottleneck (broadcast.LaneOf). It returns how many deliveries it queued.
//
// The channels go in the person's order (Contact.Ordered). A person who chose an order
// is reached on each channel that has an address ChannelGap after the one before, so
// the first one they chose is really the first to reach them (the channels have lanes
// of their own and would otherwise race); an acknowledgement in between cancels what
// is still queued. Without a chosen order the channels go out together, as before. SMS
// and calls go to Contact.Phones' first number, naming the other as the fallback the
// queue sends the same message to if the first fails for good. Once the first number
// failed for good on the incident, the person's later messages go to the other first.
func (w *work) send(ctx context.Context, inc incident.Incident, c Contact, channels []string, reminder, audience bool, now time.Time) (int, error) {
	var ds []broadcast.Delivery
	var link string
	first, fallback := c.Phones()
	if fallback != "" && (slices.Contains(channels, broadcast.ChannelSMS) || slices.Contains(channels, broadcast.ChannelVoice)) {
		// A number that failed for good on this incident is not tried first again: the
		// reminders go straight to the other one.
		dead, err := w.tx.FailedPhones(ctx, inc.ID, c.PersonID)
		if err != nil {
			return 0, err
		}
		if slices.Contains(dead, first) && !slices.Contains(dead, fallback) {
			first, fallback = fallback, ""
		}
	}
	due := now
	for _, ch := range c.Ordered(channels) {
		if !slices.Contains(w.e.opt.Channels, ch) || (len(inc.Channels) > 0 && !slices.Contains(inc.Channels, ch)) {
			continue // no sender, or not a channel this incident (a drill) may use
		}
		var addrs []string
		phone := false
		switch ch {
		case broadcast.ChannelWebPush:
			addrs = c.Push
		case broadcast.ChannelSMS:
			if first != "" && !c.SMSOptedOut {
				addrs, phone = []string{first}, true
			}
		case broadcast.ChannelVoice:
			if first != "" {
				addrs, phone = []string{first}, true
			}
		case broadcast.ChannelEmail:
			if c.Email != "" {
				addrs = []string{c.Email}
			}
		}
		if len(addrs) > 0 && len(ds) > 0 && len(c.Order) > 0 {
			due = due.Add(w.e.opt.ChannelGap)
		}
		for _, addr := range addrs {
			if link == "" {
				// The token is made when the message is sent (Links.Prepare): the
				// queued message keeps only its slot.
				link = w.e.opt.PublicURL + "/a/" + LinkSlot
			}
			render := w.e.templates.Render
			if reminder {
				render = w.e.templates.RenderReminder
			}
			chLink := link
			switch {
			case ch == broadcast.ChannelEmail:
				chLink += "?via=email" // the acknowledgement is then recorded as by email
			case ch == broadcast.ChannelSMS && (broadcast.CountryOf(addr, w.e.opt.SMSNoLinkCountries) != "" ||
				(fallback != "" && broadcast.CountryOf(fallback, w.e.opt.SMSNoLinkCountries) != "")):
				// sms2: the text asks for a reply instead (smsText's noLink). The copy to
				// the fallback number is the same text, so it has no link either when
				// that number is in such a country; a reply from either number counts.
				chLink = ""
			}
			msg, err := render(ch, c.Language, inc, chLink)
			if err != nil {
				return 0, err
			}
			if reminder && ch != broadcast.ChannelSMS {
				markReminder(&msg, ch, inc.Drill) // an SMS says it in its own text
			}
			msg.DeliveryID, msg.Channel, msg.To = optimum.NewID("dlv"), ch, addr
			msg.Topic, msg.TTL = inc.ID, w.e.opt.PushTTL
			d := broadcast.Delivery{Message: msg, Subject: inc.ID, Recipient: c.PersonID, DueAt: due, Deadline: due.Add(w.e.opt.RetryFor),
				Priority: string(inc.Priority), Drill: inc.Drill, Audience: audience}
			if phone {
				d.Fallback = fallback
			}
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0, nil
	}
	w.queued += len(ds)
	if w.collect {
		w.pending = append(w.pending, ds...)
		return len(ds), nil
	}
	return len(ds), w.tx.Enqueue(ctx, ds)
}

// reminderWord starts a reminder, per language; a drill still says so first.
var reminderWord = map[string][2]string{
	"es": {"RECORDATORIO: ", "Recordatorio. "},
	"en": {"REMINDER: ", "Reminder. "},
}

// markReminder marks a message as a reminder: SMS and push say it right after the drill
// word (if any); a call says it after its opening sentence.
func markReminder(m *broadcast.Message, channel string, drill bool) {
	words, ok := reminderWord[m.Language]
	if !ok {
		words = reminderWord["es"]
	}
	insert := func(s, word string) string {
		if drill {
			for _, p := range []string{"SIMULACRO. ", "DRILL. ", "SIMULACRO · ", "DRILL · "} {
				if strings.HasPrefix(s, p) {
					return p + word + s[len(p):]
				}
			}
		}
		return word + s
	}
	switch channel {
	case broadcast.ChannelSMS:
		m.Text = insert(m.Text, words[0])
	case broadcast.ChannelWebPush:
		m.Title = insert(m.Title, words[0])
	case broadcast.ChannelEmail:
		// The subject is what an inbox shows; the text says it too.
		m.Title = insert(m.Title, words[0])
		m.Text = insert(m.Text, words[0])
	case broadcast.ChannelVoice:
		m.Title = strings.TrimSpace(m.Title + " " + words[1])
	}
}

const tokenAlphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"

// newToken returns a short unguessable token for a link in an SMS: 14 characters from a
// 56-letter alphabet without look-alikes, about 81 bits.
func newToken() string {
	b := make([]byte, 14)
	max := big.NewInt(int64(len(tokenAlphabet)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, max)
		b[i] = tokenAlphabet[v.Int64()]
	}
	return string(b)
}

// HashToken is how a link token is stored: only its SHA-256.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
