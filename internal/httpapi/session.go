package httpapi

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// signIn handles POST /api/v1/session with either {"token": "…"} (an API token) or
// {"email": "…", "password": "…"} (a user). Either way the answer is an HttpOnly session
// cookie, so the web app never keeps a secret in script-readable storage. A wrong email,
// a wrong password and a disabled user all get the same 401; see auth.SignInPassword.
func (s *Server) signIn(lim *limits) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Token    *string `json:"token"`
			Email    *string `json:"email"`
			Password *string `json:"password"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		var (
			secret, device string
			actor          optimum.Actor
			err            error
		)
		client := clientKey(clientIP(r, lim.proxies))
		switch {
		case body.Token != nil && body.Email == nil && body.Password == nil:
			if err := lim.check(w, lim.signInClient, client); err != nil {
				return err
			}
			secret, actor, err = s.Auth.SignIn(r.Context(), strings.TrimSpace(*body.Token))
		case body.Token == nil && body.Email != nil && body.Password != nil:
			if !s.Config.SSO.PasswordSignIn { // single sign-on only (sso.go)
				return auth.PasswordSignInOff
			}
			var f []optimum.FieldError
			if strings.TrimSpace(*body.Email) == "" {
				f = append(f, optimum.FieldError{Field: "email", Message: "is required"})
			}
			if *body.Password == "" {
				f = append(f, optimum.FieldError{Field: "password", Message: "is required"})
			}
			if err := optimum.Invalid("Sign-in needs an email and a password.", f); err != nil {
				return err
			}
			// A browser that signed in to this account before is slowed down neither by
			// the rates of its address or of the account nor by the global one:
			// attackers elsewhere, or behind the same NAT, cannot lock its owner out.
			// It has a lockout of its own (auth.SignInPasswordFrom).
			if c, err := r.Cookie(deviceCookie); err == nil {
				device = c.Value
			}
			if !s.Auth.KnownDevice(r.Context(), *body.Email, device) {
				if err := lim.check(w, lim.signInClient, client); err != nil {
					return err
				}
				if err := lim.check(w, lim.signInAccount, accountKey(*body.Email)); err != nil {
					return err
				}
				if err := lim.check(w, lim.signInGlobal, "all"); err != nil {
					return err
				}
			}
			at := auth.Attempt{Client: client, Device: device}
			secret, actor, device, err = s.Auth.SignInPasswordFrom(r.Context(), *body.Email, *body.Password, at)
		default:
			if err := lim.check(w, lim.signInClient, client); err != nil {
				return err
			}
			return optimum.Errorf(optimum.EINVALID, `Send either {"token": "…"} or {"email": "…", "password": "…"}.`)
		}
		if err != nil {
			return throttled(w, err)
		}
		s.setSession(w, r, secret)
		if device != "" {
			s.setDevice(w, r, device)
		}
		writeJSON(w, http.StatusOK, actor)
		return nil
	}
}

// deviceCookie marks a browser that signed in before (auth.SignInPasswordFrom). It is
// sent only to the sign-in route and outlives sessions.
const deviceCookie = "optimum_device"

func (s *Server) setDevice(w http.ResponseWriter, r *http.Request, device string) {
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookie, Value: device, Path: "/api/v1/session",
		MaxAge:   int(auth.DeviceLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.secure(r),
	})
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	var logout string
	if c, err := r.Cookie(sessionCookie); err == nil {
		// A single sign-on session also ends at its provider (sso.go).
		logout = s.ssoLogoutURL(r, c.Value)
		if err := s.Auth.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
	if logout != "" {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]string{"logout_url": logout})
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	a, _ := optimum.ActorFrom(r.Context())
	writeJSON(w, http.StatusOK, a)
	return nil
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>OPTIMUM BCP — Entrar</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}button{font-size:1.25rem;padding:1rem 2rem;width:100%}</style>
</head><body><h1>OPTIMUM BCP</h1>
<p>Enlace de acceso de un solo uso. / One-time sign-in link.</p>
<form method="post" action="/login/{{.}}"><button type="submit">Entrar / Sign in</button></form>
</body></html>`))

// loginPage shows a button for a one-time login link; only the POST uses the code, so a
// link preview or prefetcher cannot spend it.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	return loginTemplate.Execute(w, r.PathValue("code"))
}

func (s *Server) loginWithCode(w http.ResponseWriter, r *http.Request) error {
	secret, _, err := s.Auth.SignInWithCode(r.Context(), r.PathValue("code"))
	if err != nil {
		if code := optimum.ErrorCode(err); !wantsJSON(r) && (code == optimum.EUNAUTHORIZED || code == optimum.ENOTFOUND) {
			return renderLinkProblem(w, http.StatusUnauthorized, pageLang(r), incident.Incident{}, "signin", "")
		}
		return err
	}
	s.setSession(w, r, secret)
	http.Redirect(w, r, "/#/tablero", http.StatusSeeOther)
	return nil
}

func (s *Server) setSession(w http.ResponseWriter, r *http.Request, secret string) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/",
		Expires:  time.Now().Add(auth.SessionLifetime),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r),
	})
}

// secure reports whether cookies must be marked Secure: when served over TLS, directly or
// behind a proxy whose public URL is https.
func (s *Server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.Config.Server.PublicURL, "https://")
}
