package escalation

import (
	"context"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// War-room bridge (incident/bridge.go): the alerts carry its number and PIN, and the
// alert call offers "marca 2" to join it.

// bridgeSMS is what an alert SMS says of the bridge, per language: number, PIN.
var bridgeSMS = map[string]string{
	"es": "Llamada de crisis: %s PIN %s.",
	"en": "Crisis call: %s PIN %s.",
}

// BridgeCall returns the incident and person of an alert call whose incident has a
// bridge to join by pressing 2; ok is false when it has none, or the call asks the safety
// poll (2 is "necesito ayuda" there).
func (in *Inbound) BridgeCall(ctx context.Context, deliveryID string) (inc incident.Incident, p Sender, ok bool, err error) {
	incID, p, err := in.store.DeliveryTarget(ctx, deliveryID)
	if optimum.ErrorCode(err) == optimum.ECONFLICT {
		p = Sender{Language: p.Language} // a shared number: they join, as nobody in particular
	} else if err != nil {
		return inc, p, false, err
	}
	if inc, err = in.incidents.Get(ctx, incID); err != nil {
		return inc, p, false, err
	}
	return inc, p, inc.Bridge != nil && !inc.SafetyPoll, nil
}

// Caller returns the person calling from the phone, if one active person has it.
func (in *Inbound) Caller(ctx context.Context, phone string) (Sender, bool) {
	p, err := in.store.PersonByPhone(ctx, phone)
	return p, err == nil
}

// GuestName names a caller who is nobody of the directory by the end of their number.
func GuestName(lang, phone string) string {
	tail := phone
	if len(tail) > 4 {
		tail = "…" + tail[len(tail)-4:]
	}
	if lang == "en" {
		return strings.TrimSpace("Guest " + tail)
	}
	return strings.TrimSpace("Invitado " + tail)
}
