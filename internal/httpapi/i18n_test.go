package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// --- the collector: every message the code can send over HTTP, read from the source ---

// skippedDirs are the parts of the repository whose messages never reach an HTTP
// answer, relative to the root.
var skippedDirs = map[string]string{
	".git":             "",
	"cmd":              "command-line tools: their errors go to a terminal",
	"internal/config":  "configuration errors, reported at start-up",
	"internal/loadgen": "the load generator, a client",
	"test":             "browser tests",
	"static":           "the web app",
	"docs":             "",
	"configs":          "",
}

// skippedFiles hold helpers named like the validators' that never reach HTTP.
var skippedFiles = map[string]string{
	"broadcast/twilio/config.go": "start-up configuration: bad(format, …) builds a plain error",
	"broadcast/vonage/client.go": "start-up configuration: bad(format, …) builds a plain error", // sms2
	"internal/httpapi/i18n.go":   "the translation itself",
	"internal/store/backup.go":   "optimum backup and restore: command-line errors, never an HTTP answer",
}

// messageArgs are the calls whose argument at the index is a message shown to the caller:
// the optimum constructors and the local helpers of the validators.
var messageArgs = map[string]struct {
	index  int
	format bool // the argument is a fmt format
}{
	"optimum.Errorf":  {1, true},
	"optimum.Invalid": {0, false},
	"badRequest":      {0, true},
	"notFound":        {1, true},  // internal/store: ENOTFOUND with the message
	"add":             {1, true},  // validators: add(field, format, args...)
	"fail":            {3, true},  // contacts import: fail(line, email, field, format, args...)
	"bad":             {1, false}, // bad(field, message)
}

// messageFields are the struct literals whose field is a message: "" names the first
// positional element.
var messageFields = map[string]string{
	"optimum.FieldError": "Message",
	"FieldError":         "Message", // inside package optimum
	"optimum.Error":      "Message",
	"Error":              "Message", // inside package optimum
	"RowError":           "Message",
	"FileError":          "",
	"requestError":       "detail",
}

// indirectSources are functions whose results (returned strings and errors, constants,
// and what they assign to msg) become messages through a variable or "%s": the test
// collects them there, since the sink cannot be read.
var indirectSources = map[string]string{
	"contacts/contacts.go:validEmail":                 `add("email", "%s", err)`,
	"contacts/contacts.go:E164":                       `add("phone", "%v", err)`,
	"contacts/importfile.go:ParseCSV":                 `&FileError{msg}`,
	"broadcast/webpush/subscription.go:checkEndpoint": `bad("endpoint", m)`,
	"internal/auth/password.go:CheckPassword":         `FieldError{Field: field, Message: msg}`,
	"internal/httpapi/ratelimit.go:newLimits":         `optimum.Errorf(optimum.ERATELIMITED, "%s", message)`,
	"errors.go:ErrorMessage":                          "the generic text of an internal error",
}

