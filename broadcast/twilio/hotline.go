package twilio

import (
	"encoding/xml"
	"strconv"
)

// Paths of the crisis hotline's webhooks (escalation/crisis.go): the hotline number's
// voice webhook, the <Record> action and its transcription callback.
const (
	PathHotline              = "/hooks/twilio/hotline"
	PathHotlineRecording     = "/hooks/twilio/hotline/recording"
	PathHotlineTranscription = "/hooks/twilio/hotline/transcription"
)

// HotlineMaxSeconds is the longest voice message the hotline records.
const HotlineMaxSeconds = 120

// HotlineRecord is the TwiML that answers a call to the hotline from a person who may
// declare: the prompt, then a <Record> of at most HotlineMaxSeconds (ended by silence or
// #) posted to recordingURL and transcribed to transcriptionURL. A call in which nothing
// is said goes on to recordingURL without a recording, so that it is answered and
// recorded as empty.
func HotlineRecord(lang, prompt, recordingURL, transcriptionURL string) string {
	s := speech[language(lang)]
	return xml.Header + `<Response>` +
		`<Say language="` + s.locale + `" voice="` + s.voice + `">` + escape(prompt) + `</Say>` +
		`<Record action="` + escape(recordingURL) + `" method="POST" maxLength="` + strconv.Itoa(HotlineMaxSeconds) +
		`" timeout="5" finishOnKey="#" playBeep="true" transcribe="true" transcribeCallback="` + escape(transcriptionURL) + `"/>` +
		`<Redirect method="POST">` + escape(recordingURL) + `</Redirect>` +
		`</Response>`
}

// HotlineSay is the TwiML that says text and hangs up: the answer to a caller who may not
// declare, and the folio after a recording.
func HotlineSay(lang, text string) string {
	s := speech[language(lang)]
	return xml.Header + `<Response><Say language="` + s.locale + `" voice="` + s.voice + `">` + escape(text) + `</Say><Hangup/></Response>`
}
