package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// alertNumbers handles GET /api/v1/alert-numbers: the numbers alerts come from (the
// TWILIO_FROM pool), so a person can save them as a contact and let them through silent
// mode. Web push cannot break through silent mode; an SMS or a call from a known
// contact can (iOS Emergency Bypass, Android priority contacts).
func (s *Server) alertNumbers(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"numbers": s.fromNumbers(), "vcard": "api/v1/alert-numbers.vcf"})
	return nil
}

// alertNumbersCard handles GET /api/v1/alert-numbers.vcf: the same numbers as a contact
// card (vCard 3.0), named in the person's language.
func (s *Server) alertNumbersCard(w http.ResponseWriter, r *http.Request) error {
	name, note := "OPTIMUM BCP Alertas", "Alertas de crisis de OPTIMUM BCP. Permite que te avisen aunque el teléfono esté en silencio."
	// Spanish unless the browser asks for English.
	if r.Header.Get("Accept-Language") != "" && requestLang(r) == langEN {
		name, note = "OPTIMUM BCP Alerts", "Crisis alerts from OPTIMUM BCP. Let them ring through silent mode."
	}
	lines := []string{"BEGIN:VCARD", "VERSION:3.0", "FN:" + vcardText(name), "N:" + vcardText(name) + ";;;;", "ORG:OPTIMUM BCP"}
	for _, n := range s.fromNumbers() {
		lines = append(lines, "TEL;TYPE=CELL,VOICE:"+vcardText(n))
	}
	lines = append(lines, "NOTE:"+vcardText(note), "END:VCARD")
	h := w.Header()
	h.Set("Content-Type", "text/vcard; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="optimum-bcp-alertas.vcf"`)
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	return err
}

// fromNumbers are the configured sender numbers, trimmed, without repeats.
func (s *Server) fromNumbers() []string {
	out := []string{}
	for _, n := range s.Config.Twilio.From {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// vcardText escapes a vCard value (RFC 6350 §3.4).
func vcardText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ";", `\;`, "\r", "", "\n", `\n`).Replace(s)
}
