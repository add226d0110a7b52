package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
)

var codeTexts = map[string]string{
	"es": "OPTIMUM BCP: su código de verificación es %s. Vence en 10 minutos. Si no lo pidió, ignore este mensaje.",
	"en": "OPTIMUM BCP: your verification code is %s. It expires in 10 minutes. If you did not ask for it, ignore this message.",
}

// startPhoneVerification handles POST /api/v1/me/phone/verification: a six-digit code
// goes by SMS to the caller's phone.
func (s *Server) startPhoneVerification(w http.ResponseWriter, r *http.Request) error {
	if s.SMS == nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "SMS is not configured on this server, so phones cannot be verified.")
	}
	id, err := personOf(r)
	if err != nil {
		return err
	}
	code, phone, lang, err := s.Directory.StartPhoneVerification(r.Context(), s.Verifications, id)
	if err != nil {
		return err
	}
	if lang != "en" {
		lang = "es"
	}
	msg := broadcast.Message{Channel: broadcast.ChannelSMS, To: phone, Language: lang, Text: fmt.Sprintf(codeTexts[lang], code), TTL: 10 * time.Minute}
	if _, err := s.SMS.Send(r.Context(), msg); err != nil {
		s.Logger.Warn("sending a verification code", "err", err)
		return optimum.Errorf(optimum.EUNAVAILABLE, "The code could not be sent; try again in a moment.")
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"sent_to": maskPhone(phone), "expires_in_seconds": 600})
	return nil
}

// confirmPhone handles POST /api/v1/me/phone/verification/confirm {"code": "123456"}.
func (s *Server) confirmPhone(w http.ResponseWriter, r *http.Request) error {
	id, err := personOf(r)
	if err != nil {
		return err
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	if err := s.Directory.ConfirmPhone(r.Context(), s.Verifications, id, body.Code); err != nil {
		return err
	}
	p, err := s.Directory.Person(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// maskPhone shows the last digits only: +52 ••• 5678.
func maskPhone(p string) string {
	if len(p) < 6 {
		return "•••"
	}
	return p[:3] + " ••• " + p[len(p)-4:]
}
