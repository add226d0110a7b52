package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/scim"
	"github.com/optimum-bcp/optimum/internal/store/storetest"
)

// BenchmarkSCIMLookup measures what Entra ID and Okta do before every change: find a
// User by userName, in a directory of 5,000 people on SQLite (docs/benchmarks.md).
func BenchmarkSCIMLookup(b *testing.B) { benchSCIM(b) }

// BenchmarkSCIMPatch measures a deprovisioning and its undoing as Entra ID sends them
// (PATCH active "False" / "True") in the same directory: each is a transaction that checks
// the directory's rules and appends an event.
func BenchmarkSCIMPatch(b *testing.B) { benchSCIM(b) }

func benchSCIM(b *testing.B) {
	db := storetest.SQLite(b)
	dir := contacts.NewDirectory(db.Contacts(), nil)
	var csv strings.Builder
	csv.WriteString("name,email,phone,language,teams,manager_email\n")
	for n := range 5000 {
		fmt.Fprintf(&csv, "Persona %d,p%d@example.com,,es,equipo-%d,\n", n, n, n%50)
	}
	rows, err := contacts.ParseCSV(strings.NewReader(csv.String()))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := dir.Import(context.Background(), rows, nil, nil, false); err != nil {
		b.Fatal(err)
	}
	s := &scim.Service{Directory: dir, BaseURL: "https://bcp.example.com/scim/v2", Language: "es"}
	if b.Name() == "BenchmarkSCIMPatch" {
		benchPatch(b, s, dir)
		return
	}
	h := s.Handle(scim.ListUsers)
	path := "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq "p4321@example.com"`)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"totalResults":1`) {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

func benchPatch(b *testing.B, s *scim.Service, dir *contacts.Directory) {
	p, err := dir.Person(context.Background(), "p4321@example.com")
	if err != nil {
		b.Fatal(err)
	}
	h := s.Handle(scim.PatchUser)
	mux := http.NewServeMux()
	mux.Handle("PATCH /scim/v2/Users/{id}", h)
	values := []string{"False", "True"}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"` + values[i%2] + `"}]}`
		i++
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodPatch, "/scim/v2/Users/"+p.ID, strings.NewReader(body)))
		if w.Code != 200 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