// passThrough are the places where a message is a variable or a bare "%s": what flows
// through them is collected at its source.
var passThrough = map[string]string{
	"errors.go:Errorf":                                    "the constructor",
	"errors.go:Invalid":                                   "the constructor",
	"internal/httpapi/respond.go:badRequest":              "the helper",
	"internal/store/store.go:notFound":                    "the helper; its callers are collected",
	"incident/declaration.go:add":                         "problems.add's definition (declarations and templates)",
	"incident/service.go:Declare":                         "re-wraps a validation error with its own message",
	"contacts/contacts.go:Validate":                       "add's definition; add(email|phone, %s|%v) come from validEmail and E164",
	"contacts/import.go:fail":                             "fail's definition",
	"contacts/sites.go:validate":                          "add's definition (sites)",
	"contacts/profile.go:validate":                        "phone2 and contact_email repeat E164's and validEmail's messages",
	"contacts/import.go:people":                           `fail(…, "%s", f.Message) repeats PersonInput.Validate's messages`,
	"contacts/importfile.go:ParseCSV":                     "FileError{msg}: msg is collected from ParseCSV",
	"broadcast/webpush/subscription.go:ParseSubscription": "bad's definition; bad(endpoint, m) comes from checkEndpoint",
	"internal/auth/password.go:CheckPassword":             "msg is collected from CheckPassword",
	"internal/httpapi/incidents.go:parseFilter":           "bad's definition",
	"internal/httpapi/indicators.go:parseIndicatorQuery":  "add's definition",
	"indicators/indicators.go:Validate":                   "add's definition",
	"internal/httpapi/ratelimit.go:rateLimited":           "the limiter's message, collected from newLimits",
	"internal/httpapi/people.go:importPeople":             "a FileError's message, collected from contacts/importfile.go",
	"escalation/ladder.go:ValidateLadders":                "add's definition",
	"escalation/ladder.go:validate":                       "add's definition",
	"internal/store/ladders.go:Resolve":                   "add's definition",
	"drill/plan.go:Validate":                              "add's definition",
	"internal/httpapi/query.go:add":                       "queryProblems.add's definition",
	"internal/httpapi/query.go:err":                       "optimum.Invalid(message, …): its callers' messages are collected",
}

type collected struct {
	samples     map[string][]string // sample message -> where
	passThrough map[string][]string // "file:func" -> where
	indirect    map[string]int      // indirectSources key -> messages found there
}

func collectMessages(t *testing.T, root string) collected {
	t.Helper()
	c := collected{samples: map[string][]string{}, passThrough: map[string][]string{}, indirect: map[string]int{}}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			name := d.Name()
			if _, skip := skippedDirs[rel]; skip || name == "testdata" || name == "node_modules" ||
				(rel != "." && strings.HasSuffix(name, "test")) { // fakes: webpushtest, twiliotest
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if _, skip := skippedFiles[rel]; skip {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0) // with object resolution: constants are followed
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			key := rel + ":var" // package-level: var errX = optimum.Errorf(…)
			fd, isFunc := decl.(*ast.FuncDecl)
			if isFunc {
				key = rel + ":" + fd.Name.Name
			}
			where := func(n ast.Node) string {
				return rel + ":" + strconv.Itoa(fset.Position(n.Pos()).Line)
			}
			add := func(n ast.Node, e ast.Expr, format bool) {
				if s, ok := sampleOf(e, format); ok {
					c.samples[s] = append(c.samples[s], where(n))
				} else {
					c.passThrough[key] = append(c.passThrough[key], where(n))
				}
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if m, ok := messageArgs[callName(n)]; ok && m.index < len(n.Args) {
						add(n, n.Args[m.index], m.format)
					}
				case *ast.CompositeLit:
					if field, ok := messageFields[typeName(n.Type)]; ok {
						if e := fieldOf(n, field); e != nil {
							add(n, e, false)
						}
					}
					if at, ok := n.Type.(*ast.ArrayType); ok && typeName(at.Elt) == "optimum.FieldError" {
						for _, el := range n.Elts {
							if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
								if e := fieldOf(cl, "Message"); e != nil {
									add(cl, e, false)
								}
							}
						}
					}
				}
				return true
			})
			if _, ok := indirectSources[key]; ok && isFunc {
				for _, s := range indirectSamples(fd) {
					c.samples[s] = append(c.samples[s], key)
					c.indirect[key]++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// callName is "optimum.Errorf" for a call of the optimum package, the bare name for a
// local function or a method (p.fail → "fail").
func callName(c *ast.CallExpr) string {
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		return fn.Name
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok && (x.Name == "optimum" || x.Name == "fmt" || x.Name == "strconv" || x.Name == "errors") {
			return x.Name + "." + fn.Sel.Name
		}
		return fn.Sel.Name
	}
	return ""
}

func typeName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	case *ast.StarExpr:
		return typeName(e.X)
	}
	return ""
}

