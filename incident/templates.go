package incident

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Template is a scenario prepared in advance (a power loss, a fire…): it pre-fills the
// declare form and the first message, in Spanish and English. The built-in ones can be
// edited by managers; an edited template replaces the built-in one of the same id.
type Template struct {
	ID       string                  `json:"id"`
	Texts    map[string]TemplateText `json:"texts"` // by language: es, en
	Services []string                `json:"services"`
	Causes   []string                `json:"causes"`
	Impact   Level                   `json:"impact"`
	Urgency  Level                   `json:"urgency"`
	Teams    []string                `json:"teams"`
	// SafetyPoll makes the alert ask each person whether they are safe.
	SafetyPoll bool `json:"safety_poll"`
	// Keywords pick the template for a crisis declared by SMS or the hotline ("CRISIS
	// incendio en el almacén"): whole words or phrases, any case, accents ignored. With
	// none, the built-in ones of its id, its causes and its names are used.
	Keywords []string `json:"keywords,omitempty"`
	// BuiltIn is true for a template as shipped, never edited.
	BuiltIn   bool       `json:"built_in"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
	UpdatedBy string     `json:"updated_by,omitempty"`
}

// TemplateText is a template's words in one language.
type TemplateText struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Message is the first message to the audience, ready to post as an update.
	Message string `json:"message"`
}

// builtInTemplates are the scenarios every continuity plan covers.
var builtInTemplates = []Template{
	{ID: "power-loss", Impact: High, Urgency: Critical, Services: []string{}, Causes: []string{"energía"}, Texts: map[string]TemplateText{
		"es": {"Corte de energía", "Corte de energía en ", "Sin suministro eléctrico. UPS y planta: estado por confirmar.", "Hay un corte de energía. Los equipos críticos están en UPS; se arranca la planta de emergencia."},
		"en": {"Power loss", "Power loss at ", "No mains power. UPS and generator status to be confirmed.", "There is a power loss. Critical equipment is on UPS; the emergency generator is starting."}}},
	{ID: "datacenter-down", Impact: Critical, Urgency: Critical, Services: []string{}, Causes: []string{}, Texts: map[string]TemplateText{
		"es": {"Caída del centro de datos", "Caída del centro de datos ", "El centro de datos no responde. Servicios afectados por confirmar.", "El centro de datos principal está caído. Evaluamos activar el sitio alterno."},
		"en": {"Datacenter down", "Datacenter down: ", "The datacenter does not answer. Affected services to be confirmed.", "The main datacenter is down. We are assessing a switch to the alternate site."}}},
	{ID: "cyberattack", Impact: Critical, Urgency: Critical, Services: []string{}, Causes: []string{"ciberataque"}, Texts: map[string]TemplateText{
		"es": {"Ciberataque", "Posible ciberataque en ", "Actividad sospechosa detectada. No apagues equipos; aísla de la red lo afectado.", "Atendemos un posible ciberataque. No abras correos sospechosos ni apagues equipos; espera instrucciones."},
		"en": {"Cyberattack", "Possible cyberattack on ", "Suspicious activity detected. Do not power off machines; isolate what is affected from the network.", "We are handling a possible cyberattack. Do not open suspicious emails or power off machines; wait for instructions."}}},
	{ID: "earthquake", SafetyPoll: true, Impact: Critical, Urgency: Critical, Services: []string{}, Causes: []string{"sismo"}, Texts: map[string]TemplateText{
		"es": {"Sismo", "Sismo: evaluación de ", "Sismo percibido. Evacuación y revisión estructural en curso.", "Tras el sismo, sigue las rutas de evacuación y reporta tu estado a tu líder."},
		"en": {"Earthquake", "Earthquake: assessment of ", "Earthquake felt. Evacuation and structural check under way.", "After the earthquake, follow the evacuation routes and report your status to your lead."}}},
	{ID: "flood", SafetyPoll: true, Impact: High, Urgency: High, Services: []string{}, Causes: []string{"inundación"}, Texts: map[string]TemplateText{
		"es": {"Inundación", "Inundación en ", "Agua en las instalaciones. Se corta la energía de las zonas afectadas.", "Hay una inundación. Aléjate de las zonas con agua y de los equipos eléctricos."},
		"en": {"Flood", "Flood at ", "Water on the premises. Power is being cut in the affected areas.", "There is a flood. Keep away from flooded areas and electrical equipment."}}},
	{ID: "fire", SafetyPoll: true, Impact: Critical, Urgency: Critical, Services: []string{}, Causes: []string{"incendio"}, Texts: map[string]TemplateText{
		"es": {"Incendio", "Incendio en ", "Fuego o humo detectado. Evacuación activada; bomberos avisados.", "Hay un incendio. Evacúa por la ruta señalada y ve al punto de reunión."},
		"en": {"Fire", "Fire at ", "Fire or smoke detected. Evacuation under way; fire brigade called.", "There is a fire. Evacuate by the marked route and go to the assembly point."}}},
	{ID: "pandemic", Impact: High, Urgency: Medium, Services: []string{}, Causes: []string{"pandemia"}, Texts: map[string]TemplateText{
		"es": {"Pandemia", "Pandemia: plan de continuidad ", "Ausentismo alto por contagios. Se activa el trabajo remoto y los turnos de respaldo.", "Se activa el plan de pandemia: trabajo remoto donde sea posible y turnos de respaldo."},
		"en": {"Pandemic", "Pandemic: continuity plan ", "High absence from contagion. Remote work and backup shifts are activated.", "The pandemic plan is active: remote work where possible and backup shifts."}}},
}

var templateID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// Templates returns every scenario template: the built-in ones, as edited, then the
// ones managers added.
func (d *Desk) Templates(ctx context.Context) ([]Template, error) {
	stored, err := d.store.Templates(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]Template{}
	for _, t := range stored {
		byID[t.ID] = t
	}
	out := make([]Template, 0, len(builtInTemplates)+len(stored))
	for _, t := range builtInTemplates {
		if s, ok := byID[t.ID]; ok {
			t = s
			delete(byID, t.ID)
		} else {
			t.BuiltIn = true
		}
		out = append(out, t)
	}
	for _, t := range stored {
		if _, ok := byID[t.ID]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// Template returns one template.
func (d *Desk) Template(ctx context.Context, id string) (Template, error) {
	all, err := d.Templates(ctx)
	if err != nil {
		return Template{}, err
	}
	for _, t := range all {
		if t.ID == id {
			return t, nil
		}
	}
	return Template{}, optimum.Errorf(optimum.ENOTFOUND, "No template has the id %q.", truncate(id, 40))
}

// SaveTemplate creates or replaces a template; both languages are required.
func (d *Desk) SaveTemplate(ctx context.Context, id string, t Template) (Template, error) {
	actor, _ := optimum.ActorFrom(ctx)
	t.ID = strings.TrimSpace(id)
	t.Services, t.Causes, t.Teams = cleanList(t.Services, false), cleanList(t.Causes, false), cleanList(t.Teams, true)
	t.Keywords = cleanList(t.Keywords, true)
	t.Impact = Level(strings.ToLower(strings.TrimSpace(string(t.Impact))))
	t.Urgency = Level(strings.ToLower(strings.TrimSpace(string(t.Urgency))))
	var p problems
	add, text := p.add, p.text
	if !templateID.MatchString(t.ID) {
		add("id", "must be 1 to 40 lower-case letters, digits or dashes")
	}
	for k := range t.Texts {
		if k != "es" && k != "en" {
			add("texts."+truncate(k, 10), "is not a language of the templates (es, en)")
		}
	}
	for _, l := range []string{"es", "en"} {
		tx := t.Texts[l]
		text("texts."+l+".name", tx.Name, 80, true)
		text("texts."+l+".title", tx.Title, MaxTitle, true)
		text("texts."+l+".description", tx.Description, MaxDescription, false)
		text("texts."+l+".message", tx.Message, MaxNote, false)
	}
	for _, l := range []struct {
		field string
		v     Level
	}{{"impact", t.Impact}, {"urgency", t.Urgency}} {
		if !l.v.Valid() {
			add(l.field, "is required: critical, high, medium or low")
		}
	}
	for i, k := range t.Keywords {
		text(fmt.Sprintf("keywords[%d]", i), k, MaxListItem, false)
	}
	if len(t.Services) > MaxListItems || len(t.Causes) > MaxListItems || len(t.Teams) > MaxListItems || len(t.Keywords) > MaxListItems {
		add("services", "has too many items (at most %d)", MaxListItems)
	}
	if err := optimum.Invalid("The template has errors.", p); err != nil {
		return Template{}, err
	}
	now := d.now()
	t.BuiltIn, t.UpdatedAt, t.UpdatedBy = false, &now, actor.Name
	err := d.store.Tx(ctx, func(tx DeskTx) error {
		if err := tx.SaveTemplate(ctx, t); err != nil {
			return err
		}
		_, err := tx.Append(ctx, optimum.Event{Type: EventTemplateSaved, At: now, Actor: &actor, Data: mustJSON(map[string]any{"id": t.ID, "builtin_replaced": slices.ContainsFunc(builtInTemplates, func(b Template) bool { return b.ID == t.ID })})})
		return err
	})
	return t, err
}
