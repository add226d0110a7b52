package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/oidc"
)

// Single sign-on through OpenID Connect (docs/sso.md). GET /sso/{provider}/start records
// a sign-in (state, nonce, PKCE verifier) bound to this browser by the ssoCookie and sends
// the person to their provider; the provider sends them back to GET
// /sso/{provider}/callback, which spends that record once, verifies what the provider
// says (internal/oidc) and starts a session. Whatever goes wrong, the person gets a page
// that says so in their words, and nothing is created.

// ssoCookie binds sign-ins in flight to the browser that started them. It holds a random
// value whose hash is stored with each flow, is sent only to /sso/, and lives as long as
// a flow: a callback from another browser, or replayed, finds no flow.
const ssoCookie = "optimum_sso"

// signInProvider is a provider as the sign-in page shows it.
type signInProvider struct {
	ID   string `json:"id"`
	Name struct {
		ES string `json:"es"`
		EN string `json:"en"`
	} `json:"name"`
	Start string `json:"start"`
}

// signInOptions handles GET /api/v1/sign-in-options, public: how one may sign in here.
func (s *Server) signInOptions(w http.ResponseWriter, r *http.Request) error {
	out := struct {
		Password  bool             `json:"password"`
		Providers []signInProvider `json:"providers"`
	}{Password: s.Config.SSO.PasswordSignIn, Providers: []signInProvider{}}
	for _, p := range s.SSO {
		sp := signInProvider{ID: p.ID(), Start: "/sso/" + p.ID() + "/start"}
		sp.Name.ES, sp.Name.EN = p.Name().ES, p.Name().EN
		out.Providers = append(out.Providers, sp)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) ssoProvider(id string) *oidc.Provider {
	for _, p := range s.SSO {
		if p.ID() == id {
			return p
		}
	}
	return nil
}

// ssoRedirect is the callback URL registered at the provider: under the public URL when
// one is set, else under the address the browser used.
func (s *Server) ssoRedirect(r *http.Request, p *oidc.Provider) string {
	base := strings.TrimSuffix(s.Config.Server.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/sso/" + p.ID() + "/callback"
}

// ssoLogoutURL is where the browser goes to end the provider's session too when the
// session of secret came through a provider that offers it; "" otherwise.
func (s *Server) ssoLogoutURL(r *http.Request, secret string) string {
	id, err := s.Auth.SessionProvider(r.Context(), secret)
	if err != nil || id == "" {
		return ""
	}
	p := s.ssoProvider(id)
	if p == nil {
		return ""
	}
	back := strings.TrimSuffix(s.ssoRedirect(r, p), "/sso/"+p.ID()+"/callback") + "/"
	u, _ := p.LogoutURL(r.Context(), back)
	return u
}

// ssoStart handles GET /sso/{provider}/start.
func (s *Server) ssoStart(lim *limits) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		lang := pageLang(r)
		p := s.ssoProvider(r.PathValue("provider"))
		if p == nil {
			return renderSSOProblem(w, http.StatusNotFound, lang, "unknown")
		}
		// Each start stores a row: a client may not start sign-ins without end.
		if ok, wait := lim.ssoStart.allow(clientKey(clientIP(r, lim.proxies))); !ok {
			w.Header().Set("Retry-After", retryAfter(wait))
			return renderSSOProblem(w, http.StatusTooManyRequests, lang, "busy")
		}
		browser := ""
		if c, err := r.Cookie(ssoCookie); err == nil && len(c.Value) >= 40 && len(c.Value) <= 100 {
			browser = c.Value // other tabs' sign-ins in flight keep working
		} else {
			browser = auth.NewSecret("sso_")
		}
		f, err := s.Auth.StartSSO(r.Context(), p.ID(), browser, oidc.NewVerifier())
		if err != nil {
			return err
		}
		to, err := p.AuthCodeURL(r.Context(), s.ssoRedirect(r, p), f)
		if err != nil {
			s.Logger.Warn("sso provider unavailable", "provider", p.ID(), "err", err)
			return renderSSOProblem(w, http.StatusBadGateway, lang, oidc.ReasonUnavailable)
		}
		http.SetCookie(w, &http.Cookie{
			Name: ssoCookie, Value: browser, Path: "/sso/",
			MaxAge: int(auth.SSOFlowLifetime / time.Second), HttpOnly: true,
			// Lax: the provider sends the browser back with a top-level GET from its site.
			SameSite: http.SameSiteLaxMode, Secure: s.secure(r),
		})
		http.Redirect(w, r, to, http.StatusSeeOther)
		return nil
	}
}

