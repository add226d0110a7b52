package incident_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optimum-bcp/optimum/incident"
)

// BenchmarkSimilarSearch ranks 1,000 indexed incidents (the fixture's 56, varied) for a
// declare-form query: normalization in Go plus the FTS5 bm25 query on SQLite.
func BenchmarkSimilarSearch(b *testing.B) {
	f := newDesk(b)
	for i := range 1000 {
		p := pastIncidents[i%len(pastIncidents)]
		*f.now = t0.Add(time.Duration(i) * time.Second)
		d := incident.Declaration{Title: fmt.Sprintf("%s %d", p.title, i), Description: p.description,
			Services: strings.Split(p.services, ","), Causes: []string{p.causes}, Impact: incident.High, Urgency: incident.High}
		if _, _, err := f.svc.Declare(as(alice), d, ""); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	q := incident.Query{Text: "inundaciones en el sótano, agua en el cuarto eléctrico"}
	b.ResetTimer()
	for b.Loop() {
		if ms, err := f.desk.Search(ctx, q, 5); err != nil || len(ms) == 0 {
			b.Fatal(ms, err)
		}
	}
}

// BenchmarkTerms normalizes a 1,000-character Spanish description.
func BenchmarkTerms(b *testing.B) {
	text := strings.Repeat("Inundación en los sótanos del edificio corporativo; ", 20)[:1000]
	for b.Loop() {
		incident.Terms(text)
	}
}
