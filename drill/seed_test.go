package drill_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/drill"
	"go.yaml.in/yaml/v3"
)

// examplePlans reads the plans documented (commented out) in the example configuration.
func examplePlans(t *testing.T) []drill.Plan {
	t.Helper()
	b, err := os.ReadFile("../configs/optimum.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "For example:\n#\n")
	if !ok {
		t.Fatal("the example configuration has no drill example")
	}
	var lines []string
	for _, l := range strings.Split(after, "\n") {
		if !strings.HasPrefix(l, "#   ") {
			break
		}
		lines = append(lines, strings.TrimPrefix(l, "#   "))
	}
	var doc struct {
		Plans []drill.Plan `yaml:"plans"`
	}
	if err := yaml.Unmarshal([]byte(strings.Join(lines, "\n")), &doc); err != nil {
		t.Fatalf("the documented drill example does not parse: %v", err)
	}
	return doc.Plans
}

func TestPlansFromTheConfigFileAreStoredAndAppEditsKept(t *testing.T) {
	e := newEnv(t)
	e.importPeople(smallOrg)
	ctx := context.Background()
	if err := e.ladders.Seed(ctx, e.cfg.Escalation.Ladders); err != nil {
		t.Fatal(err)
	}
	plans := examplePlans(t)
	if len(plans) != 1 {
		t.Fatalf("%d example plans", len(plans))
	}
	if err := e.drills.Seed(ctx, plans); err != nil {
		t.Fatal(err)
	}
	p, err := e.drills.Plan(ctx, "sismo-cdmx")
	if err != nil || p.Source != drill.SourceConfig || len(p.Criteria) != 2 || p.NextRunAt == nil || p.Ladder != "p1" {
		t.Fatalf("seeded plan = %+v, %v", p, err)
	}
	// The file changes: the plan follows it.
	plans[0].Scenario.Title = "Sismo 7.4 en CDMX"
	if err := e.drills.Seed(ctx, plans); err != nil {
		t.Fatal(err)
	}
	if p, _ = e.drills.Plan(ctx, "sismo-cdmx"); p.Scenario.Title != "Sismo 7.4 en CDMX" {
		t.Errorf("title = %q after the file changed", p.Scenario.Title)
	}
	// Edited in the app: the file no longer overwrites it.
	p.Scenario.Title = "Sismo editado"
	if _, err := e.drills.SavePlan(manager, p, false); err != nil {
		t.Fatal(err)
	}
	if err := e.drills.Seed(ctx, plans); err != nil {
		t.Fatal(err)
	}
	if p, _ = e.drills.Plan(ctx, "sismo-cdmx"); p.Scenario.Title != "Sismo editado" || p.Source != drill.SourceAPI {
		t.Errorf("plan = %q from %s, want the app's edit kept", p.Scenario.Title, p.Source)
	}
	// A bad plan in the file names its problems.
	bad := plans[0]
	bad.ID, bad.Criteria = "malo", []drill.Criterion{{Scope: "all", Percent: 120, Within: bad.Window}}
	err = e.drills.Seed(ctx, []drill.Plan{bad})
	if err == nil || !strings.Contains(err.Error(), "drills.plans[0] (malo)") || !strings.Contains(err.Error(), "criteria[0].percent") {
		t.Errorf("bad plan: %v", err)
	}
}