// ssoCallback handles GET /sso/{provider}/callback?code=…&state=… (or ?error=…).
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	lang := pageLang(r)
	p := s.ssoProvider(r.PathValue("provider"))
	if p == nil {
		return renderSSOProblem(w, http.StatusNotFound, lang, "unknown")
	}
	q := r.URL.Query()
	browser := ""
	if c, err := r.Cookie(ssoCookie); err == nil {
		browser = c.Value
	}
	// The flow is spent first, whatever the provider answered: a callback works once.
	f, err := s.Auth.FinishSSO(r.Context(), p.ID(), q.Get("state"), browser)
	if err != nil {
		if optimum.ErrorCode(err) == optimum.EUNAUTHORIZED {
			s.Logger.Warn("sso callback refused", "provider", p.ID(), "reason", "state", "cookie", browser != "")
			return renderSSOProblem(w, http.StatusBadRequest, lang, "state")
		}
		return err
	}
	if e := q.Get("error"); e != "" {
		s.Logger.Info("sso provider refused", "provider", p.ID(), "error", truncateLog(e))
		return renderSSOProblem(w, http.StatusUnauthorized, lang, oidc.ReasonProvider)
	}
	id, groups, err := p.Exchange(r.Context(), s.ssoRedirect(r, p), q.Get("code"), f)
	if err != nil {
		var rf *oidc.Refusal
		if !errors.As(err, &rf) {
			return err
		}
		s.Logger.Warn("sso sign-in refused", "provider", p.ID(), "reason", rf.Reason, "err", err)
		status := map[string]int{oidc.ReasonToken: http.StatusUnauthorized, oidc.ReasonEmail: http.StatusForbidden,
			oidc.ReasonUnavailable: http.StatusBadGateway, oidc.ReasonGroupsUnavailable: http.StatusBadGateway}[rf.Reason]
		if status == 0 {
			status = http.StatusUnauthorized
		}
		return renderSSOProblem(w, status, lang, rf.Reason)
	}
	role, ok := p.Role(groups)
	if !ok {
		s.Logger.Warn("sso sign-in refused", "provider", p.ID(), "reason", oidc.ReasonGroups, "email", id.Email, "groups", len(groups))
		return renderSSOProblem(w, http.StatusForbidden, lang, oidc.ReasonGroups)
	}
	secret, _, err := s.Auth.SignInIdentity(r.Context(), id, role)
	if err != nil {
		switch optimum.ErrorCode(err) {
		case optimum.EFORBIDDEN:
			return renderSSOProblem(w, http.StatusForbidden, lang, "disabled")
		case optimum.EINVALID:
			return renderSSOProblem(w, http.StatusForbidden, lang, oidc.ReasonEmail)
		case optimum.ECONFLICT:
			s.Logger.Warn("sso sign-in refused", "provider", p.ID(), "email", id.Email, "err", err)
			return renderSSOProblem(w, http.StatusConflict, lang, "conflict")
		}
		return err
	}
	s.setSession(w, r, secret)
	http.Redirect(w, r, "/#/tablero", http.StatusSeeOther)
	return nil
}

func truncateLog(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}

