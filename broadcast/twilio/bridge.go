package twilio

import (
	"encoding/xml"
)

// Paths of the war-room bridge's webhooks (incident/bridge.go): the bridge number's
// voice webhook, the PIN's Gather action and the conference's status callbacks.
const (
	PathBridge     = "/hooks/twilio/bridge"
	PathBridgePIN  = "/hooks/twilio/bridge/pin"
	PathConference = "/hooks/twilio/conference"
)

var bridgeSpeech = map[string]struct{ askPIN, noPIN, badPIN, joining string }{
	"es": {"Llamada de crisis de OPTIMUM BCP. Marca el PIN de seis dígitos.",
		"No recibimos el PIN. Hasta luego.",
		"Ese PIN no corresponde a ninguna llamada de crisis abierta. Revisa el mensaje de la alerta y llama de nuevo. Hasta luego.",
		"Te unimos a la llamada de crisis."},
	"en": {"OPTIMUM BCP crisis call. Enter the six-digit PIN.",
		"We did not get the PIN. Goodbye.",
		"That PIN belongs to no open crisis call. Check the alert message and call again. Goodbye.",
		"Joining you to the crisis call."},
}

// BridgeAskPIN answers a call to the bridge number: enter the PIN, posted to actionURL.
func BridgeAskPIN(lang, actionURL string) string {
	s, b := speech[language(lang)], bridgeSpeech[language(lang)]
	say := func(text string) string {
		return `<Say language="` + s.locale + `" voice="` + s.voice + `">` + escape(text) + `</Say>`
	}
	return xml.Header + `<Response>` +
		`<Gather input="dtmf" numDigits="6" action="` + escape(actionURL) + `" method="POST" timeout="10">` + say(b.askPIN) + `</Gather>` +
		say(b.noPIN) + `<Hangup/></Response>`
}

// BridgeBadPIN answers a PIN that opens no bridge.
func BridgeBadPIN(lang string) string { return HotlineSay(lang, bridgeSpeech[language(lang)].badPIN) }

// BridgeJoin puts the call into the conference named by the folio, reporting joins and
// leaves to statusCallback.
func BridgeJoin(lang, folio, statusCallback string) string {
	s, b := speech[language(lang)], bridgeSpeech[language(lang)]
	return xml.Header + `<Response>` +
		`<Say language="` + s.locale + `" voice="` + s.voice + `">` + escape(b.joining) + `</Say>` +
		`<Dial><Conference statusCallback="` + escape(statusCallback) + `" statusCallbackMethod="POST" statusCallbackEvent="join leave"` +
		` startConferenceOnEnter="true" endConferenceOnExit="false" beep="true">` + escape(folio) + `</Conference></Dial>` +
		`</Response>`
}
