package escalation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
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
}