// fieldOf returns the value of the keyed field of a struct literal, or its first
// positional element when field is "".
func fieldOf(cl *ast.CompositeLit, field string) ast.Expr {
	for i, el := range cl.Elts {
		if kv, ok := el.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok && k.Name == field {
				return kv.Value
			}
		} else if field == "" && i == 0 {
			return el
		}
	}
	return nil
}

// sampleOf turns a message expression into a sample message: format verbs and the
// dynamic parts of a concatenation become "x", `"x"` or 1. ok is false when the
// expression has no literal text (a variable, a bare "%s"), which the caller records as
// a pass-through.
func sampleOf(e ast.Expr, format bool) (string, bool) {
	switch e := e.(type) {
	case *ast.ParenExpr:
		return sampleOf(e.X, format)
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		if err != nil {
			return "", false
		}
		if format {
			s = fillFormat(s)
		}
		return s, strings.ContainsFunc(s, isLetterRune) && !isBareVerb(s)
	case *ast.Ident:
		if e.Obj != nil && e.Obj.Kind == ast.Con {
			if vs, ok := e.Obj.Decl.(*ast.ValueSpec); ok {
				for i, n := range vs.Names {
					if n.Name == e.Name && i < len(vs.Values) {
						return sampleOf(vs.Values[i], format)
					}
				}
			}
		}
		return "", false
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, lok := concatPart(e.X)
		r, rok := concatPart(e.Y)
		return l + r, lok || rok
	case *ast.CallExpr:
		switch callName(e) {
		case "fmt.Sprintf", "fmt.Errorf":
			if len(e.Args) > 0 {
				return sampleOf(e.Args[0], true)
			}
		case "errors.New":
			return sampleOf(e.Args[0], false)
		}
	}
	return "", false
}

// concatPart is one operand of a + concatenation: literal text as it is, a quoted
// dynamic value as `"x"`, anything else as x. ok reports literal text.
func concatPart(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, err := strconv.Unquote(e.Value)
		return s, err == nil && strings.ContainsFunc(s, isLetterRune)
	case *ast.BinaryExpr, *ast.ParenExpr:
		return sampleOf(e, false)
	case *ast.CallExpr:
		if callName(e) == "strconv.Quote" {
			return `"x"`, false
		}
		if s, ok := sampleOf(e, false); ok {
			return s, true
		}
	}
	return "x", false
}