func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// ssoTexts are the pages of a refused sign-in, by kind: heading, message, what to do.
var ssoTexts = map[string]map[string][3]string{
	"es": {
		"unknown":     {"Este proveedor de identidad no existe", "El enlace de inicio de sesión no corresponde a ningún proveedor configurado.", "Vuelve a la página de inicio y elige tu organización."},
		"busy":        {"Demasiados intentos", "Empezaste demasiados inicios de sesión seguidos.", "Espera un momento y vuelve a intentarlo."},
		"state":       {"No pudimos terminar tu inicio de sesión", "Este inicio de sesión no es válido, ya se usó, caducó o se empezó en otro navegador.", "Vuelve a la página de inicio y elige otra vez tu organización."},
		"token":       {"No pudimos comprobar tu identidad", "Tu proveedor de identidad no dio una respuesta válida para este inicio de sesión.", "Inténtalo otra vez. Si vuelve a pasar, avisa a quien administra OPTIMUM BCP."},
		"email":       {"Tu cuenta no puede entrar aquí", "Tu proveedor de identidad no dio un correo verificado de un dominio permitido.", "Avisa a quien administra OPTIMUM BCP."},
		"groups":      {"Tu cuenta no tiene acceso a OPTIMUM BCP", "No perteneces a ningún grupo con acceso a OPTIMUM BCP.", "Pide a quien administra OPTIMUM BCP que te agregue al grupo correcto."},
		"provider":    {"No se completó el inicio de sesión", "Tu proveedor de identidad no completó el inicio de sesión.", "Vuelve a la página de inicio e inténtalo otra vez."},
		"unavailable": {"No pudimos contactar a tu proveedor de identidad", "El servicio de inicio de sesión de tu organización no respondió.", "Inténtalo de nuevo en unos minutos."},
		"groups_unavailable": {"No pudimos leer tus grupos", "Perteneces a tantos grupos que tu proveedor de identidad no los envía al iniciar sesión, y no pudimos consultarlos en Microsoft Graph; sin ellos no sabemos qué acceso te corresponde.",
			"Inténtalo de nuevo en unos minutos. Si vuelve a pasar, avisa a quien administra OPTIMUM BCP."},
		"disabled": {"Tu usuario está desactivado", "No puedes entrar a OPTIMUM BCP con este usuario.", "Pide ayuda a quien administra OPTIMUM BCP."},
		"conflict": {"No pudimos iniciar tu sesión", "Tu nuevo rol dejaría OPTIMUM BCP sin ninguna persona administradora.", "Avisa a quien administra OPTIMUM BCP."},
		"open":     {"Volver a la página de inicio"},
	},
	"en": {
		"unknown":     {"This identity provider does not exist", "The sign-in link does not match any configured provider.", "Go back to the home page and choose your organisation."},
		"busy":        {"Too many attempts", "You started too many sign-ins in a row.", "Wait a moment and try again."},
		"state":       {"We could not finish your sign-in", "This sign-in is not valid, was already used, has expired or was started in another browser.", "Go back to the home page and choose your organisation again."},
		"token":       {"We could not check who you are", "Your identity provider did not give a valid answer for this sign-in.", "Try again. If it happens again, tell whoever runs OPTIMUM BCP."},
		"email":       {"Your account cannot sign in here", "Your identity provider gave no verified email of an allowed domain.", "Tell whoever runs OPTIMUM BCP."},
		"groups":      {"Your account has no access to OPTIMUM BCP", "You are not in any group with access to OPTIMUM BCP.", "Ask whoever runs OPTIMUM BCP to add you to the right group."},
		"provider":    {"The sign-in was not completed", "Your identity provider did not complete the sign-in.", "Go back to the home page and try again."},
		"unavailable": {"We could not reach your identity provider", "Your organisation's sign-in service did not answer.", "Try again in a few minutes."},
		"groups_unavailable": {"We could not read your groups", "You are in so many groups that your identity provider does not send them at sign-in, and we could not look them up in Microsoft Graph; without them we do not know what access you have.",
			"Try again in a few minutes. If it happens again, tell whoever runs OPTIMUM BCP."},
		"disabled": {"Your user is disabled", "You cannot sign in to OPTIMUM BCP with this user.", "Ask whoever runs OPTIMUM BCP for help."},
		"conflict": {"We could not sign you in", "Your new role would leave OPTIMUM BCP without any administrator.", "Tell whoever runs OPTIMUM BCP."},
		"open":     {"Back to the home page"},
	},
}

// renderSSOProblem writes the page of a refused sign-in, in the person's language, on the
// page of the other links (linkpage.go). It carries data-reason for tests and support.
func renderSSOProblem(w http.ResponseWriter, status int, lang, kind string) error {
	t := ssoTexts[lang]
	if t == nil {
		t = ssoTexts[langES]
	}
	txt, ok := t[kind]
	if !ok {
		txt = t["token"]
	}
	w.Header().Set("X-Optimum-Sign-In-Refused", kind)
	linkPageHeaders(w)
	w.WriteHeader(status)
	return linkProblemPage.Execute(w, map[string]any{"Lang": lang, "T": map[string]string{"open": t["open"][0]},
		"Inc": incident.Incident{}, "Heading": txt[0], "Message": txt[1], "Next": txt[2]})
}
