package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/contacts"
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
	all := queryPlan(t, db, deliveryCountsQuery, "inc_x")
	if !strings.Contains(all, "COVERING INDEX") || strings.Contains(all, "TEMP B-TREE") {
		t.Errorf("the count's plan is %q: want a covering index and no sort", all)
	}
}

// queryPlan is SQLite's plan for q, its steps joined by "; ".
func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
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
	return strings.Join(plan, "; ")
}

// Counting and resolving a small audience found its people by reading every person of the
// directory (100,000 during an alert) and checking each one's memberships: a declaration
// to a team of three took most of a second (issue 16.4). They are found from the teams',
// sites' and ids' side, and the people looked up by id: no step scans people.
func TestASmallAudienceIsFoundWithoutScanningTheDirectory(t *testing.T) {
	ctx := context.Background()
	db, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "optimum.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, pl := range []contacts.Plan{
		{Teams: []string{"guardia"}},
		{Teams: []string{"guardia", "technology"}, Roles: []string{"lead"}},
		{Sites: []string{"site_a"}},
		{People: []string{"per_a", "per_b"}},
		{Teams: []string{"guardia"}, Sites: []string{"site_a"}, People: []string{"per_a"}},
	} {
		from, args := planJoin(pl, 1)
		for _, q := range []string{"SELECT count(*) FROM " + from, "SELECT " + personColumnsOfP + " FROM " + from} {
			all := queryPlan(t, db, q, args...)
			searched := false
			for _, step := range strings.Split(all, "; ") {
				if step == "SCAN p" || strings.HasPrefix(step, "SCAN p ") {
					searched = false
					break
				}
				searched = searched || strings.HasPrefix(step, "SEARCH p ")
			}
			if !searched {
				t.Errorf("%+v: the plan of %q is %q: people must be searched by id, never scanned", pl, q, all)
			}
		}
	}
}
