package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The progress publisher counts an incident's deliveries once a second. Reading each
// delivery's row for it took a fifth of the server's CPU during a 100,000-person alert
// (issue 16.4): the count must be answered by an index alone (SQLite's plan says
// "COVERING INDEX").
func TestTheProgressCountReadsOnlyAnIndex(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "optimum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+deliveryCountsQuery, "inc_x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(plan, "; ")
	if !strings.Contains(all, "COVERING INDEX") || strings.Contains(all, "TEMP B-TREE") {
		t.Errorf("the count's plan is %q: want a covering index and no sort", all)
	}
}
