package escalation_test

import (
	"context"
	"testing"

	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// The engine queues an incident's alerts in its lane: a real incident declared after a
// drill is claimed first (on c16d48e the drill's, older, went first).
func TestARealIncidentsAlertsAreClaimedBeforeAnEarlierDrills(t *testing.T) {
	storetest.Each(t, func(t *testing.T) {
		w := newWorld(t, broadcast.ChannelWebPush, broadcast.ChannelSMS)
		drill := w.declare(t, "Simulacro de sismo", true)
		if _, err := w.notifier.Consume(context.Background()); err != nil {
			t.Fatal(err)
		}
		crisis := w.declare(t, "Corte de energía en el CPD", false)
		if _, err := w.notifier.Consume(context.Background()); err != nil {
			t.Fatal(err)
		}
		ds := w.claimAll(t)
		var subjects []string
		for _, d := range ds {
			subjects = append(subjects, d.Subject)
		}
		want := []string{crisis.ID, crisis.ID, drill.ID, drill.ID} // Ana and Bob, twice
		if len(subjects) != len(want) {
			t.Fatalf("claimed %v, want %v", subjects, want)
		}
		for i := range want {
			if subjects[i] != want[i] {
				t.Fatalf("claimed %v, want the real incident's (%s) before the drill's (%s)", subjects, crisis.ID, drill.ID)
			}
		}
	})
}