var verbRE = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z%]`)

// fillFormat substitutes sample values for the verbs of a fmt format.
func fillFormat(f string) string {
	return verbRE.ReplaceAllStringFunc(f, func(v string) string {
		switch v[len(v)-1] {
		case '%':
			return "%"
		case 'q':
			return `"x"`
		case 'd':
			return "1"
		}
		return "x"
	})
}

func isLetterRune(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }

// isBareVerb reports a filled format that was only verbs ("%s" → "x").
func isBareVerb(s string) bool { return s == "x" || s == `"x"` }

// indirectSamples collects a source function's messages: its returned strings and errors,
// its constants, and what it assigns to msg (msg += … appends to each earlier value).
func indirectSamples(fd *ast.FuncDecl) []string {
	var out, bases, suffixes []string
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ReturnStmt:
			for _, r := range n.Results {
				if s, ok := sampleOf(r, false); ok {
					out = append(out, s)
				}
			}
		case *ast.ValueSpec:
			for _, v := range n.Values {
				if s, ok := sampleOf(v, false); ok {
					out = append(out, s)
				}
			}
		case *ast.AssignStmt:
			if id, ok := n.Lhs[0].(*ast.Ident); ok && id.Name == "msg" && len(n.Rhs) == 1 {
				s, ok := sampleOf(n.Rhs[0], false)
				if !ok {
					break
				}
				if n.Tok == token.ADD_ASSIGN {
					suffixes = append(suffixes, s)
				} else {
					bases = append(bases, s)
				}
			}
		}
		return true
	})
	for _, b := range bases {
		out = append(out, b, b+strings.Join(suffixes, ""))
		for _, s := range suffixes {
			out = append(out, b+s)
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root is not %s: %v", root, err)
	}
	return root
}

// --- the tests ---

func TestTranslate(t *testing.T) {
	tests := []struct{ en, es string }{
		{"is required", "es obligatorio"},
		{"is too long: 250 characters, at most 200", "es demasiado largo: 250 caracteres, como máximo 200"},
		{`"huge" is not one of critical, high, medium or low`,
			`"huge" no es ninguno de estos valores: critical (crítico), high (alto), medium (medio) o low (bajo)`},
		{"Missing or invalid credentials.", "Credenciales ausentes o no válidas."},
		{`"tecnologia" is not a known team (operaciones, ti)`, `"tecnologia" no es un equipo conocido (operaciones, ti)`},
		// A %q value with escaped quotes, and a value quoted by concatenation (contacts/audience.go).
		{`"a \"b\" c" is not a team`, `"a \"b\" c" no es un equipo`},
		{`"a"b" is not in the directory`, `"a"b" no está en el directorio`},
		{`"boss" is not lead, member or backup`, `"boss" no es lead (líder), member (miembro) ni backup (suplente)`},
		{"Your role (reporter) may not do this; it needs manager or above.",
			"Tu rol, reporter (reporte), no permite esta acción; se necesita manager (continuidad) o un rol superior."},
		{"Incident INC-2026-0007 is closed; it can no longer be acknowledged.",
			"La crisis INC-2026-0007 ya está cerrada (closed); ya no se puede acusar recibo."},
		{`The field "impact" must be a JSON string.`, `El campo "impact" debe ser una cadena de texto en JSON.`},
		{`The body has an unknown field "severity".`, `El cuerpo tiene un campo desconocido: "severity".`},
		{"The body is larger than 64 KiB.", "El cuerpo ocupa más de 64 KiB."},
		{"The file has 1 errors; nothing was imported.", "El archivo tiene 1 error; no se importó nada."},
		{"The file has 12 errors; nothing was imported.", "El archivo tiene 12 errores; no se importó nada."},
		{"The header must be name,email,phone,language,teams,manager_email (optional: external_id, time_zone, active). Missing: phone. Unknown: movil.",
			"El encabezado debe ser name,email,phone,language,teams,manager_email (opcionales: external_id, time_zone, active). Faltan: phone. Desconocidas: movil."},
		{"The header must be name,email (optional: active). Unknown: movil, extra.",
			"El encabezado debe ser name,email (opcionales: active). Desconocidas: movil, extra."},
		{"Line 7: yaml: unmarshal errors:\n  line 7: field movil not found in type contacts.yamlPerson.",
			"Línea 7: yaml: unmarshal errors:\n  line 7: field movil not found in type contacts.yamlPerson."},
		{"There is no GET /api/v1/nope in this API.", "No existe GET /api/v1/nope en esta API."},
		{"ana@example.com already belongs to Ana Pérez", "ana@example.com ya pertenece a Ana Pérez"},
		{`"E-7" already belongs to Ana Pérez`, `"E-7" ya pertenece a Ana Pérez`},
		{"luis@example.com is also on line 4", "luis@example.com también está en la línea 4"},
		{"must be a whole number from 1 to 1000", "debe ser un número entero de 1 a 1000"},
		{"unknown parameter (team, role, site, q, active, limit, after)", "parámetro desconocido (se admiten: team, role, site, q, active, limit, after)"},
		{`"55 1234 5678" must start with + and the country code (e.g. +52 55 1234 5678)`,
			`"55 1234 5678" debe empezar por + y el código del país (p. ej., +52 55 1234 5678)`},
		{"must have at least 12 characters", "debe tener al menos 12 caracteres"},
		{"Too many declarations in a short time. Wait a moment and try again; if the crisis is real, call the continuity team.",
			"Demasiadas declaraciones en poco tiempo. Espera un momento e inténtalo de nuevo; si la crisis es real, llama al equipo de continuidad."},
		{"Internal error.", "Error interno."},
		// No entry: the message stays as it is.
		{"A message nobody has written yet.", "A message nobody has written yet."},
		{"", ""},
	}
	for _, tt := range tests {
		if got := translate("es", tt.en); got != tt.es {
			t.Errorf("translate(es, %q)\n got %q\nwant %q", tt.en, got, tt.es)
		}
		if got := translate("en", tt.en); got != tt.en {
			t.Errorf("translate(en, %q) = %q, want it unchanged", tt.en, got)
		}
	}
}

func TestRequestLang(t *testing.T) {
	// Spanish is the first language: only a request that prefers English most gets it.
	tests := []struct{ header, want string }{
		{"", "es"},
		{"es", "es"},
		{"es-MX,es;q=0.9", "es"},
		{"es-ES,es;q=0.9,en;q=0.8", "es"},
		{" es-419 ", "es"},
		{"ES_mx", "es"},
		{"en-US", "en"},
		{"EN_gb", "en"},
		{"en-US,en;q=0.9,es;q=0.8", "en"},
		{"en;q=0.5, es;q=0.9", "es"},
		{"en, es", "en"}, // a tie: the first wins
		{"es, en", "es"},
		{"pt-BR, es;q=0.9", "es"},
		{"fr, en;q=0.9", "es"},
		{"fr", "es"},
		{"*", "es"},
		{"en;q=0", "es"},
		{"english", "es"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/me", nil)
		if tt.header != "" {
			r.Header.Set("Accept-Language", tt.header)
		}
		if got := requestLang(r); got != tt.want {
			t.Errorf("Accept-Language %q: requestLang = %q, want %q", tt.header, got, tt.want)
		}
	}
	if got := requestLang(nil); got != "es" {
		t.Errorf("requestLang(nil) = %q, want es", got)
	}
}

// TestCatalogEntries checks each entry on its own message: it matches, no earlier entry
// takes it, it changes it, and it keeps every variable part (values typed by the user
// must come back as they were).
func TestCatalogEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range catalog {
		if (p.en == "") == (p.pattern == "") || (p.es == "") == (p.fn == nil) {
			t.Errorf("entry %q %q: give exactly one of en and pattern, and one of es and fn", p.en, p.pattern)
			continue
		}
		if p.en == "" {
			continue // a pattern: TestTranslate covers it
		}
		if seen[p.en] {
			t.Errorf("%q is in the catalog twice", p.en)
		}
		seen[p.en] = true
		sample, values := distinctSample(p.en)
		g := p.re.FindStringSubmatch(sample)
		if g == nil {
			t.Errorf("%q does not match its own message %q", p.en, sample)
			continue
		}
		want, _ := p.apply(sample)
		if got := translate("es", sample); got != want {
			t.Errorf("%q is taken by an earlier entry: %q gives %q, want %q", p.en, sample, got, want)
		}
		if want == sample {
			t.Errorf("%q: the Spanish is the English", p.en)
		}
		for _, v := range values {
			if !strings.Contains(want, v) {
				t.Errorf("%q: the Spanish %q drops the value %s", p.en, want, v)
			}
		}
	}
}

// distinctSample fills a format with a different value for each verb, and returns them.
func distinctSample(f string) (string, []string) {
	var values []string
	s := verbRE.ReplaceAllStringFunc(f, func(v string) string {
		n := strconv.Itoa(len(values) + 1)
		switch v[len(v)-1] {
		case '%':
			return "%"
		case 'q':
			v = `"val` + n + `"`
		case 'd':
			v = "10" + n
		default:
			v = "val" + n
		}
		values = append(values, v)
		return v
	})
	return s, values
}

// TestEveryMessageHasSpanish reads the repository's Go source for every message that can
// reach an HTTP answer and asks the catalog for each: a new message without Spanish
// fails here, all of them listed at once.
func TestEveryMessageHasSpanish(t *testing.T) {
	c := collectMessages(t, repoRoot(t))
	if len(c.samples) < 150 {
		t.Fatalf("only %d messages found: is the collector still reading the source?", len(c.samples))
	}
	var missing []string
	for s, where := range c.samples {
		if translate("es", s) == s {
			missing = append(missing, fmt.Sprintf("%q\t%s", s, strings.Join(slices.Compact(where), ", ")))
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("%d of %d messages have no Spanish: add an entry to catalog in i18n.go for each:\n%s",
			len(missing), len(c.samples), strings.Join(missing, "\n"))
	}
	for key, where := range c.passThrough {
		if _, ok := passThrough[key]; !ok {
			t.Errorf("%s: a message that is not literal text (a variable or a bare %%s) at %s: list its source in "+
				"indirectSources and the place in passThrough (i18n_test.go)", key, strings.Join(where, ", "))
		}
	}
	for key := range passThrough {
		if _, ok := c.passThrough[key]; !ok {
			t.Logf("passThrough lists %s, which no longer passes a message through", key)
		}
	}
	for key := range indirectSources {
		if c.indirect[key] == 0 {
			t.Errorf("indirectSources lists %s, which was not found or yields no message: it was renamed or moved", key)
		}
	}
	t.Logf("%d messages in the source, %d catalog entries", len(c.samples), len(catalog))
}

type problemBody struct {
	Type   string                 `json:"type"`
	Title  string                 `json:"title"`
	Status int                    `json:"status"`
	Detail string                 `json:"detail"`
	Code   string                 `json:"code"`
	Errors []optimum.FieldError   `json:"errors"`
	Report *contacts.ImportReport `json:"report"`
}

func answer(t *testing.T, w *httptest.ResponseRecorder) problemBody {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("Content-Type %q", ct)
	}
	if v := w.Header().Values("Vary"); !slices.Contains(v, "Accept-Language") {
		t.Errorf("Vary %q, want Accept-Language", v)
	}
	var p problemBody
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	return p
}

func requestIn(lang string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/v1/incidents", nil)
	if lang != "" {
		r.Header.Set("Accept-Language", lang)
	}
	return r
}

func TestWriteErrorSpeaksTheCallersLanguage(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	invalid := func() error {
		return optimum.Invalid("The declaration has errors.", []optimum.FieldError{
			{Field: "title", Message: "is required"},
			{Field: "impact", Message: `"huge" is not one of critical, high, medium or low`},
		})
	}
	tests := []struct {
		name, lang string
		err        error
		status     int
		title      string
		detail     string
		fields     []optimum.FieldError
	}{
		{"invalid, es-MX", "es-MX,es;q=0.9", invalid(), 422, "Datos no válidos", "La declaración tiene errores.", []optimum.FieldError{
			{Field: "title", Message: "es obligatorio"},
			{Field: "impact", Message: `"huge" no es ninguno de estos valores: critical (crítico), high (alto), medium (medio) o low (bajo)`},
		}},
		{"invalid, en-US", "en-US", invalid(), 422, "Unprocessable Entity", "The declaration has errors.", optimum.ErrorFields(invalid())},
		{"invalid, no header: Spanish, the first language", "", invalid(), 422, "Datos no válidos", "La declaración tiene errores.", []optimum.FieldError{
			{Field: "title", Message: "es obligatorio"},
			{Field: "impact", Message: `"huge" no es ninguno de estos valores: critical (crítico), high (alto), medium (medio) o low (bajo)`},
		}},
		{"unauthorized, es", "es", optimum.Errorf(optimum.EUNAUTHORIZED, "Missing or invalid credentials."), 401,
			"No autorizado", "Credenciales ausentes o no válidas.", nil},
		{"request error, es-ES", "es-ES", badRequest("The body is not valid JSON (at byte %d).", 12), 400,
			"Solicitud incorrecta", "El cuerpo no es JSON válido (en el byte 12).", nil},
		{"request error, en", "en", badRequest("The body is not valid JSON (at byte %d).", 12), 400,
			"Bad Request", "The body is not valid JSON (at byte 12).", nil},
		{"wrapped, es", "es", fmt.Errorf("declare: %w", optimum.Errorf(optimum.ECONFLICT, "Incident %s is %s; it can no longer be acknowledged.", "INC-2026-0001", "cancelled")), 409,
			"Conflicto", "La crisis INC-2026-0001 ya está cancelada (cancelled); ya no se puede acusar recibo.", nil},
		{"internal, es", "es", errors.New("database is locked"), 500, "Error interno del servidor", "Error interno.", nil},
		{"rate limited, es", "es", optimum.Errorf(optimum.ERATELIMITED, "%s", "Too many sign-in attempts. Wait a moment and try again."), 429,
			"Demasiadas solicitudes", "Demasiados intentos de inicio de sesión. Espera un momento e inténtalo de nuevo.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			writeError(w, requestIn(tt.lang), log, tt.err)
			p := answer(t, w)
			if w.Code != tt.status || p.Status != tt.status || p.Title != tt.title || p.Detail != tt.detail {
				t.Errorf("got %d %q %q, want %d %q %q", p.Status, p.Title, p.Detail, tt.status, tt.title, tt.detail)
			}
			if !slices.Equal(p.Errors, tt.fields) {
				t.Errorf("errors\n got %q\nwant %q", p.Errors, tt.fields)
			}
		})
	}

	// The error keeps its English: the answer is a copy.
	err := invalid()
	writeError(httptest.NewRecorder(), requestIn("es"), log, err)
	if got := optimum.ErrorFields(err)[0].Message; got != "is required" {
		t.Errorf("writeError changed the error's field message to %q", got)
	}
}

func TestWriteProblemForTranslatesTheImportReport(t *testing.T) {
	rep := contacts.ImportReport{Rows: 3, ErrorCount: 2, Errors: []contacts.RowError{
		{Line: 2, Email: "ana@example.com", Field: "phone", Message: `"55 1234" must start with + and the country code (e.g. +52 55 1234 5678)`},
		{Line: 3, Field: "name", Message: "is required"},
	}}
	detail := "The file has 2 errors; nothing was imported."

	w := httptest.NewRecorder()
	writeProblemFor(w, requestIn("es-MX"), http.StatusUnprocessableEntity, optimum.EINVALID, detail, map[string]any{"report": rep})
	p := answer(t, w)
	if p.Title != "Datos no válidos" || p.Detail != "El archivo tiene 2 errores; no se importó nada." || p.Code != "invalid" {
		t.Errorf("got %q %q %q", p.Title, p.Detail, p.Code)
	}
	want := []contacts.RowError{
		{Line: 2, Email: "ana@example.com", Field: "phone", Message: `"55 1234" debe empezar por + y el código del país (p. ej., +52 55 1234 5678)`},
		{Line: 3, Field: "name", Message: "es obligatorio"},
	}
	if p.Report == nil || !slices.Equal(p.Report.Errors, want) || p.Report.Rows != 3 || p.Report.ErrorCount != 2 {
		t.Errorf("report %+v, want errors %+v", p.Report, want)
	}
	if rep.Errors[1].Message != "is required" {
		t.Errorf("the report itself changed: %q", rep.Errors[1].Message)
	}

	w = httptest.NewRecorder()
	writeProblemFor(w, requestIn("en"), http.StatusUnprocessableEntity, optimum.EINVALID, detail, map[string]any{"report": &rep})
	if p := answer(t, w); p.Title != "Unprocessable Entity" || p.Detail != detail || p.Report == nil || !slices.Equal(p.Report.Errors, rep.Errors) {
		t.Errorf("English: got %q %q %+v", p.Title, p.Detail, p.Report)
	}
	w = httptest.NewRecorder()
	writeProblemFor(w, nil, http.StatusUnprocessableEntity, optimum.EINVALID, detail, map[string]any{"report": rep})
	if p := answer(t, w); p.Detail != "El archivo tiene 2 errores; no se importó nada." || p.Title != "Datos no válidos" {
		t.Errorf("no request (Spanish first): got %q %q", p.Title, p.Detail)
	}
}
