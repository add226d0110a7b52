package incident

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
)

// A war-room bridge: a P1 or P2 incident opens a conference call named by its folio.
// People join by pressing 2 during the alert call, or by calling the bridge number and
// dialling the PIN; the alerts and a notice to the audience carry both. Who is on the
// call comes from the provider's signed conference callbacks, each join and leave on the
// timeline.

// Bridge is an incident's conference call.
type Bridge struct {
	Number   string    `json:"number"` // the number to call, E.164
	PIN      string    `json:"pin"`    // six digits, dialled after calling Number
	OpenedAt time.Time `json:"opened_at"`
	OpenedBy string    `json:"opened_by"`
	// OnCall are the people on the call now, in the order they joined.
	OnCall []BridgeParticipant `json:"on_call"`
}

// BridgeParticipant is someone on the bridge: a person of the directory, or a guest
// known only by their number.
type BridgeParticipant struct {
	CallSID  string    `json:"call_sid"`
	PersonID string    `json:"person_id,omitempty"`
	Name     string    `json:"name"`
	JoinedAt time.Time `json:"joined_at"`
}

// Bridge events.
const (
	EventBridgeOpened = "incident.bridge_opened"
	EventBridgeJoined = "incident.bridge_joined"
	EventBridgeLeft   = "incident.bridge_left"
)

// bridgeTx is what opening a bridge needs of the transaction (the store's DeskTx has it).
type bridgeTx interface {
	// SaveBridgePIN reserves the PIN for the incident; false when the PIN is taken.
	SaveBridgePIN(ctx context.Context, pin, incidentID string, at time.Time) (bool, error)
}

// bridgeStore finds the incident of a PIN (the store's Desk has it).
type bridgeStore interface {
	// BridgeIncident returns the id of the incident whose bridge has the PIN; ENOTFOUND
	// when none has.
	BridgeIncident(ctx context.Context, pin string) (string, error)
}

// OpenBridge opens the incident's war-room bridge on number (the provider's number whose
// calls reach the bridge), once: opening it again returns the open one. Only a P1 or P2
// incident that is still being worked has one.
func (d *Desk) OpenBridge(ctx context.Context, idOrFolio, number string) (Incident, error) {
	actor, _ := optimum.ActorFrom(ctx)
	if number == "" {
		return Incident{}, optimum.Errorf(optimum.ECONFLICT, "No bridge number is configured (OPTIMUM_BRIDGE_NUMBER or TWILIO_FROM).")
	}
	now := d.now()
	return d.locked(ctx, idOrFolio, func(tx DeskTx, inc *Incident) error {
		if inc.Bridge != nil {
			return nil
		}
		if err := workable(*inc, "given a bridge"); err != nil {
			return err
		}
		if inc.Priority != "P1" && inc.Priority != "P2" {
			return optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; only P1 and P2 incidents open a war-room bridge.", inc.Folio, inc.Priority)
		}
		btx, ok := tx.(bridgeTx)
		if !ok {
			return fmt.Errorf("open bridge: the store cannot keep bridge PINs")
		}
		var pin string
		for range 10 {
			n, _ := rand.Int(rand.Reader, big.NewInt(1000000))
			pin = fmt.Sprintf("%06d", n.Int64())
			ok, err := btx.SaveBridgePIN(ctx, pin, inc.ID, now)
			if err != nil {
				return err
			}
			if ok {
				break
			}
			pin = ""
		}
		if pin == "" {
			return fmt.Errorf("open bridge: no free PIN after 10 tries")
		}
		inc.Bridge = &Bridge{Number: number, PIN: pin, OpenedAt: now, OpenedBy: actor.Name, OnCall: []BridgeParticipant{}}
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventBridgeOpened, now, actor, *inc, map[string]any{"number": number, "pin": pin})
	})
}

