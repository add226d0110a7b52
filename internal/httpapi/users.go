package httpapi

import (
	"html/template"
	"mime"
	"net/http"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// userCreated is a new user as POST /api/v1/users answers it: with the path of its
// one-time set-password link when no password was given, shown this once.
type userCreated struct {
	auth.User
	PasswordLink string `json:"password_link,omitempty"`
}

// createUser handles POST /api/v1/users {email, name, role, password?}.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	var in auth.UserInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, code, err := s.Auth.CreateUser(r.Context(), in)
	if err != nil {
		return err
	}
	out := userCreated{User: u}
	if code != "" {
		out.PasswordLink = auth.PasswordLinkPath(code)
	}
	w.Header().Set("Location", "/api/v1/users/"+u.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Auth.Users(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Auth.User(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// updateUser handles PATCH /api/v1/users/{id} {name?, role?, disabled?}.
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	var ch auth.UserChange
	if err := decode(w, r, &ch); err != nil {
		return err
	}
	u, err := s.Auth.UpdateUser(r.Context(), r.PathValue("id"), ch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// disableUser handles DELETE /api/v1/users/{id}: users are disabled, never deleted, so
// the events they appear in keep making sense.
func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) error {
	if err := s.Auth.DisableUser(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// passwordLink handles POST /api/v1/users/{id}/password-link: a new one-time link for a
// user who forgot their password (older links stop working).
func (s *Server) passwordLink(w http.ResponseWriter, r *http.Request) error {
	code, err := s.Auth.PasswordLink(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]string{"password_link": auth.PasswordLinkPath(code)})
	return nil
}

// changePassword handles POST /api/v1/me/password {current, new}. The caller's own
// session stays; their other sessions end.
func (s *Server) changePassword(lim *limits) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var body struct {
			Current string `json:"current"`
			New     string `json:"new"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		a, _ := optimum.ActorFrom(r.Context())
		if err := lim.check(w, lim.signInAccount, "actor:"+a.ID); err != nil {
			return err
		}
		var session string
		if c, err := r.Cookie(sessionCookie); err == nil {
			session = c.Value
		}
		if err := s.Auth.ChangePassword(r.Context(), a, session, body.Current, body.New); err != nil {
			return throttled(w, err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

var setPasswordTemplate = template.Must(template.New("set-password").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>OPTIMUM BCP — Contraseña</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:1rem 0 .25rem}input{font-size:1.25rem;width:100%;box-sizing:border-box;padding:.5rem}button{font-size:1.25rem;padding:1rem 2rem;width:100%;margin-top:1.5rem}.error{color:#b00020}</style>
</head><body><h1>OPTIMUM BCP</h1>
<p>Elige tu contraseña (al menos 12 caracteres). / Choose your password (at least 12 characters).</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/set-password/{{.Code}}">
<label for="password">Contraseña / Password</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="12" maxlength="256" required>
<label for="confirm">Repítela / Repeat it</label><input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength="12" maxlength="256" required>
<button type="submit">Guardar y entrar / Save and sign in</button></form>
</body></html>`))

type setPasswordView struct{ Code, Error string }

// setPasswordPage shows the form of a one-time set-password link. Like the login link,
// only the POST spends the code, so a link preview cannot.
func (s *Server) setPasswordPage(w http.ResponseWriter, r *http.Request) error {
	return renderSetPassword(w, http.StatusOK, setPasswordView{Code: r.PathValue("code")})
}

func renderSetPassword(w http.ResponseWriter, status int, v setPasswordView) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	return setPasswordTemplate.Execute(w, v)
}

// setPassword spends a set-password code: from the form, it answers with the page again
// on a problem and a redirect to the app, signed in, on success; from a JSON client
// ({"password": "…"}), with problem+json or the actor.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var body struct {
			Password string `json:"password"`
		}
		if err := decode(w, r, &body); err != nil {
			return err
		}
		secret, actor, err := s.Auth.SetPasswordWithCode(r.Context(), code, body.Password)
		if err != nil {
			return err
		}
		s.setSession(w, r, secret)
		writeJSON(w, http.StatusOK, actor)
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return badRequest("The form could not be read.")
	}
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("confirm") {
		return renderSetPassword(w, http.StatusUnprocessableEntity, setPasswordView{Code: code, Error: "Las contraseñas no coinciden. / The passwords differ."})
	}
	secret, _, err := s.Auth.SetPasswordWithCode(r.Context(), code, password)
	if err != nil {
		status := statusOf[optimum.ErrorCode(err)]
		if status == 0 || status >= 500 {
			return err
		}
		lang := requestLang(r)
		msg := translate(lang, optimum.ErrorMessage(err))
		for _, f := range optimum.ErrorFields(err) {
			msg += " " + f.Field + " " + translate(lang, f.Message) + "."
		}
		return renderSetPassword(w, status, setPasswordView{Code: code, Error: msg})
	}
	s.setSession(w, r, secret)
	http.Redirect(w, r, "/#/tablero", http.StatusSeeOther)
	return nil
}
