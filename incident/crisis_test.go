package incident

import "testing"

// A crisis reported in words picks the built-in template whose keyword comes first, as
// whole words, any case, accents ignored; words of no template pick none.
func TestMatchTemplateByKeywords(t *testing.T) {
	templates := make([]Template, len(builtInTemplates))
	copy(templates, builtInTemplates)
	templates = append(templates, Template{ID: "gas-leak", Keywords: []string{"fuga de gas"}})
	for _, c := range []struct{ text, want string }{
		{"Incendio en el almacén norte", "fire"},
		{"hay HUMO en el sótano", "fire"},
		{"se INUNDÓ... no: Inundación en planta baja", "flood"},
		{"temblor fuerte, evacuamos", "earthquake"},
		{"Apagón en todo el edificio", "power-loss"},
		{"nos quedamos sin luz", "power-loss"},
		{"ransomware en las laptops", "cyberattack"},
		{"el centro de datos no responde", "datacenter-down"},
		{"Power outage at HQ", "power-loss"},
		{"fire on floor 3", "fire"},
		{"humo tras el sismo", "fire"},         // the first keyword in the text wins
		{"sismo y después humo", "earthquake"}, // ditto
		{"fuga de gas en el laboratorio", "gas-leak"},
		{"fuego", "fire"},
		{"fuegos artificiales", ""}, // whole words only
		{"se fue la conexión con el banco", ""},
		{"", ""},
	} {
		got, ok := MatchTemplate(templates, c.text)
		if (c.want == "") == ok || got.ID != c.want {
			t.Errorf("MatchTemplate(%q) = %q %v, want %q", c.text, got.ID, ok, c.want)
		}
	}
}

// Words that match no template are a P2 (high impact and urgency in the default matrix)
// for the default audience; a template's match takes its classification and messages.
func TestCrisisDeclaration(t *testing.T) {
	s := NewService(nil, Policy{Matrix: map[Level]map[Level]Priority{
		Critical: {Critical: "P1", High: "P1", Medium: "P2", Low: "P3"},
		High:     {Critical: "P1", High: "P2", Medium: "P3", Low: "P4"},
		Medium:   {Critical: "P2", High: "P3", Medium: "P4", Low: "P5"},
		Low:      {Critical: "P3", High: "P4", Medium: "P5", Low: "P5"},
	}}, nil, nil)
	d, id := s.CrisisDeclaration("se fue la conexión\ncon el banco \x07", ViaSMS, builtInTemplates)
	if id != "" || d.Impact != High || d.Urgency != High || d.Title != "se fue la conexión" || d.Description != "se fue la conexión\ncon el banco" || d.Via != ViaSMS {
		t.Errorf("no template: %q %+v", id, d)
	}
	d, id = s.CrisisDeclaration("Incendio en la bodega", ViaHotline, builtInTemplates)
	if id != "fire" || d.Impact != Critical || d.Urgency != Critical || !d.SafetyPoll || d.Messages["es"] == "" || d.Messages["en"] == "" || d.Title != "Incendio en la bodega" {
		t.Errorf("fire: %q %+v", id, d)
	}
}
