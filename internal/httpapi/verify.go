package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/internal/store"
)

// SMSBudget counts the SMS that are not alerts (store.SMSBudget). Alerts never pass
// through it, so no limit of it can keep a crisis alert from going out.
type SMSBudget interface {
	TakeSMS(ctx context.Context, kind, personID, phone string, now time.Time, l store.SMSLimits) (id, limit string, retry time.Time, err error)
	GiveBackSMS(ctx context.Context, id string) error
}

var codeTexts = map[string]string{
	"es": "OPTIMUM BCP: tu código de verificación es %s. Vence en 10 minutos. Si no lo pediste, ignora este mensaje.",
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
	// An optional body {"which": "phone2"} verifies the second phone of "Mi perfil".
	var body struct {
		Which string `json:"which"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &body); err != nil {
			return err
		}
	}
	if body.Which != "" && body.Which != "phone" && body.Which != "phone2" {
		return optimum.Invalid("The request has errors.", []optimum.FieldError{{Field: "which", Message: "must be phone or phone2"}})
	}
	// The limits are taken before a code is made, so a refused request leaves a pending
	// code as it was.
	budget, err := s.takeSMS(w, r, id, body.Which)
	if err != nil {
		return err
	}
	giveBack := func() {
		if budget != "" {
			if err := s.SMSBudget.GiveBackSMS(context.WithoutCancel(r.Context()), budget); err != nil {
				s.Logger.Warn("giving back an SMS of the budget", "err", err)
			}
		}
	}
	code, phone, lang, err := s.Directory.StartPhoneVerification(r.Context(), s.Verifications, id, body.Which)
	if err != nil {
		giveBack()
		return err
	}
	if lang != "en" {
		lang = "es"
	}
	msg := broadcast.Message{Channel: broadcast.ChannelSMS, To: phone, Language: lang, Text: fmt.Sprintf(codeTexts[lang], code), TTL: 10 * time.Minute}
	if _, err := s.SMS.Send(r.Context(), msg); err != nil {
		giveBack()
		s.Logger.Warn("sending a verification code", "err", err)
		return optimum.Errorf(optimum.EUNAVAILABLE, "The code could not be sent; try again in a moment.")
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"sent_to": maskPhone(phone), "expires_in_seconds": 600})
	return nil
}

// takeSMS takes one verification SMS from the budget of the person and of their phone
// (limits.phone_codes_per_hour, phone_codes_per_day) and of the deployment
// (limits.non_alert_sms_per_day), or returns the 429 saying which limit was reached.
// A person without a phone takes nothing: StartPhoneVerification refuses them.
func (s *Server) takeSMS(w http.ResponseWriter, r *http.Request, personID string, which ...string) (string, error) {
	if s.SMSBudget == nil {
		return "", nil
	}
	p, err := s.Directory.Person(r.Context(), personID)
	if err == nil && len(which) > 0 && which[0] == "phone2" {
		p.Phone = p.Phone2
	}
	if err != nil || p.Phone == "" {
		return "", nil
	}
	c := s.Config.Limits
	now := s.authNow()
	id, limit, retry, err := s.SMSBudget.TakeSMS(r.Context(), "verification", personID, p.Phone, now,
		store.SMSLimits{PerHour: c.PhoneCodesPerHour, PerDay: c.PhoneCodesPerDay, AllPerDay: c.NonAlertSMSPerDay})
	if err != nil {
		return "", err
	}
	switch limit {
	case "":
		return id, nil
	case store.SMSLimitDaily:
		s.Logger.Warn("the daily cap of non-alert SMS is reached; alerts still go out", "cap", c.NonAlertSMSPerDay)
		return "", rateLimited(w, retry.Sub(now), "This server has sent as many verification codes as it may today. Try again tomorrow; alerts still go out.")
	case store.SMSLimitNumber:
		return "", rateLimited(w, retry.Sub(now), "Too many codes were sent to this number recently. Wait before asking for another one.")
	default:
		return "", rateLimited(w, retry.Sub(now), "You asked for too many codes recently. Wait before asking for another one.")
	}
}

// authNow is the clock of the handlers: the auth service's, which tests move.
func (s *Server) authNow() time.Time {
	if s.Auth != nil {
		return s.Auth.Now()
	}
	return time.Now()
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
