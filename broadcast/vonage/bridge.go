package vonage

import "encoding/json"

// The war-room bridge through Vonage (incident/bridge.go, docs/channels.md): pressing 2
// in an alert call carried by Vonage answers an NCCO that says so, tells the server who
// joins (a notify action, whose body Vonage signs with the JWT like every call webhook),
// and puts the call into the conversation named by the incident's folio, Vonage's
// conference. The call leaving is its "completed" event.

// PathConference receives the notify action of a call joining a bridge.
const PathConference = "/hooks/vonage/conference"

// BridgeNotify is the body of the join notification: the incident, who joins (their
// person id and name, "" and a guest's name for nobody of the directory) and the call.
// It is in the body, not the URL, because Vonage's JWT covers the body (payload_hash).
type BridgeNotify struct {
	Event    string `json:"event"` // "bridge_joined"
	Incident string `json:"incident"`
	Person   string `json:"person,omitempty"`
	Name     string `json:"name"`
	Call     string `json:"call"`
}

// EventBridgeJoined is BridgeNotify's Event.
const EventBridgeJoined = "bridge_joined"

var joining = map[string]string{
	"es": "Te unimos a la llamada de crisis.",
	"en": "Joining you to the crisis call.",
}

// BridgeJoin is the NCCO (JSON) that joins the call to the bridge: it says so, notifies
// notifyURL with who joins, and enters the conversation named by the folio. The notify
// answer (Conversation) replaces the rest of the NCCO; the conversation after the notify
// is what the call does if that answer is not an NCCO (the server did not answer).
func BridgeJoin(lang, folio, notifyURL string, who BridgeNotify) []byte {
	lang = language(lang)
	who.Event = EventBridgeJoined
	ncco := []map[string]any{
		{"action": "talk", "text": joining[lang], "language": speech[lang].lang},
		{"action": "notify", "payload": who, "eventUrl": []string{notifyURL}, "eventMethod": "POST"},
		conversation(folio),
	}
	b, _ := json.Marshal(ncco)
	return b
}

// Conversation is the NCCO (JSON) that enters the conversation named by the folio: it
// starts when the first one enters and goes on when anyone leaves.
func Conversation(folio string) []byte {
	b, _ := json.Marshal([]map[string]any{conversation(folio)})
	return b
}

func conversation(folio string) map[string]any {
	return map[string]any{"action": "conversation", "name": folio, "startOnEnter": true, "endOnExit": false}
}
