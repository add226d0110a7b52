package httpapi

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// The API's messages are written in English, in the code that finds the problem. The
// web app speaks Spanish first, so writeError answers in the language of the request's
// Accept-Language: English for en (any region), Spanish otherwise, since our users speak
// Spanish first and a problem must read well to them whatever sent it. Spanish comes from
// the catalog below, one entry per message shape; a message without an entry is left in
// English. i18n_test.go reads the source and fails when a message has no entry.

// Languages of the API's answers.
const (
	langES = "es"
	langEN = "en"
)

// requestLang is "en" when the language the request prefers most (the highest q of
// Accept-Language, the first one on a tie) is English, and "es" otherwise: Spanish is the
// product's first language, so a client that sends nothing (a script, curl) gets Spanish.
func requestLang(r *http.Request) string {
	if r == nil {
		return langES
	}
	best, bestQ := "", 0.0
	for _, h := range r.Header.Values("Accept-Language") {
		for _, part := range strings.Split(h, ",") {
			tag, params, _ := strings.Cut(part, ";")
			tag = strings.TrimSpace(tag)
			if tag == "" {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
						q = f
					}
				}
			}
			if q > bestQ {
				best, bestQ = tag, q
			}
		}
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(best, "_", "-"), "-")
	if strings.EqualFold(primary, langEN) {
		return langEN
	}
	return langES
}

// translate returns msg in lang: msg itself for English or a message with no entry.
func translate(lang, msg string) string {
	if lang != langES || msg == "" {
		return msg
	}
	for i := range catalog {
		if out, ok := catalog[i].apply(msg); ok {
			return out
		}
	}
	return msg
}

// problemTitle is the problem's title: the status text, in lang.
func problemTitle(lang string, status int) string {
	if lang == langES {
		if t, ok := statusTitlesES[status]; ok {
			return t
		}
	}
	return http.StatusText(status)
}

var statusTitlesES = map[int]string{
	http.StatusBadRequest:            "Solicitud incorrecta",
	http.StatusUnauthorized:          "No autorizado",
	http.StatusForbidden:             "Prohibido",
	http.StatusNotFound:              "No encontrado",
	http.StatusMethodNotAllowed:      "Método no permitido",
	http.StatusConflict:              "Conflicto",
	http.StatusRequestEntityTooLarge: "Contenido demasiado grande",
	http.StatusUnsupportedMediaType:  "Tipo de contenido no admitido",
	http.StatusUnprocessableEntity:   "Datos no válidos",
	http.StatusTooManyRequests:       "Demasiadas solicitudes",
	http.StatusInternalServerError:   "Error interno del servidor",
	http.StatusServiceUnavailable:    "Servicio no disponible",
}

// localize puts the title, the detail and the field messages of p in lang. The field
// errors are copied: they belong to the error, which may be shared.
func (p *problem) localize(lang string) {
	p.Title = problemTitle(lang, p.Status)
	if lang == langEN {
		return
	}
	p.Detail = translate(lang, p.Detail)
	if len(p.Errors) > 0 {
		fields := make([]optimum.FieldError, len(p.Errors))
		for i, f := range p.Errors {
			fields[i] = optimum.FieldError{Field: f.Field, Message: translate(lang, f.Message)}
		}
		p.Errors = fields
	}
}

// localizeExtra puts the messages of an extra problem member in lang: the rows of an
// import report. Other values are returned as they are.
func localizeExtra(lang string, v any) any {
	if lang == langEN {
		return v
	}
	switch rep := v.(type) {
	case *contacts.ImportReport:
		if rep == nil {
			return v
		}
		return localizeExtra(lang, *rep)
	case contacts.ImportReport:
		rows := make([]contacts.RowError, len(rep.Errors))
		for i, e := range rep.Errors {
			e.Message = translate(lang, e.Message)
			rows[i] = e
		}
		rep.Errors = rows
		return rep
	}
	return v
}

// phrase is one message shape of the catalog.
type phrase struct {
	// en is the English message as the Go format that makes it: %q is a quoted value,
	// %d a number, %s and %v any text. pattern replaces it when the message is built by
	// concatenation with optional parts.
	en      string
	pattern string
	// es is the Spanish message: $1…$9 are the variable parts, in order. fn replaces it
	// when a part needs words around it (a plural, an enum's Spanish name).
	es string
	fn func(g []string) string

	re             *regexp.Regexp
	prefix, suffix string // literal text around the variable parts, a cheap first test
}

func (p *phrase) apply(msg string) (string, bool) {
	if !strings.HasPrefix(msg, p.prefix) || !strings.HasSuffix(msg, p.suffix) {
		return "", false
	}
	g := p.re.FindStringSubmatch(msg)
	if g == nil {
		return "", false
	}
	if p.fn != nil {
		return p.fn(g), true
	}
	return expand(p.es, g), true
}

// expand replaces $1…$9 in tmpl with the groups.
func expand(tmpl string, g []string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if c := tmpl[i]; c == '$' && i+1 < len(tmpl) && tmpl[i+1] >= '1' && tmpl[i+1] <= '9' {
			if n := int(tmpl[i+1] - '0'); n < len(g) {
				b.WriteString(g[n])
			}
			i++
			continue
		}
		b.WriteByte(tmpl[i])
	}
	return b.String()
}

var formatVerb = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// compile builds the regexp of a phrase: the literal text of its format quoted, each
// verb a group.
func (p *phrase) compile() {
	if p.pattern != "" {
		p.re = regexp.MustCompile(p.pattern)
		return
	}
	var b strings.Builder
	b.WriteString(`(?s)^`)
	last := 0
	locs := formatVerb.FindAllStringIndex(p.en, -1)
	for _, loc := range locs {
		b.WriteString(regexp.QuoteMeta(p.en[last:loc[0]]))
		switch verb := p.en[loc[1]-1]; verb {
		case '%':
			b.WriteString(`%`)
		case 'q':
			b.WriteString(`(".*?")`)
		case 'd':
			b.WriteString(`(-?\d+)`)
		default:
			b.WriteString(`(.*?)`)
		}
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(p.en[last:]))
	b.WriteString(`$`)
	p.re = regexp.MustCompile(b.String())
	if len(locs) == 0 {
		p.prefix = p.en
		return
	}
	p.prefix = strings.ReplaceAll(p.en[:locs[0][0]], "%%", "%")
	p.suffix = strings.ReplaceAll(p.en[locs[len(locs)-1][1]:], "%%", "%")
}

func compileCatalog(ps []phrase) []phrase {
	for i := range ps {
		ps[i].compile()
	}
	return ps
}

// gloss writes an API code with its Spanish name: "reporter (reporte)". Codes stay as
// they are, since they are what the API takes.
func gloss(names map[string]string, code string) string {
	if es, ok := names[strings.Trim(code, `"`)]; ok {
		return code + " (" + es + ")"
	}
	return code
}

var (
	rolesES = map[string]string{
		"admin": "administración", "manager": "continuidad", "responder": "respuesta", "reporter": "reporte",
		"lanzador": "solo desde plantillas",
	}
	statusesES = map[string]string{
		"declared": "declarada", "acknowledged": "recibida", "investigating": "en investigación",
		"resolved": "resuelta", "verified": "verificada", "closed": "cerrada", "cancelled": "cancelada",
		"reopened": "reabierta",
	}
	jsonKindsES = map[string]string{
		"string": "una cadena de texto", "number": "un número", "boolean": "un booleano (true o false)",
		"array": "una lista (array)", "object": "un objeto",
	}
)

