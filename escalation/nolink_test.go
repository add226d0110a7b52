package escalation_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// Mexico's carriers block automated SMS with links: with "52" among the no-link
// countries, Ana (+52) gets the alert without a link, asked to reply 1, while Bob (+34)
// still gets the one-tap link.
func TestNoLinkCountryGetsAReplyInsteadOfALink(t *testing.T) {
	storetest.Each(t, testNoLinkCountryGetsAReplyInsteadOfALink)
}

func testNoLinkCountryGetsAReplyInsteadOfALink(t *testing.T) {
	w := newWorld(t, broadcast.ChannelSMS)
	tpl, err := escalation.NewTemplates()
	if err != nil {
		t.Fatal(err)
	}
	w.notifier = escalation.New(w.db.Escalation(), tpl, nil, escalation.Options{PublicURL: "https://bcp.example.com",
		Channels: []string{broadcast.ChannelSMS}, SMSNoLinkCountries: []string{"52"}})
	inc := w.declare(t, "Corte de energía en el CPD", false)
	if _, err := w.notifier.Consume(context.Background()); err != nil {
		t.Fatal(err)
	}
	byPhone := map[string]broadcast.Delivery{}
	for _, d := range w.claimAll(t) {
		byPhone[d.To] = d
	}
	ana, bob := byPhone["+525512345678"], byPhone["+34612345678"]
	want := "P1 Corte de energía en el CPD, CDMX (" + inc.Folio + "). Confirma: responde 1 a este SMS."
	if ana.Text != want || ana.URL != "" {
		t.Errorf("Mexico: text %q, URL %q; want %q and no URL", ana.Text, ana.URL, want)
	}
	if !strings.Contains(bob.Text, "Acknowledge: reply 1 or open https://bcp.example.com/a/") || !strings.HasPrefix(bob.URL, "https://bcp.example.com/a/") {
		t.Errorf("Spain: text %q, URL %q; want the one-tap link", bob.Text, bob.URL)
	}

	// Bob proves a Mexican second phone: his SMS, which may be copied to it if his
	// Spanish one fails, asks for a reply instead of carrying a link.
	ctx := context.Background()
	dir := contacts.NewDirectory(w.db.Contacts(), nil)
	p, err := dir.Person(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	second := "+525599990000"
	if _, err := dir.UpdateProfile(admin, p.ID, contacts.Profile{Phone: p.Phone, Language: p.Language, Phone2: &second}); err != nil {
		t.Fatal(err)
	}
	ev := optimum.Event{Type: contacts.EventPersonUpdated, At: time.Now(), Actor: &optimum.System, Data: []byte(`{}`)}
	for _, phone := range []string{p.Phone, second} {
		if err := w.db.Contacts().PhoneVerified(ctx, p.ID, phone, time.Now(), ev); err != nil {
			t.Fatal(err)
		}
	}
	w.declare(t, "Otro corte", false)
	if _, err := w.notifier.Consume(ctx); err != nil {
		t.Fatal(err)
	}
	bobs := 0
	for _, d := range w.claimAll(t) {
		if d.Recipient != p.ID {
			continue
		}
		bobs++
		if d.To != p.Phone || d.URL != "" || strings.Contains(d.Text, "https://") {
			t.Errorf("Bob with a Mexican second phone: to %s, text %q, URL %q; want his first phone, no link", d.To, d.Text, d.URL)
		}
	}
	if bobs != 1 {
		t.Errorf("Bob's SMS: %d, want 1", bobs)
	}
}
