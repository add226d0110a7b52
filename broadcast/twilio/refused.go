package twilio

import "encoding/xml"

// refusedSpeech is what a call says when a key press cannot be recorded because the
// number is shared by several people in the directory.
var refusedSpeech = map[string]string{
	"es": "Este número está registrado para más de una persona, así que no podemos registrar tu respuesta. Responde desde la aplicación o avisa a tu responsable de continuidad. Adiós.",
	"en": "This number is registered for more than one person, so your answer cannot be recorded. Answer in the app or tell your continuity manager. Goodbye.",
}

// VoiceRefusedReply is the TwiML that answers a key press the server refused to record:
// it says why, in lang, and hangs up instead of asking again.
func VoiceRefusedReply(lang string) string {
	lang = language(lang)
	s := speech[lang]
	return xml.Header + `<Response><Say language="` + s.locale + `" voice="` + s.voice + `">` +
		escape(refusedSpeech[lang]) + `</Say><Hangup/></Response>`
}