const (
	levelsES     = "critical (crítico), high (alto), medium (medio) o low (bajo)"
	userRolesES  = "admin (administración), manager (continuidad), responder (respuesta), reporter (reporte) o lanzador (solo desde plantillas)"
	teamRolesES  = "lead (líder), member (miembro) ni backup (suplente)"
	saveAsCSVES  = `guárdalo como "CSV UTF-8" e impórtalo de nuevo`
	splitFilesES = "divídalo en varios archivos"
)

// catalog holds every message the API sends, by the file that makes it. Field names,
// parameter names, header names and codes stay in English: they are what the API takes.
var catalog = compileCatalog([]phrase{
	// Generic, and internal/httpapi/respond.go: the request itself.
	{en: "Internal error.", es: "Error interno."},
	{en: "internal error", es: "Error interno."},
	{en: "The body must be JSON (Content-Type: application/json).", es: "El cuerpo debe ser JSON (Content-Type: application/json)."},
	{en: "The body must hold a single JSON object.", es: "El cuerpo debe contener un único objeto JSON."},
	{en: "The body is larger than %d KiB.", es: "El cuerpo ocupa más de $1 KiB."},
	{en: "The body is not valid JSON (at byte %d).", es: "El cuerpo no es JSON válido (en el byte $1)."},
	{en: "The body is not valid JSON: it ends too early.", es: "El cuerpo no es JSON válido: termina antes de tiempo."},
	{en: "The body is empty; a JSON object is expected.", es: "El cuerpo está vacío; se esperaba un objeto JSON."},
	{en: "The field %q must be a JSON %s.", fn: func(g []string) string {
		if kind, ok := jsonKindsES[g[2]]; ok {
			return "El campo " + g[1] + " debe ser " + kind + " en JSON."
		}
		return "El campo " + g[1] + " debe ser de tipo JSON " + g[2] + "."
	}},
	{en: "The body must be a JSON object.", es: "El cuerpo debe ser un objeto JSON."},
	{en: "The body has an unknown field %s.", es: "El cuerpo tiene un campo desconocido: $1."},
	{en: "The body is not valid JSON.", es: "El cuerpo no es JSON válido."},
	{en: "The body could not be read.", es: "No se pudo leer el cuerpo de la solicitud."},
	{en: "The body is not a form.", es: "El cuerpo no es un formulario."},
	{en: "The form could not be read.", es: "No se pudo leer el formulario."},
	{en: "Only GET and HEAD are allowed here.", es: "Aquí solo se admiten GET y HEAD."},
	{en: "There is no %s %s in this API.", es: "No existe $1 $2 en esta API."},
	{en: "Not ready: %v", es: "No está listo: $1"},
	{en: "The id in the body (%q) differs from the one in the path.", es: "El id del cuerpo ($1) no coincide con el de la ruta."},
	{en: "dry_run must be true or false.", es: "dry_run debe ser true o false."},

	// Signing in, sessions, tokens and users: internal/httpapi, internal/auth, internal/store.
	{en: "Missing or invalid credentials.", es: "Credenciales ausentes o no válidas."},
	{en: "The Authorization header must be \"Bearer <token>\".", es: "El encabezado Authorization debe ser \"Bearer <token>\"."},
	{en: "Sign in or send \"Authorization: Bearer <token>\".", es: "Inicia sesión o envía \"Authorization: Bearer <token>\"."},
	{en: "Your role (%s) may not do this; it needs %s or above.", fn: func(g []string) string {
		return "Tu rol, " + gloss(rolesES, g[1]) + ", no permite esta acción; se necesita " + gloss(rolesES, g[2]) + " o un rol superior."
	}},
	{en: "Sign-in needs an email and a password.", es: "Para iniciar sesión se necesitan un correo y una contraseña."},
	{en: `Send either {"token": "…"} or {"email": "…", "password": "…"}.`, es: `Envíe {"token": "…"} o bien {"email": "…", "password": "…"}.`},
	{en: "The email or the password is wrong.", es: "El correo o la contraseña son incorrectos."},
	{en: "Too many sign-in attempts. Wait a moment and try again.", es: "Demasiados intentos de inicio de sesión. Espera un momento e inténtalo de nuevo."},
	{en: "This login link is unknown, already used or expired.", es: "Este enlace de acceso no es válido, ya se usó o expiró."},
	{en: "This link is unknown, already used or expired. Ask an administrator for a new one.", es: "Este enlace no es válido, ya se usó o expiró. Pide uno nuevo a un administrador."},
	{en: "The token has errors.", es: "El token tiene errores."},
	{en: "The user has errors.", es: "Los datos del usuario tienen errores."},
	{en: "The change has errors.", es: "El cambio tiene errores."},
	{en: "The user %s is disabled; enable them first.", es: "El usuario $1 está desactivado; actívelo primero."},
	{en: "Only users have a password; an API token has none.", es: "Solo los usuarios tienen contraseña; un token de API no tiene."},
	{en: "The password was not changed.", es: "La contraseña no se cambió."},
	{en: "The password does not meet the policy.", es: "La contraseña no cumple la política de contraseñas."},
	{en: "A user with the email %s already exists.", es: "Ya existe un usuario con el correo $1."},
	{en: "This would leave no admin: make another user admin first, or create an admin token.", es: "Así no quedaría ningún administrador: primero haga administrador a otro usuario o cree un token de administrador."},
	{en: "No user has the id %q.", es: "No hay ningún usuario con el id $1."},
	{en: "No live token has the id %q.", es: "No hay ningún token vigente con el id $1."},
	{en: "No such token.", es: "El token no existe."},
	{en: "No such session.", es: "La sesión no existe."},
	{en: "No such login code.", es: "El código de acceso no existe."},
	{en: "No such user.", es: "El usuario no existe."},
	{en: "No such code.", es: "El código no existe."},
	{en: "is required, at most %d characters", es: "es obligatorio, como máximo $1 caracteres"},
	{en: "%q is not one of admin, manager, responder, reporter, lanzador", es: "$1 no es ninguno de estos roles: " + userRolesES},
	{en: "%q is not one of admin, manager, responder, reporter, lanzador, scim, integration", es: "$1 no es ninguno de estos roles: " + userRolesES + ", scim, integration"},
	{en: "must be an email address such as ana@example.com", es: "debe ser una dirección de correo como ana@example.com"},
	{en: "is not your current password", es: "no es tu contraseña actual"},
	{en: "must differ from the current password", es: "debe ser distinta de la contraseña actual"},
	{en: "must be valid UTF-8 text", es: "debe ser texto UTF-8 válido"},
	{en: "must have at least %d characters", es: "debe tener al menos $1 caracteres"},
	{en: "must have at most %d characters", es: "debe tener como máximo $1 caracteres"},
	{en: "must not be the email address", es: "no puede ser la dirección de correo"},

	// Rate limits: internal/httpapi/ratelimit.go.
	{en: "Too many declarations in a short time. Wait a moment and try again; if the crisis is real, call the continuity team.",
		es: "Demasiadas declaraciones en poco tiempo. Espera un momento e inténtalo de nuevo; si la crisis es real, llama al equipo de continuidad."},

	// Limits of capability links, webhooks and non-alert SMS (internal/httpapi/ratelimit.go, verify.go).
	{en: "Too many answers from this link in a short time. Wait a moment and try again.",
		es: "Demasiadas respuestas desde este enlace en poco tiempo. Espera un momento y vuelve a intentarlo."},
	{en: "Too many unknown or expired links from your address. Wait a moment and try again; if your link does not work, ask the continuity team.",
		es: "Demasiados enlaces desconocidos o vencidos desde tu dirección. Espera un momento y vuelve a intentarlo; si tu enlace no funciona, avisa al equipo de continuidad."},
	{en: "Too many unsigned webhook requests from this address.", es: "Demasiadas solicitudes de webhook sin firma válida desde esta dirección."},
	{en: "This server has sent as many verification codes as it may today. Try again tomorrow; alerts still go out.",
		es: "Este servidor ya envió hoy todos los códigos de verificación que tiene permitidos. Vuelve a intentarlo mañana; las alertas se siguen enviando."},
	{en: "Too many codes were sent to this number recently. Wait before asking for another one.",
		es: "Se enviaron demasiados códigos a este número hace poco. Espera antes de pedir otro."},
	{en: "You asked for too many codes recently. Wait before asking for another one.",
		es: "Pediste demasiados códigos hace poco. Espera antes de pedir otro."},

	// Incidents: incident, internal/httpapi/incidents.go, internal/store.
	{en: "Sign in to declare an incident.", es: "Inicia sesión para declarar una crisis."},
	{en: "Sign in to acknowledge.", es: "Inicia sesión para acusar recibo."},
	{en: "The declaration has errors.", es: "La declaración tiene errores."},
	{en: "Idempotency-Key is too long (at most %d characters).", es: "El encabezado Idempotency-Key es demasiado largo (como máximo $1 caracteres)."},
	{en: "This Idempotency-Key was already used for a different declaration.", es: "Esta Idempotency-Key ya se usó para una declaración distinta."},
	{en: "Incident %s is %s; it can no longer be acknowledged.", fn: func(g []string) string {
		state := g[2]
		if es, ok := statusesES[state]; ok {
			state = es + " (" + state + ")"
		}
		return "La crisis " + g[1] + " ya está " + state + "; ya no se puede acusar recibo."
	}},
	{en: "Incident %s does not exist.", es: "La crisis $1 no existe."},
	{en: "The answer has errors.", es: "La respuesta tiene errores."},
	{en: "The answer must be safe or help_needed.", es: "La respuesta debe ser safe (a salvo) o help_needed (necesita ayuda)."},
	{en: "Incident %s does not ask whether people are safe; acknowledge it instead.", es: "La crisis $1 no pregunta si las personas están a salvo; acuse recibo en su lugar."},
	{en: "Only a person of the directory can answer a safety poll; your account is not linked to one.", es: "Solo una persona del directorio puede contestar una encuesta de seguridad; tu cuenta no está vinculada a ninguna."},
	{en: "This link is unknown or has expired.", es: "Este enlace no es válido o ya expiró."},
	{en: "No such link.", es: "El enlace no existe."},
	{en: "The time range is empty or reversed: from must be before to.", es: "El intervalo de tiempo está vacío o invertido: from debe ser anterior a to."},
	{en: "The search text is too long (at most %d characters).", es: "El texto de búsqueda es demasiado largo (como máximo $1 caracteres)."},
	{en: "No incident has the id or folio %q.", es: "No hay ninguna crisis con el id o folio $1."},
	{en: "The paging cursor %q is not an incident id.", es: "El cursor de paginación $1 no es el id de una crisis."},
	{en: "The list parameters have errors.", es: "Los parámetros de la lista tienen errores."},
	{en: "The stream parameters have errors.", es: "Los parámetros del flujo de eventos tienen errores."},
	{en: "The server is shutting down; try again.", es: "El servidor se está deteniendo; inténtalo de nuevo."},
	{en: "The stream cannot resume after event %d: the newest event is %d.", es: "El flujo de eventos no puede reanudarse después del evento $1: el más reciente es el $2."},
	{en: "is beyond the newest event, %d", es: "está más allá del evento más reciente, el $1"},
	{en: "The server is busy with many declarations at once. Nothing was declared; try again in a moment.", es: "El servidor está atendiendo muchas declaraciones a la vez. No se declaró nada; inténtalo de nuevo en un momento."},
	{en: "No delivery has the id %q.", es: "No hay ningún envío con el id $1."},
	{en: "is required", es: "es obligatorio"},
	{en: "must be UTF-8 text", es: "debe ser texto UTF-8"},
	{en: "is too long: %d characters, at most %d", es: "es demasiado largo: $1 caracteres, como máximo $2"},
	{en: "must not contain control characters", es: "no debe contener caracteres de control"},
	{en: "has %d items, at most %d", es: "tiene $1 elementos, como máximo $2"},
	{en: "is required: critical, high, medium or low", es: "es obligatorio: " + levelsES},
	{en: "%q is not one of critical, high, medium or low", es: "$1 no es ninguno de estos valores: " + levelsES},
	{en: "%q is not a known team (%s)", es: "$1 no es un equipo conocido ($2)"},
	{en: "unknown status %q", es: "estado desconocido: $1"},
	{en: "unknown priority %q (P1-P5)", es: "prioridad desconocida: $1 (P1-P5)"},
	{en: "must be true or false", es: "debe ser true o false"},
	{en: "must be an RFC 3339 time such as 2026-11-22T08:00:00Z", es: "debe ser una fecha y hora RFC 3339, como 2026-11-22T08:00:00Z"},
	{en: "must be a whole number from %d to %d", es: "debe ser un número entero de $1 a $2"},
	{en: "unknown parameter (%s)", es: "parámetro desconocido (se admiten: $1)"},
	{en: "must be an event id (a whole number, 0 or more)", es: "debe ser un id de evento (un número entero, 0 o mayor)"},

	// The directory: contacts, internal/httpapi/people.go, teams.go.
	{en: "The person has errors.", es: "Los datos de la persona tienen errores."},
	{en: "The team has errors.", es: "El equipo tiene errores."},
	{en: "The service has errors.", es: "El servicio tiene errores."},
	{en: "The audience has errors.", es: "La lista de destinatarios tiene errores."},
	{en: "No person has the id %q.", es: "No hay ninguna persona con el id $1."},
	{en: "No team has the id %q.", es: "No hay ningún equipo con el id $1."},
	{en: "Nobody in the directory has the id %q.", es: "Nadie en el directorio tiene el id $1."},
	{en: "Nobody in the directory has the id or email %q.", es: "Nadie en el directorio tiene el id o correo $1."},
	{en: "Nobody has the phone %s.", es: "Nadie tiene el teléfono $1."},
	{en: "The paging cursor %q is not a person id.", es: "El cursor de paginación $1 no es el id de una persona."},
	{en: "Your account is not linked to a person in the directory; ask a continuity manager to add you with your email.",
		es: "Tu cuenta no está vinculada a ninguna persona del directorio; pide a un responsable de continuidad que te dé de alta con tu correo."},
	{en: "is too long", es: "es demasiado largo"},
	{en: "%q is not an email address", es: "$1 no es una dirección de correo válida"},
	{en: "%q must start with + and the country code (e.g. +52 55 1234 5678)", es: "$1 debe empezar por + y el código del país (p. ej., +52 55 1234 5678)"},
	{en: "%q is not a valid phone number", es: "$1 no es un número de teléfono válido"},
	{en: "%q is not es or en", es: "$1 no es es (español) ni en (inglés)"},
	{en: "%q is not an IANA time zone such as America/Mexico_City", es: "$1 no es una zona horaria IANA como America/Mexico_City"},
	{en: "a person cannot be their own manager", es: "nadie puede ser su propio superior"},
	{en: "is too long (at most %d characters)", es: "es demasiado largo (como máximo $1 caracteres)"},
	{en: "has %d teams, at most %d", es: "tiene $1 equipos, como máximo $2"},
	{en: "names no team", es: "no indica ningún equipo"},
	{en: "role %q is not lead, member or backup", es: "el rol $1 no es " + teamRolesES},
	{en: "%q is not lead, member or backup", es: "$1 no es " + teamRolesES},
	{en: "%q is listed twice", es: "$1 aparece dos veces"},
	{en: "%s already belongs to %s", es: "$1 ya pertenece a $2"},
	{en: "%q is not in the directory", es: "$1 no está en el directorio"},
	{en: "nobody in the directory has the email %s", es: "nadie en el directorio tiene el correo $1"},
	{en: "%s reports (directly or not) to this person: that would be a cycle", es: "$1 depende (directa o indirectamente) de esta persona: se formaría un ciclo"},
	{en: "must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit", es: "debe tener de 1 a 64 caracteres entre minúsculas, dígitos, '-' o '_', y empezar por una letra o un dígito"},
	{en: "must be 1-64 lower-case letters, digits, '-' or '_'", es: "debe tener de 1 a 64 caracteres entre minúsculas, dígitos, '-' o '_'"},
	{en: "is not a team", es: "no es un equipo"},

	// Importing the directory: contacts/import.go, contacts/importfile.go, people.go.
	{en: "Send the directory as text/csv or application/yaml.", es: "Envíe el directorio como text/csv o application/yaml."},
	{en: "The file is larger than 8 MiB; split it into several files.", es: "El archivo ocupa más de 8 MiB; " + splitFilesES + "."},
	{en: "The file has %d errors; nothing was imported.", fn: func(g []string) string {
		if g[1] == "1" {
			return "El archivo tiene 1 error; no se importó nada."
		}
		return "El archivo tiene " + g[1] + " errores; no se importó nada."
	}},
	{en: "The file is empty; the first line must be the header %s.", es: "El archivo está vacío; la primera línea debe ser el encabezado $1."},
	{en: "The header is not valid CSV: %v.", es: "El encabezado no es CSV válido: $1."},
	{en: "The header names the column %q twice.", es: "La columna $1 aparece dos veces en el encabezado."},
	{pattern: `(?s)^The header must be (.*?) \(optional: (.*?)\)\.(?: Missing: (.*?)\.)?(?: Unknown: (.*?)\.)?$`, fn: func(g []string) string {
		s := "El encabezado debe ser " + g[1] + " (opcionales: " + g[2] + ")."
		if g[3] != "" {
			s += " Faltan: " + g[3] + "."
		}
		if g[4] != "" {
			s += " Desconocidas: " + g[4] + "."
		}
		return s
	}},
	{en: "Line %d is not valid CSV: %v.", es: "La línea $1 no es CSV válido: $2."},
	{en: "The file has more than %d people; split it into several files.", es: "El archivo tiene más de $1 personas; " + splitFilesES + "."},
	{en: "The file is UTF-16; save it as \"CSV UTF-8\" and import it again.", es: "El archivo está en UTF-16; " + saveAsCSVES + "."},
	{en: "The file is not UTF-8 (line %d has a byte that is not; it looks like Latin-1 or Windows-1252). Save it as \"CSV UTF-8\" and import it again.",
		es: "El archivo no está en UTF-8 (la línea $1 tiene un byte que no lo es; parece Latin-1 o Windows-1252). Guárdalo como \"CSV UTF-8\" e impórtalo de nuevo."},
	{en: "The YAML is not valid: %v.", es: "El YAML no es válido: $1."},
	{en: "Line %d: %v.", es: "Línea $1: $2."},
	{en: "%q must be lower-case letters, digits, '-' or '_'", es: "$1 solo puede tener minúsculas, dígitos, '-' o '_'"},
	{en: "team %s needs name_es and name_en (at most 100 characters)", es: "el equipo $1 necesita name_es y name_en (como máximo 100 caracteres)"},
	{en: "%s is also on line %d", es: "$1 también está en la línea $2"},
	{en: "%s belongs to %s, not to the person with external id %q", es: "$1 pertenece a $2, no a la persona con external_id $3"},
	{en: "%q cannot be a team name", es: "$1 no puede ser el nombre de un equipo"},
	{en: "%q names the same team twice", es: "$1 nombra dos veces el mismo equipo"},
	{en: "nobody in the file or the directory has the email %s", es: "nadie en el archivo ni en el directorio tiene el correo $1"},
	{en: "the management chain loops back to %s", es: "la cadena de superiores forma un ciclo que vuelve a $1"},
	{en: "service %s needs a name (at most 200 characters)", es: "el servicio $1 necesita un nombre (como máximo 200 caracteres)"},
	{en: "service %s: %q is not a team", es: "servicio $1: $2 no es un equipo"},

	// Phone verification: contacts/verify.go, internal/httpapi/verify.go, internal/store.
	{en: "SMS is not configured on this server, so phones cannot be verified.", es: "Los SMS no están configurados en este servidor, así que no se pueden verificar teléfonos."},
	{en: "The code could not be sent; try again in a moment.", es: "No se pudo enviar el código; inténtalo de nuevo en un momento."},
	{en: "The database cannot be reached right now; try again in a moment.", es: "No se puede acceder a la base de datos en este momento; inténtalo de nuevo en un momento."},
	{en: "There is no phone to verify; add one first.", es: "No hay ningún teléfono que verificar; añada uno primero."},
	{en: "There is no code pending; ask for a new one.", es: "No hay ningún código pendiente; solicite uno nuevo."},
	{en: "No code is pending.", es: "No hay ningún código pendiente."},
	{en: "The code has expired; ask for a new one.", es: "El código expiró; solicite uno nuevo."},
	{en: "Too many wrong codes; ask for a new one.", es: "Demasiados códigos incorrectos; solicite uno nuevo."},
	{en: "The code is wrong.", es: "El código es incorrecto."},
	{en: "is not the code we sent", es: "no es el código que le enviamos"},
	{en: "The phone changed since the code was sent; ask for a new one.", es: "El teléfono cambió después de enviar el código; solicite uno nuevo."},

	// Web push: internal/httpapi/push.go, broadcast/webpush/subscription.go.
	{en: "Web push notifications are not configured on this server.", es: "Las notificaciones web push no están configuradas en este servidor."},
	{en: "The unsubscription has errors.", es: "La solicitud de baja tiene errores."},
	{en: "is required: the endpoint of the browser's PushSubscription", es: "es obligatorio: el endpoint de la PushSubscription del navegador"},
	{en: "You have no subscribed browser with the id %q.", es: "No tiene ningún navegador suscrito con el id $1."},
	{en: "No browser of yours is subscribed to notifications yet; allow notifications in this browser first.",
		es: "Todavía no tiene ningún navegador suscrito a las notificaciones; primero permita las notificaciones en este navegador."},
	{en: "The push subscription has errors.", es: "La suscripción a las notificaciones tiene errores."},
	{en: "is larger than 8 KiB; a browser's PushSubscription is far smaller", es: "ocupa más de 8 KiB; la PushSubscription de un navegador es mucho más pequeña"},
	{en: "must be the JSON of a PushSubscription: {endpoint, expirationTime, keys: {p256dh, auth}}", es: "debe ser el JSON de una PushSubscription: {endpoint, expirationTime, keys: {p256dh, auth}}"},
	{en: "must be null or a time in milliseconds", es: "debe ser null o un instante en milisegundos"},
	{en: "is required: {p256dh, auth}", es: "es obligatorio: {p256dh, auth}"},
	{en: "must be a base64url uncompressed P-256 public key (65 bytes)", es: "debe ser una clave pública P-256 sin comprimir, en base64url (65 bytes)"},
	{en: "is not a point on the P-256 curve", es: "no es un punto de la curva P-256"},
	{en: "must be a base64url secret of 16 bytes", es: "debe ser un secreto de 16 bytes en base64url"},
	{en: "is longer than 2048 characters", es: "tiene más de 2048 caracteres"},
	{en: "must be an absolute URL of a push service", es: "debe ser la URL absoluta de un servicio push"},
	{en: "must not carry credentials or a fragment", es: "no debe llevar credenciales ni fragmento"},
	{en: "must use https", es: "debe usar https"},

	// Escalation: ladders and manual escalation (escalation/, internal/store/ladders.go).
	{en: "Incident %s has no escalation.", es: "El incidente $1 no tiene escalamiento."},
	{en: "Incident %s is %s; it can no longer be escalated.", fn: func(g []string) string {
		return "El incidente " + g[1] + " está " + gloss(statusesES, g[2]) + "; ya no se puede escalar."
	}},
	{en: "Ladder %s continues with %s: change it first.", es: "La escalera $1 continúa con $2: cámbiela primero."},
	{en: "No active person has the id %q.", es: "Ninguna persona activa tiene el id $1."},
	{en: "No ladder has the id %q.", es: "Ninguna escalera tiene el id $1."},
	{en: "Nobody to page.", es: "No hay nadie a quien avisar."},
	{en: "Sign in to escalate.", es: "Inicia sesión para escalar."},
	{en: "The escalation has errors.", es: "El escalamiento tiene errores."},
	{en: "The ladder has errors.", es: "La escalera de escalamiento tiene errores."},
	{en: "The target is unknown.", es: "El destinatario no existe."},
	{en: "%q is not a channel (webpush, sms, voice, email)", es: "$1 no es un canal (webpush, sms, voice, email)"},
	{en: "%q is not a ladder", es: "$1 no es una escalera"},
	{en: "%q is not a priority (P1-P5)", es: "$1 no es una prioridad (P1-P5)"},
	{en: "%q is not a service", es: "$1 no es un servicio"},
	{en: "%q is not a team, a service or a person", es: "$1 no es un equipo, un servicio ni una persona"},
	{en: "%q is not an active person in the directory", es: "$1 no es una persona activa del directorio"},
	{en: "%q is used by two ladders", es: "$1 lo usan dos escaleras"},
	{en: "%q must be lower-case letters, digits, '-' or '_' (1-64)", es: "$1 debe tener solo minúsculas, dígitos, '-' o '_' (de 1 a 64)"},
	{en: "asks for %d acknowledgements but the step pages only %d people", es: "pide $1 confirmaciones, pero el paso solo avisa a $2 personas"},
	{en: "is not an escalation ladder", es: "no es una escalera de escalamiento"},
	{en: "is required for a functional escalation (a team, a service or a person)", es: "es obligatorio en un escalamiento funcional (un equipo, un servicio o una persona)"},
	{en: "is required: say why it needs escalating", es: "es obligatorio: indica por qué hay que escalarlo"},
	{en: "makes a cycle: %s → %s", es: "forma un ciclo: $1 → $2"},
	{en: "makes a cycle: %s", es: "forma un ciclo: $1"},
	{en: "managers_of_paged needs an earlier step: nobody has been paged yet", es: "managers_of_paged necesita un paso anterior: todavía no se ha avisado a nadie"},
	{en: "must be UTF-8 text of at most 1000 characters", es: "debe ser texto UTF-8 de como máximo 1000 caracteres"},
	{en: "must be any, all or a number of acknowledgements from 1, got %q", es: "debe ser any (una confirmación), all (todas) o un número de confirmaciones desde 1; se recibió $1"},
	{en: "must be from 0 to %d, got %d", es: "debe estar entre 0 y $1; se recibió $2"},
	{en: "must be from 0s to %v, got %v", es: "debe estar entre 0s y $1; se recibió $2"},
	{en: "must be functional or hierarchical", es: "debe ser functional (funcional) o hierarchical (jerárquico)"},
	{en: "must be positive: the next step would be paged at the same moment", es: "debe ser positivo: el paso siguiente se avisaría en el mismo instante"},
	{en: "must come after the previous reminder (%v), got %v", es: "debe ir después del recordatorio anterior ($1); se recibió $2"},
	{en: "names exactly one of team, service, person, site or managers_of_paged (a site may narrow a team)", es: "debe nombrar exactamente uno de team, service, person, site o managers_of_paged (un site puede acotar un team)"},
	{en: "names nobody active who has not acknowledged already", es: "no nombra a nadie activo que no haya confirmado ya"},
	{en: "names nobody", es: "no nombra a nadie"},
	{en: "needs 1 to %d reminders (the first is the page itself)", es: "necesita de 1 a $1 recordatorios (el primero es el propio aviso)"},
	{en: "needs 1 to %d steps, got %d", es: "necesita de 1 a $1 pasos; tiene $2"},
	{en: "needs at least one channel (webpush, sms, voice, email)", es: "necesita al menos un canal (webpush, sms, voice, email)"},
	{en: "needs at least one target", es: "necesita al menos un destinatario"},
	{en: "needs both es and en", es: "necesita es y en"},
	{en: "nobody has a manager and there is no directors team: name a team or person", es: "nadie tiene superior y no existe el equipo de dirección: indica un equipo o una persona"},
	{en: "roles need a team", es: "los roles necesitan un equipo"},
	{en: "%s was not paged for %s.", es: "$1 no recibió aviso para $2."},

	// Drills (drill/, internal/store/drills.go).
	{en: "The drill plan has errors.", es: "El plan de simulacro tiene errores."},
	{en: "The drill's audience has errors.", es: "La audiencia del simulacro tiene errores."},
	{en: "Sign in to start a drill.", es: "Inicia sesión para iniciar un simulacro."},
	{en: "A drill plan with the id %q exists already.", es: "Ya existe un plan de simulacro con el id $1."},
	{en: "No drill plan has the id %q.", es: "Ningún plan de simulacro tiene el id $1."},
	{en: "No drill run has the id %q.", es: "Ningún simulacro tiene el id $1."},
	{en: "Drill plan %q has a run going: cancel it first.", es: "El plan de simulacro $1 tiene un simulacro en curso: cancélalo primero."},
	{en: "Drill plan %q already has a run going: cancel it or wait for its window to close.", es: "El plan de simulacro $1 ya tiene un simulacro en curso: cancélalo o espera a que termine su ventana."},
	{en: "Drill %q is running for the same teams (%s): wait, cancel it, or start with force.", es: "El simulacro $1 está en curso para los mismos equipos ($2): espera, cancélalo o inicia con force."},
	{en: "Drill run %s is %s; only a running drill can be cancelled.", fn: func(g []string) string {
		return "El simulacro " + g[1] + " está " + gloss(drillStatusesES, g[2]) + "; solo se puede cancelar un simulacro en curso."
	}},
	{en: "must be 1 to 64 lower-case letters, digits, - or _", es: "debe tener de 1 a 64 minúsculas, dígitos, - o _"},
	{en: "is longer than %d characters", es: "tiene más de $1 caracteres"},
	{en: "the audience is empty: name at least one team or site", es: "la audiencia está vacía: indica al menos un equipo o un sitio"},
	{en: "the audience is empty: nobody active is in these teams or sites", es: "la audiencia está vacía: nadie activo pertenece a estos equipos o sitios"},
	{en: "has more than %d teams", es: "tiene más de $1 equipos"},
	{en: "has more than %d criteria", es: "tiene más de $1 criterios"},
	{en: "must be critical, high, medium or low", es: "debe ser critical, high, medium o low"},
	{en: "must be between 1m and 168h", es: "debe estar entre 1m y 168h"},
	{en: "must be between 0s and 168h", es: "debe estar entre 0s y 168h"},
	{en: "needs a schedule", es: "necesita una programación"},
	{en: "team %q is not in the drill's audience", es: "el equipo $1 no está en la audiencia del simulacro"},
	{en: "must be all, team:<id> or role:<lead|member|backup>", es: "debe ser all, team:<id> o role:<lead|member|backup>"},
	{en: "must be from 1 to 100 (a share of people can never exceed 100%%)", es: "debe estar entre 1 y 100 (un porcentaje de personas nunca supera el 100%)"},
	{en: "must be more than 0: nobody acknowledges in no time", es: "debe ser mayor que 0: nadie confirma en tiempo cero"},
	{en: "is longer than the window (%s): it could never be judged", es: "es más largo que la ventana ($1): nunca podría evaluarse"},
	{en: "%q is not a cron spec with seconds such as \"0 0 10 * * MON\"", es: "$1 no es una expresión cron con segundos como \"0 0 10 * * MON\""},

	// Twilio's webhooks (answered as problems only when the request is not Twilio's).
	{en: "The request is not signed by Twilio for this server.", es: "La solicitud no está firmada por Twilio para este servidor."},
	{en: "The request has no %s id (%s).", fn: func(g []string) string {
		return "La solicitud no trae ningún identificador de " + g[1] + " (" + strings.ReplaceAll(g[2], " or ", " o ") + ")."
	}},
	{en: "This request is being processed; try again in a moment.", es: "Esta solicitud se está procesando; vuelve a intentarlo en un momento."},
	{en: "A status callback needs ?d=<delivery> and a status.", es: "Una notificación de estado necesita ?d=<delivery> y un estado."},
	// sms2: Vonage's webhooks.
	{en: "The request is not signed by %s for this server.", es: "La solicitud no está firmada por $1 para este servidor."},
	{en: "A delivery receipt needs ?d=<delivery> or a client-ref.", es: "Un acuse de entrega necesita ?d=<delivery> o un client-ref."},
	{en: "A call event needs ?d=<delivery>.", es: "Un evento de llamada necesita ?d=<delivery>."},

	// indicators/ and internal/httpapi/indicators.go, metrics.go: the dashboard and the scrape.
	{en: "The indicators query is not valid.", es: "La consulta de indicadores no es válida."},
	{en: "The range needs a start and an end.", es: "El periodo necesita un inicio y un fin."},
	{en: "The end of the range must be after its start.", es: "El fin del periodo debe ser posterior a su inicio."},
	{en: "The range may cover at most %d days.", es: "El periodo puede abarcar como máximo $1 días."},
	{en: "%q is not a priority; use P1, P2, P3, P4 or P5.", es: "$1 no es una prioridad; use P1, P2, P3, P4 o P5."},
	{en: "%q is not a bucket; use hour or day.", es: "$1 no es un intervalo; use hour (hora) o day (día)."},
	{en: "Hour buckets cover at most %d days; use day.", es: "Los intervalos por hora abarcan como máximo $1 días; use day (día)."},
	{en: "%q is not a time: use RFC 3339 (2026-11-02T09:00:00-06:00) or a date (2026-11-02).", es: "$1 no es una fecha ni una hora: use RFC 3339 (2026-11-02T09:00:00-06:00) o una fecha (2026-11-02)."},
	{en: "%q is not a filter of the indicators; use from, to, priority, service, team, site or bucket.", es: "$1 no es un filtro de los indicadores; usa from, to, priority, service, team, site o bucket."},
	{en: "Indicator tables are CSV files: add .csv to %q.", es: "Las tablas de indicadores son archivos CSV: añada .csv a $1."},
	{en: "There is no indicator table %q; the tables are %s.", es: "No existe la tabla de indicadores $1; las tablas son $2."},
	{en: "Cross-origin requests that change data are refused; send it from the app's own page or without a browser.", es: "Se rechazan las solicitudes de otro origen que cambian datos; envíala desde la página de la aplicación o sin navegador."},
	{en: "Metrics are not enabled on this server.", es: "Las métricas no están activadas en este servidor."},
	{en: "Metrics need an admin bearer token, or a request from an allowed network (metrics.allow_networks).", es: "Las métricas necesitan un token de administración (Bearer) o una solicitud desde una red permitida (metrics.allow_networks)."},
	{en: "Your role (%s) may not read metrics; it needs admin.", fn: func(g []string) string {
		return "Tu rol, " + gloss(rolesES, g[1]) + ", no permite leer las métricas; se necesita " + gloss(rolesES, "admin") + "."
	}},
	// The incident worked after its declaration: incident/lifecycle.go, requester.go,
	// search.go, templates.go and internal/httpapi/desk.go, conformity.go.
	{en: "Sign in to work on incidents.", es: "Inicia sesión para trabajar en las crisis."},
	{en: "The transition has errors.", es: "El cambio de estado tiene errores."},
	{en: "The assignment has errors.", es: "La asignación tiene errores."},
	{en: "The reclassification has errors.", es: "La reclasificación tiene errores."},
	{en: "The request has errors.", es: "La solicitud tiene errores."},
	{en: "The search has errors.", es: "La búsqueda tiene errores."},
	{en: "The template has errors.", es: "La plantilla tiene errores."},
	{en: "The update has errors.", es: "La actualización tiene errores."},
	{en: "Only a continuity manager may close an incident without the requester's conformity.", es: "Solo un responsable de continuidad puede cerrar una crisis sin la conformidad de quien la reportó."},
	{en: "Incident %s is %s and cannot move to %s; allowed: %s.", fn: func(g []string) string {
		allowed := strings.Split(g[4], ", ")
		for i, a := range allowed {
			allowed[i] = gloss(statusesES, a)
		}
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + " y no puede pasar a " + gloss(statusesES, g[3]) + "; se permite: " + strings.Join(allowed, ", ") + "."
	}},
	{en: "Incident %s is %s and cannot move to %s; it is final.", fn: func(g []string) string {
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + " y no puede pasar a " + gloss(statusesES, g[3]) + "; es un estado final."
	}},
	{en: "Incident %s is %s; it can no longer be assigned.", fn: func(g []string) string {
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + "; ya no se puede asignar."
	}},
	{en: "Incident %s is %s; it can no longer be reclassified.", fn: func(g []string) string {
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + "; ya no se puede reclasificar."
	}},
	{en: "Incident %s is %s; it can no longer be %s.", fn: func(g []string) string {
		what := map[string]string{"asked for information": "pedir información", "given information": "recibir información", "updated": "actualizar"}[g[3]]
		if what == "" {
			what = g[3]
		}
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + "; ya no se puede " + what + "."
	}},
	{en: "Incident %s is %s; it is no longer waiting for your conformity.", fn: func(g []string) string {
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + "; ya no espera tu conformidad."
	}},
	{en: "Incident %s is not waiting for your conformity.", es: "La crisis $1 no espera tu conformidad."},
	{en: "Only the requester of incident %s can answer its conformity request.", es: "Solo quien reportó la crisis $1 puede dar su conformidad."},
	{en: "Incident %s is %s; only a resolved incident can be a known error.", fn: func(g []string) string {
		return "La crisis " + g[1] + " está " + gloss(statusesES, g[2]) + "; solo una crisis resuelta puede ser un error conocido."
	}},
	{en: "Incident %s already has impact %s and urgency %s.", es: "La crisis $1 ya tiene impacto $2 y urgencia $3."},
	// Alerts coming in from monitoring (integrations.go, alerts/).
	{en: "No proposal has that id.", es: "No hay ninguna propuesta con ese id."},
	{en: "Proposal %s is being confirmed by %s.", es: "$2 está confirmando la propuesta $1."},
	{en: "Proposal %s was already %s.", fn: func(g []string) string {
		state := map[string]string{"confirmed": "confirmada", "dismissed": "descartada", "confirming": "en confirmación"}[g[2]]
		if state == "" {
			state = g[2]
		}
		return "La propuesta " + g[1] + " ya fue " + state + "."
	}},
	{en: "The Alertmanager notification has errors.", es: "La notificación de Alertmanager tiene errores."},
	{en: "The body is not an Alertmanager notification.", es: "El cuerpo no es una notificación de Alertmanager."},
	{en: "The dismissal has errors.", es: "El descarte tiene errores."},
	{en: "The generic webhook is not configured (integrations.webhook_secret).", es: "El webhook genérico no está configurado (integrations.webhook_secret)."},
	{en: "The webhook is not signed: webhook-id, webhook-timestamp and webhook-signature are required.", es: "El webhook no está firmado: se requieren webhook-id, webhook-timestamp y webhook-signature."},
	{en: "The webhook's timestamp is not a number of seconds.", es: "El webhook-timestamp no es un número de segundos."},
	{en: "The webhook's timestamp is more than 5 minutes away: a replay, or a wrong clock.", es: "El webhook-timestamp se aleja más de 5 minutos: una repetición o un reloj equivocado."},
	{en: "No signature of the webhook matches the configured secret.", es: "Ninguna firma del webhook corresponde al secreto configurado."},
	{en: "The webhook notification has errors.", es: "La notificación del webhook tiene errores."},
	{en: "is %q; only version 4 of Alertmanager's webhook is understood", es: "es $1; solo se entiende la versión 4 del webhook de Alertmanager"},
	{en: "is not a parameter of the proposals (status)", es: "no es un parámetro de las propuestas; el único es el estado"},
	{en: "must be at most %d characters", es: "debe tener como máximo $1 caracteres"},
	{en: "must be firing or resolved", es: "debe ser firing o resolved"},
	{en: "must be open, confirmed, dismissed or all", es: "debe ser open, confirmed, dismissed o all"},
	{en: "must hold from 1 to %d alerts", es: "debe tener de 1 a $1 alertas"},
	{en: "say why the alert is not a crisis", es: "di por qué la alerta no es una crisis"},
	{en: "The proposals query has errors.", es: "La consulta de propuestas tiene errores."},
	{en: "is required, at most 1000 characters", es: "es obligatorio, como máximo 1000 caracteres"},
	{en: "is required, at most 500 characters", es: "es obligatorio, como máximo 500 caracteres"},
	// People's data rights (rights.go, store/rights.go).
	{en: "People's data rights are not available on this server.", es: "Los derechos sobre los datos personales no están disponibles en este servidor."},
	{en: "Person %s was already erased.", es: "Los datos de la persona $1 ya se borraron."},
	{en: "The erasure has errors.", es: "El borrado tiene errores."},
	{en: "is not a parameter of a person's data (format)", es: "no es un parámetro de los datos de una persona; el único es el formato"},
	{en: "must be json or csv", es: "debe ser json o csv"},
	{en: "say why (the person's request, its date), at most 2000 characters", es: "di por qué (la solicitud de la persona y su fecha), como máximo 2000 caracteres"},
	{en: "The query of a person's data has errors.", es: "La consulta de los datos de una persona tiene errores."},
	// Declaring by SMS and the hotline, the war-room bridge (issue 17.5, 17.6).
	{en: "A conference callback needs ?i=<incident>.", es: "Un aviso de la conferencia necesita ?i=<crisis>."},
	{en: "A bridge notification needs the event bridge_joined and the incident.", es: "Un aviso de la llamada de crisis necesita el evento bridge_joined y la crisis."},
	{en: "Incident %s is %s; only P1 and P2 incidents open a war-room bridge.", es: "La crisis $1 es $2; solo las crisis P1 y P2 abren una llamada de crisis."},
	{en: "No bridge has the PIN %s.", es: "Ninguna llamada de crisis tiene el PIN $1."},
	{en: "No bridge has this PIN.", es: "Ninguna llamada de crisis tiene este PIN."},
	{en: "No bridge number is configured (OPTIMUM_BRIDGE_NUMBER or TWILIO_FROM).", es: "No hay un número configurado para la llamada de crisis (OPTIMUM_BRIDGE_NUMBER o TWILIO_FROM)."},
	{en: "The call's declaration is in progress; try again.", es: "La declaración de la llamada está en curso; inténtalo de nuevo."},
	{en: "The crisis hotline is not set up.", es: "La línea de crisis no está configurada."},
	// The audit export (audit.go).
	{en: "The audit export query has errors.", es: "La consulta de la exportación de auditoría tiene errores."},
	{en: "The audit export is not available on this server.", es: "La exportación de auditoría no está disponible en este servidor."},
	{en: "is not a parameter of the audit export (from, to)", es: "no es un parámetro de la exportación de auditoría (from, to)"},
	{en: "must be after from", es: "debe ser posterior a from"},
	{en: "must be an RFC 3339 time or a date (YYYY-MM-DD)", es: "debe ser una hora RFC 3339 o una fecha (AAAA-MM-DD)"},
	{en: "is required: an RFC 3339 time or a date (YYYY-MM-DD)", es: "es obligatorio: una hora RFC 3339 o una fecha (AAAA-MM-DD)"},
	{en: "Incident %s has no requester to ask.", es: "La crisis $1 no tiene a quién preguntar: nadie la reportó."},
	{en: "No template has the id %q.", es: "No hay ninguna plantilla con el id $1."},
	{en: "The decision must be accept or reject.", es: "La decisión debe ser accept (conforme) o reject (no conforme)."},
	{en: "This conformity link has expired.", es: "Este enlace de conformidad ya expiró."},
	{en: "This conformity link is unknown.", es: "Este enlace de conformidad no es válido."},
	{en: "This conformity link was already used or replaced by a newer one.", es: "Este enlace de conformidad ya se usó o lo sustituyó otro más reciente."},
	{en: "%q is not a person in the directory", es: "$1 no es una persona del directorio"},
	{en: "%q is not a team", es: "$1 no es un equipo"},
	{en: "has no words to search for", es: "no tiene palabras que buscar"},
	{en: "has too many items (at most %d)", es: "tiene demasiados elementos (como máximo $1)"},
	{en: "is not a language of the templates (es, en)", es: "no es un idioma de las plantillas (es, en)"},
	{en: "is not a language of the app: es or en", es: "no es un idioma de la aplicación: es o en"},
	{en: "is required: %s", fn: func(g []string) string {
		why := map[string]string{
			"a reopening needs the reason":                                "reabrir requiere el motivo",
			"a cancellation needs the reason":                             "cancelar requiere el motivo",
			"a resolution needs the solution":                             "resolver requiere la solución",
			"closing without the requester's conformity needs the reason": "cerrar sin la conformidad de quien reportó requiere el motivo",
			"a reclassification needs the reason":                         "reclasificar requiere el motivo",
			"say how you know the person's answer":                        "di cómo sabes la respuesta de la persona",
			"a known error needs its workaround":                          "un error conocido requiere su solución temporal",
			"write the question for the requester":                        "escribe la pregunta para quien reportó",
			"write the answer":                                            "escribe la respuesta",
			"say what is still wrong":                                     "indica qué sigue mal",
			"say what we know":                                            "indica qué sabemos",
		}[g[1]]
		if why == "" {
			why = g[1]
		}
		return "es obligatorio: " + why
	}},
	{en: "must be 1 to 40 lower-case letters, digits or dashes", es: "debe tener de 1 a 40 letras minúsculas, cifras o guiones"},
	{en: "must be in the future", es: "debe ser una fecha futura"},
	{en: "must be within 7 days", es: "debe estar dentro de los próximos 7 días"},
	{en: "must be a whole number from 1 to 50", es: "debe ser un número entero de 1 a 50"},
	{en: "unknown parameter (q, services, causes, limit)", es: "parámetro desconocido (se admiten: q, services, causes, limit)"},
	{en: "The query has errors.", es: "La consulta tiene errores."},
	{en: "No parked event %d of %s.", es: "No hay ningún evento apartado número $1 de $2."},
	{en: "must be a whole number from 1 to 200", es: "debe ser un número entero de 1 a 200"},
	{en: "The canary is not configured: set canary.schedule and canary.person or canary.team.", es: "El canario no está configurado: define canary.schedule y canary.person o canary.team."},
	{en: "The directory sync is not configured (directory_sync.url).", es: "La sincronización del directorio no está configurada (directory_sync.url)."},
	{en: "A canary is already waiting to start.", es: "Ya hay un canario esperando para empezar."},
	// identity (issue 13.6): acknowledging what one was sent.
	{en: "Incident %s is %s; this link no longer works.", fn: func(g []string) string {
		state := g[2]
		if es, ok := statusesES[state]; ok {
			state = es
		}
		return "La crisis " + g[1] + " ya está " + state + "; este enlace ya no funciona."
	}},
	{en: "You told us you need help; a link cannot change that. Sign in to the app, or tell the continuity team.", es: "Nos dijiste que necesitas ayuda; un enlace no puede cambiarlo. Entra en la app o avisa al equipo de continuidad."},
	{en: "Only a responder can record another person's answer.", es: "Solo quien atiende crisis puede registrar la respuesta de otra persona."},
	{en: "is not among the people this incident was sent to", es: "no está entre las personas a las que se envió esta crisis"},
	{en: "Only the people this incident was sent to, and responders, can acknowledge it.", es: "Solo las personas a las que se envió esta crisis, y quienes atienden crisis, pueden acusar recibo."},
	// single sign-on (issue 18.1): internal/auth/sso.go, internal/store/sso.go, sso.go.
	{en: "This sign-in is unknown, already used, expired, or was started in another browser.", es: "Este inicio de sesión no existe, ya se usó, caducó o se empezó en otro navegador."},
	{en: "Your user is disabled; ask an administrator.", es: "Tu usuario está desactivado; pide ayuda a quien administra OPTIMUM BCP."},
	{en: "The identity provider gave no usable email address.", es: "El proveedor de identidad no dio un correo utilizable."},
	{en: "Sign-in with a password is turned off here: sign in with your organisation's account.", es: "Aquí no se entra con contraseña: entra con la cuenta de tu organización."},
	{en: "No such sign-in.", es: "Ese inicio de sesión no existe."},
	{en: "No user is linked to this identity.", es: "Ningún usuario está vinculado a esta identidad."},
	{en: "There is no identity provider %q here.", es: "Aquí no hay ningún proveedor de identidad $1."},

	// Sites, scoped roles and the lanzador (issue 18.3, 18.4): contacts/sites.go,
	// contacts/scope.go, internal/auth/scope.go, internal/httpapi/scope.go, launch.go.
	{en: "The site has errors.", es: "El sitio tiene errores."},
	{en: "is required, at most 100 characters", es: "es obligatorio, como máximo 100 caracteres"},
	{en: "%q is not a site", es: "$1 no es un sitio"},
	{en: "%q is neither a site nor the city of one", es: "$1 no es un sitio ni la ciudad de ninguno"},
	{en: "has %d sites, at most %d", es: "tiene $1 sitios, como máximo $2"},
	{en: "has more than %d sites", es: "tiene más de $1 sitios"},
	{en: "site %s: %s", es: "sitio $1: $2"},
	{en: "team %s: %s", es: "equipo $1: $2"},
	{en: "You manage only the sites %s.", es: "Solo gestionas los sitios $1."},
	{en: "You manage only the teams %s and the sites %s: the person must be in one of them.", es: "Solo gestionas los equipos $1 y los sitios $2: la persona debe estar en alguno de ellos."},
	{en: "You manage only the teams %s.", es: "Solo gestionas los equipos $1."},
	{en: "A manager limited to some teams or sites cannot import directory files; ask a manager of the whole organisation.",
		es: "Quien gestiona solo algunos equipos o sitios no puede importar archivos del directorio; pídeselo a alguien que gestione toda la organización."},
	{en: "No drill has the id %q.", es: "No hay ningún simulacro con el id $1."},
	{en: "%s reaches people beyond the teams and sites you manage.", es: "$1: llega a personas fuera de los equipos y sitios que gestionas."},
	{en: "%q is not a team or site id", es: "$1 no es el id de un equipo o de un sitio"},
	{en: "an admin cannot be limited to teams or sites", es: "una cuenta de administración no puede limitarse a algunos equipos o sitios"},
	{en: "Your role declares only from an approved template: choose one (template).", es: "Tu rol solo puede declarar desde una plantilla aprobada: elige una (template)."},
	{en: "Your role declares only from an approved template: you may add the location, the sites and whether it is a drill, nothing else.",
		es: "Tu rol solo puede declarar desde una plantilla aprobada: puedes añadir la ubicación, los sitios y si es un simulacro, nada más."},
	{en: "is not an approved template", es: "no es una plantilla aprobada"},

	// Contacts people keep themselves (issue 18.5): contacts/profile.go, reconfirm.go.
	{en: "The phone changed since the link was sent; nothing was confirmed.", es: "El teléfono cambió desde que se envió el enlace; no se confirmó nada."},
	{en: "This link is unknown, already used or expired.", es: "Este enlace no existe, ya se usó o caducó."},
	{en: "This link was already used.", es: "Este enlace ya se usó."},
	{en: "is the same number as the first phone", es: "es el mismo número que el primer teléfono"},
	{en: "must be from 0 to 120", es: "debe estar entre 0 y 120"},
	{en: "must be phone or phone2", es: "debe ser phone o phone2"},
})

// drillStatusesES names a drill run's statuses in Spanish.
var drillStatusesES = map[string]string{
	"starting": "iniciándose", "running": "en curso", "ended": "terminado", "cancelled": "cancelado",
	"skipped": "omitido", "failed": "fallido",
}
