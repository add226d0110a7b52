package twilio_test

import (
	"testing"

	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		body  string
		poll  bool
		kind  string
		folio string
	}{
		{"1", false, twilio.ReplyAck, ""},
		{" 1 ", false, twilio.ReplyAck, ""},
		{"OK", false, twilio.ReplyAck, ""},
		{"ok!", false, twilio.ReplyAck, ""},
		{"SI", false, twilio.ReplyAck, ""},
		{"SÍ", false, twilio.ReplyAck, ""},
		{"sí", false, twilio.ReplyAck, ""},
		{"¡Sí!", false, twilio.ReplyAck, ""},
		{"ACK", false, twilio.ReplyAck, ""},
		{"Recibido", false, twilio.ReplyAck, ""},
		{"recibido, voy para allá", false, twilio.ReplyAck, ""},
		{"1 BCP-2026-000042", false, twilio.ReplyAck, "BCP-2026-000042"},
		{"bcp-2026-000042 ok", false, twilio.ReplyAck, "BCP-2026-000042"},
		{"OK BCP 2026 42", false, twilio.ReplyAck, "BCP-2026-000042"},
		{"BCP-2026-000042", false, twilio.ReplyUnknown, "BCP-2026-000042"},
		{"STOP", false, twilio.ReplyStop, ""},
		{"stop all", false, twilio.ReplyStop, ""},
		{"Stopall", false, twilio.ReplyStop, ""},
		{"UNSUBSCRIBE", false, twilio.ReplyStop, ""},
		{"cancel", false, twilio.ReplyStop, ""},
		{"END", false, twilio.ReplyStop, ""},
		{"quit.", false, twilio.ReplyStop, ""},
		{"BAJA", false, twilio.ReplyStop, ""},
		{"Alto", false, twilio.ReplyStop, ""},
		{"no me llames, alto total", false, twilio.ReplyUnknown, ""},
		{"START", false, twilio.ReplyStart, ""},
		{"yes", false, twilio.ReplyAck, ""}, // an answer to an alert, like "SI"
		{"YES", false, twilio.ReplyAck, ""},
		{"Yes!", false, twilio.ReplyAck, ""},
		{"yes BCP-2026-000042", false, twilio.ReplyAck, "BCP-2026-000042"},
		{"SI", false, twilio.ReplyAck, ""},
		{"unstop", false, twilio.ReplyStart, ""},
		{"UNSTOP", false, twilio.ReplyStart, ""},
		{"alta", false, twilio.ReplyStart, ""},
		{"HELP", false, twilio.ReplyHelp, ""},
		{"Ayuda", false, twilio.ReplyHelp, ""},
		{"info", false, twilio.ReplyHelp, ""},
		{"2", false, twilio.ReplyUnknown, ""},
		{"no", false, twilio.ReplyUnknown, ""},
		{"", false, twilio.ReplyUnknown, ""},
		{"¿qué pasó?", false, twilio.ReplyUnknown, ""},

		{"1", true, twilio.ReplySafe, ""},
		{"1 a salvo", true, twilio.ReplySafe, ""},
		{"Estoy bien", true, twilio.ReplySafe, ""},
		{"estamos bien gracias", true, twilio.ReplySafe, ""},
		{"I'm safe", true, twilio.ReplySafe, ""},
		{"safe", true, twilio.ReplySafe, ""},
		{"2", true, twilio.ReplyHelpNeeded, ""},
		{"2 BCP-2026-000042", true, twilio.ReplyHelpNeeded, "BCP-2026-000042"},
		{"AYUDA", true, twilio.ReplyHelpNeeded, ""},
		{"help", true, twilio.ReplyHelpNeeded, ""},
		{"necesito ayuda, piso 3", true, twilio.ReplyHelpNeeded, ""},
		{"no estoy bien", true, twilio.ReplyUnknown, ""},
		{"STOP", true, twilio.ReplyStop, ""},
		{"START", true, twilio.ReplyStart, ""},
		{"qué hago", true, twilio.ReplyUnknown, ""},
	} {
		got := twilio.ParseReply(tc.body, tc.poll)
		if got.Kind != tc.kind || got.Folio != tc.folio || got.Raw != tc.body {
			t.Errorf("ParseReply(%q, poll=%v) = %+v, want kind %q folio %q", tc.body, tc.poll, got, tc.kind, tc.folio)
		}
	}
}
