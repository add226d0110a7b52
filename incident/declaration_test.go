package incident

import (
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum"
)

var teams = []string{"directors", "continuity", "technology", "operations"}

func TestFolioFormat(t *testing.T) {
	for _, tt := range []struct {
		year, n int
		want    string
	}{
		{2026, 1, "BCP-2026-000001"},
		{2026, 42, "BCP-2026-000042"},
		{2027, 999999, "BCP-2027-999999"},
	} {
		if got := Folio(tt.year, tt.n); got != tt.want {
			t.Errorf("Folio(%d, %d) = %q, want %q", tt.year, tt.n, got, tt.want)
		}
	}
}

func TestPriorityFromMatrix(t *testing.T) {
	p := testPolicy()
	for _, tt := range []struct {
		impact, urgency Level
		want            Priority
	}{
		{Critical, Critical, "P1"}, {Critical, High, "P1"}, {High, High, "P2"},
		{Medium, Medium, "P4"}, {Low, Low, "P5"}, {Low, Critical, "P3"}, {High, Low, "P4"},
	} {
		got, err := p.Priority(tt.impact, tt.urgency)
		if err != nil || got != tt.want {
			t.Errorf("Priority(%s, %s) = %q, %v; want %q", tt.impact, tt.urgency, got, err, tt.want)
		}
	}
	if _, err := p.Priority("apocalyptic", High); err == nil {
		t.Error("want an error for an unknown level")
	}
}

func TestSLAFromPriority(t *testing.T) {
	p := testPolicy()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	got := p.SLA("P1", at)
	if want := at.Add(5 * time.Minute); !got.AckBy.Equal(want) {
		t.Errorf("ack_by = %v, want %v", got.AckBy, want)
	}
	if want := at.Add(4 * time.Hour); !got.ResolveBy.Equal(want) {
		t.Errorf("resolve_by = %v, want %v", got.ResolveBy, want)
	}
}

// The folio year turns at midnight in the configured zone, not in UTC.
func TestFolioYearUsesTheConfiguredZone(t *testing.T) {
	p := testPolicy()
	p.Location, _ = time.LoadLocation("America/Mexico_City")
	newYearUTC := time.Date(2027, 1, 1, 3, 0, 0, 0, time.UTC) // still 2026-12-31 21:00 in Mexico City
	if got := p.FolioYear(newYearUTC); got != 2026 {
		t.Errorf("FolioYear = %d, want 2026", got)
	}
}

func TestValidateNamesEveryBadField(t *testing.T) {
	for _, tt := range []struct {
		name   string
		d      Declaration
		fields []string
	}{
		{"valid", Declaration{Title: "Sin energía en CPD", Impact: High, Urgency: Critical}, nil},
		{"missing everything", Declaration{}, []string{"title", "impact", "urgency"}},
		{"unknown levels", Declaration{Title: "x", Impact: "apocalyptic", Urgency: "now"}, []string{"impact", "urgency"}},
		{"title too long", Declaration{Title: strings.Repeat("á", MaxTitle+1), Impact: Low, Urgency: Low}, []string{"title"}},
		{"description too long", Declaration{Title: "x", Description: strings.Repeat("x", MaxDescription+1), Impact: Low, Urgency: Low}, []string{"description"}},
		{"control characters", Declaration{Title: "a\x00b", Impact: Low, Urgency: Low}, []string{"title"}},
		{"unknown team", Declaration{Title: "x", Impact: Low, Urgency: Low, Teams: []string{"marketing"}}, []string{"teams[0]"}},
		{"too many services", Declaration{Title: "x", Impact: Low, Urgency: Low, Services: make([]string, MaxListItems+1)}, []string{"services"}},
		{"long service", Declaration{Title: "x", Impact: Low, Urgency: Low, Services: []string{strings.Repeat("s", MaxListItem+1)}}, []string{"services[0]"}},
		{"messages in both languages", Declaration{Title: "x", Impact: Low, Urgency: Low, Messages: map[string]string{"es": "Evacúa.", "en": "Evacuate."}}, nil},
		{"message in another language, and too long", Declaration{Title: "x", Impact: Low, Urgency: Low,
			Messages: map[string]string{"fr": "Évacuez.", "es": strings.Repeat("á", MaxMessage+1)}}, []string{"messages.es", "messages.fr"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.d.Validate(teams)
			var got []string
			for _, f := range optimum.ErrorFields(err) {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v (err %v)", got, tt.fields, err)
			}
			if tt.fields != nil && optimum.ErrorCode(err) != optimum.EINVALID {
				t.Errorf("code = %q, want invalid", optimum.ErrorCode(err))
			}
		})
	}
}

func TestNormalizeTrimsAndDeduplicates(t *testing.T) {
	d := Declaration{Title: "  Caída  ", Impact: " HIGH ", Urgency: "Low", Services: []string{" erp", "erp", "", "email"}, Teams: []string{"Directors", "directors"}}
	d.Normalize()
	if d.Title != "Caída" || d.Impact != High || d.Urgency != Low {
		t.Errorf("got %+v", d)
	}
	if strings.Join(d.Services, ",") != "erp,email" || strings.Join(d.Teams, ",") != "directors" {
		t.Errorf("lists = %v %v", d.Services, d.Teams)
	}
}

func testPolicy() Policy {
	m := map[Level]map[Level]Priority{
		Critical: {Critical: "P1", High: "P1", Medium: "P2", Low: "P3"},
		High:     {Critical: "P1", High: "P2", Medium: "P3", Low: "P4"},
		Medium:   {Critical: "P2", High: "P3", Medium: "P4", Low: "P5"},
		Low:      {Critical: "P3", High: "P4", Medium: "P5", Low: "P5"},
	}
	return Policy{
		Matrix:       m,
		Ack:          map[Priority]time.Duration{"P1": 5 * time.Minute, "P2": 15 * time.Minute, "P3": time.Hour, "P4": 4 * time.Hour, "P5": 8 * time.Hour},
		Resolve:      map[Priority]time.Duration{"P1": 4 * time.Hour, "P2": 8 * time.Hour, "P3": 24 * time.Hour, "P4": 72 * time.Hour, "P5": 120 * time.Hour},
		Teams:        teams,
		DefaultTeams: teams,
		Location:     time.UTC,
	}
}
