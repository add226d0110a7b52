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
}

// defaultSchedule nags the audience of an incident no ladder fits: the alert itself.
var defaultSchedule = []Reminder{{After: 0, Channels: []string{broadcast.ChannelWebPush, broadcast.ChannelSMS, broadcast.ChannelEmail}}}

// send queues one message per address of the person on each of the channels (those with
// a configured sender), each with the slot of a one-tap acknowledgement link, filled
// when it is sent (links.go); a reminder says so. audience marks the general audience's
// first alert, which goes after the people a step targets and reminders when a channel
// is the bottleneck (broadcast.LaneOf). It returns how many deliveries it queued.
func (w *work) send(ctx context.Context, inc incident.Incident, c Contact, channels []string, reminder, audience bool, now time.Time) (int, error) {
	var ds []broadcast.Delivery
	var link string
	for _, ch := range channels {
		if !slices.Contains(w.e.opt.Channels, ch) || (len(inc.Channels) > 0 && !slices.Contains(inc.Channels, ch)) {
			continue // no sender, or not a channel this incident (a drill) may use
		}
		var addrs []string
		switch ch {
		case broadcast.ChannelWebPush:
			addrs = c.Push
		case broadcast.ChannelSMS:
			if c.Phone != "" && !c.SMSOptedOut {
				addrs = []string{c.Phone}
			}
		case broadcast.ChannelVoice:
			if c.Phone != "" {
				addrs = []string{c.Phone}
			}
		case broadcast.ChannelEmail:
			if c.Email != "" {
				addrs = []string{c.Email}
			}
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
			case ch == broadcast.ChannelSMS && broadcast.CountryOf(addr, w.e.opt.SMSNoLinkCountries) != "":
				chLink = "" // sms2: the text asks for a reply instead (smsText's noLink)
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
			ds = append(ds, broadcast.Delivery{Message: msg, Subject: inc.ID, Recipient: c.PersonID, DueAt: now, Deadline: now.Add(w.e.opt.RetryFor),
				Priority: string(inc.Priority), Drill: inc.Drill, Audience: audience})
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
