package twilio_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum/broadcast/twilio"
)

// spanishAlert is a typical 150-character Spanish alert with accents.
const spanishAlert = "Confirma: responde 1. BCP-2026-000042 Caída del sistema de pagos en la región norte; " +
	"la operación está detenida. Acuda a la sala de crisis ya."

func TestSegments(t *testing.T) {
	for _, tc := range []struct {
		name     string
		text     string
		encoding string
		segments int
	}{
		{"empty", "", twilio.GSM7, 0},
		{"160 GSM-7 characters fit one segment", strings.Repeat("a", 160), twilio.GSM7, 1},
		{"161 need two of 153", strings.Repeat("a", 161), twilio.GSM7, 2},
		{"306 fill two of 153", strings.Repeat("a", 306), twilio.GSM7, 2},
		{"307 need three", strings.Repeat("a", 307), twilio.GSM7, 3},
		{"á and í force UCS-2", "¿Está ahí? ¡Sí! él, niño, pingüino", twilio.UCS2, 1},
		{"é ñ ü ¿ ¡ alone stay GSM-7", strings.Repeat("é", 40) + "ñÑüÜ¿¡ÉÇ", twilio.GSM7, 1},
		{"one á turns 160 into UCS-2", "á" + strings.Repeat("a", 159), twilio.UCS2, 3},
		{"70 UCS-2 characters fit one segment", "á" + strings.Repeat("a", 69), twilio.UCS2, 1},
		{"71 need two of 67", "á" + strings.Repeat("a", 70), twilio.UCS2, 2},
		{"extension characters count double", strings.Repeat("€", 80), twilio.GSM7, 1},
		{"81 euros are 162 septets", strings.Repeat("€", 81), twilio.GSM7, 2},
		{"an escape pair never straddles two parts", strings.Repeat("a", 152) + "[" + strings.Repeat("a", 10), twilio.GSM7, 2},
		{"an emoji is two UCS-2 units", strings.Repeat("😀", 35), twilio.UCS2, 1},
		{"36 emoji are 72 units", strings.Repeat("😀", 36), twilio.UCS2, 2},
		{"the typical Spanish alert", spanishAlert, twilio.UCS2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, n := twilio.Segments(tc.text)
			if enc != tc.encoding || n != tc.segments {
				t.Errorf("Segments(%q) = %s, %d; want %s, %d", tc.text, enc, n, tc.encoding, tc.segments)
			}
		})
	}
}

func TestSegmentsOfAPairAtAPartBoundary(t *testing.T) {
	// 152 septets then "[" (2 septets): the pair moves to the second part, which then holds
	// 2 + 152 = 154 septets > 153, so a third part is needed.
	text := strings.Repeat("a", 152) + "[" + strings.Repeat("a", 152)
	if _, n := twilio.Segments(text); n != 3 {
		t.Errorf("Segments = %d, want 3", n)
	}
}

func TestTransliterate(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Atención: evacúe el área, ¿entendió? ¡Sí!", "Atencion: evacue el area, ¿entendio? ¡Si!"},
		{"ÁÍÓÚ áíóú", "AIOU aiou"},
		{"niño, pingüino, café, ÉXITO, Ñandú", "niño, pingüino, café, ÉXITO, Ñandu"},
		{"“Comillas” y ‘simples’ — guion… fin", "\"Comillas\" y 'simples' - guion... fin"},
		{"1º piso, 2ª planta", "1o piso, 2a planta"},
		{"plain ASCII", "plain ASCII"},
		{"emoji 🚨 stay", "emoji 🚨 stay"},
	} {
		if got := twilio.Transliterate(tc.in); got != tc.want {
			t.Errorf("Transliterate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestTransliterateFitsASpanishAlertInOneSegment(t *testing.T) {
	if n := utf8.RuneCountInString(spanishAlert); n < 140 || n > 160 {
		t.Fatalf("the sample alert has %d characters, want about 150", n)
	}
	if enc, n := twilio.Segments(spanishAlert); enc != twilio.UCS2 || n != 3 {
		t.Fatalf("before: %s in %d segments, want UCS-2 in 3", enc, n)
	}
	got := twilio.Transliterate(spanishAlert)
	if enc, n := twilio.Segments(got); enc != twilio.GSM7 || n != 1 {
		t.Errorf("after: %q is %s in %d segments, want GSM-7 in 1", got, enc, n)
	}
}