// BridgeByPIN returns the open incident whose bridge has the PIN; ENOTFOUND when none
// has, ECONFLICT when its incident is closed or cancelled.
func (d *Desk) BridgeByPIN(ctx context.Context, pin string) (Incident, error) {
	bs, ok := d.store.(bridgeStore)
	if !ok || len(pin) != 6 {
		return Incident{}, optimum.Errorf(optimum.ENOTFOUND, "No bridge has this PIN.")
	}
	id, err := bs.BridgeIncident(ctx, pin)
	if err != nil {
		return Incident{}, err
	}
	inc, err := d.svc.Get(ctx, id)
	if err != nil {
		return inc, err
	}
	if err := workable(inc, "joined"); err != nil {
		return inc, err
	}
	return inc, nil
}

// BridgeJoined records that a call joined the incident's bridge; a call already on it
// changes nothing.
func (d *Desk) BridgeJoined(ctx context.Context, incidentID string, p BridgeParticipant) (Incident, error) {
	now := d.now()
	if p.JoinedAt.IsZero() {
		p.JoinedAt = now
	}
	return d.locked(ctx, incidentID, func(tx DeskTx, inc *Incident) error {
		if inc.Bridge == nil || slices.ContainsFunc(inc.Bridge.OnCall, func(o BridgeParticipant) bool { return o.CallSID == p.CallSID }) {
			return nil
		}
		inc.Bridge.OnCall = append(inc.Bridge.OnCall, p)
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventBridgeJoined, now, bridgeActor(p), *inc, map[string]any{"person_id": p.PersonID, "name": p.Name, "call_sid": p.CallSID})
	})
}

// BridgeLeft records that a call left the incident's bridge; a call not on it changes
// nothing.
func (d *Desk) BridgeLeft(ctx context.Context, incidentID, callSID string) (Incident, error) {
	now := d.now()
	return d.locked(ctx, incidentID, func(tx DeskTx, inc *Incident) error {
		if inc.Bridge == nil {
			return nil
		}
		i := slices.IndexFunc(inc.Bridge.OnCall, func(o BridgeParticipant) bool { return o.CallSID == callSID })
		if i < 0 {
			return nil
		}
		p := inc.Bridge.OnCall[i]
		inc.Bridge.OnCall = slices.Delete(inc.Bridge.OnCall, i, i+1)
		inc.UpdatedAt = now
		if err := tx.Update(ctx, *inc); err != nil {
			return err
		}
		return appendEvent(ctx, tx, EventBridgeLeft, now, bridgeActor(p), *inc, map[string]any{"person_id": p.PersonID, "name": p.Name, "call_sid": p.CallSID,
			"seconds": int(now.Sub(p.JoinedAt).Seconds())})
	})
}

func bridgeActor(p BridgeParticipant) optimum.Actor {
	if p.PersonID == "" {
		return optimum.System
	}
	return optimum.Actor{ID: p.PersonID, Name: p.Name, Role: optimum.RoleReporter, PersonID: p.PersonID}
}

// bridgeTexts are the notice of an opened bridge, per language: title, text.
var bridgeTexts = map[string][2]string{
	"es": {"%sLlamada de crisis %s", "%sSe abrió la llamada de crisis de %s (%s): marca %s y el PIN %s. Si te llaman por la alerta, marca 2 para unirte."},
	"en": {"%sCrisis call %s", "%sThe crisis call of %s (%s) is open: dial %s and the PIN %s. If the alert calls you, press 2 to join."},
}

// bridgeNotice is the title and text telling a person the bridge's number and PIN.
func bridgeNotice(inc Incident, language string) (string, string) {
	l := lang(language)
	prefix := ""
	if inc.Drill {
		prefix = messageTexts[l]["drill"]
	}
	f := bridgeTexts[l]
	return fmt.Sprintf(f[0], prefix, inc.Folio), fmt.Sprintf(f[1], prefix, clipText(inc.Title, 80), inc.Folio, inc.Bridge.Number, inc.Bridge.PIN)
}
