package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/csvsafe"
	"github.com/optimum-bcp/optimum/internal/store"
)

// People's data rights (docs/privacy.md): GDPR articles 15, 17 and 20 and Mexico's
// LFPDPPP (access, rectification, cancellation, opposition). Rectification is the
// directory's own PUT; opposition is deactivation.

// Rights is the store's side of people's data rights (store.DB).
type Rights interface {
	PersonHeld(ctx context.Context, personID string) (store.PersonHeld, error)
	ErasePerson(ctx context.Context, personID, reason string, actor optimum.Actor, at time.Time) (store.Erasure, error)
}

// personData handles GET /api/v1/people/{id}/data?format=json|csv (manager): everything
// held about the person, as a file to hand to them.
func (s *Server) personData(w http.ResponseWriter, r *http.Request) error {
	var p queryProblems
	q := r.URL.Query()
	for k := range q {
		if k != "format" {
			p.add(k, "is not a parameter of a person's data (format)")
		}
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		p.add("format", "must be json or csv")
	}
	if err := p.err("The query of a person's data has errors."); err != nil {
		return err
	}
	if s.Rights == nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "People's data rights are not available on this server.")
	}
	person, err := s.Directory.Person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	held, err := s.Rights.PersonHeld(r.Context(), person.ID)
	if err != nil {
		return err
	}
	name := "optimum-datos-" + person.ID
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return writePersonCSV(w, person, held)
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
	writeJSON(w, http.StatusOK, struct {
		ExportedAt time.Time        `json:"exported_at"`
		Person     contacts.Person  `json:"person"`
		Held       store.PersonHeld `json:"held"`
	}{s.authNow().UTC(), person, held})
	return nil
}

// writePersonCSV writes one row per fact: section, time, incident, field, value.
func writePersonCSV(w http.ResponseWriter, p contacts.Person, h store.PersonHeld) error {
	cw := csvsafe.NewWriter(w)
	row := func(section string, at time.Time, incident, field, value string) {
		ts := ""
		if !at.IsZero() {
			ts = at.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{section, ts, incident, field, value})
	}
	row("section", time.Time{}, "incident", "field", "value")
	for k, v := range map[string]string{"id": p.ID, "name": p.Name, "email": p.Email, "phone": p.Phone, "language": p.Language,
		"time_zone": p.TimeZone, "external_id": p.ExternalID, "manager_id": p.ManagerID, "active": strconv.FormatBool(p.Active),
		"teams": strings.Join(p.Teams, " ")} {
		row("person", p.UpdatedAt, "", k, v)
	}
	for _, u := range h.Users {
		row("user", u.CreatedAt, "", "email", u.Email)
		row("user", u.CreatedAt, "", "role", u.Role)
	}
	for _, i := range h.Identities {
		row("sign_in_identity", i.LastAt, "", i.Provider, i.Email)
	}
	if v := h.PhoneVerification; v != nil {
		row("phone_verification", v.ExpiresAt, "", "phone", v.Phone)
	}
	for _, s := range h.PushSubscriptions {
		row("push_subscription", s.CreatedAt, "", "service", s.Service)
	}
	for _, d := range h.Deliveries {
		row("delivery", d.CreatedAt, d.IncidentID, d.Channel, d.Status+" "+d.Address)
	}
	for _, a := range h.Acknowledgements {
		row("acknowledgement", a.At, a.IncidentID, a.Channel, "acknowledged")
	}
	for _, a := range h.SafetyAnswers {
		row("safety_answer", a.At, a.IncidentID, a.Channel, a.Answer)
	}
	for _, m := range h.Messages {
		row("message", m.At, m.IncidentID, m.Kind, m.Text)
	}
	for _, i := range h.Declared {
		row("declared", i.CreatedAt, i.ID, "folio", i.Folio)
	}
	return cw.Flush()
}

// erasePerson handles POST /api/v1/people/{id}/erase {"reason"} (admin): the person is
// anonymised for good (docs/privacy.md); their history stays, under an anonymous name.
func (s *Server) erasePerson(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	body.Reason = strings.TrimSpace(body.Reason)
	if body.Reason == "" || utf8.RuneCountInString(body.Reason) > 2000 {
		return optimum.Invalid("The erasure has errors.", []optimum.FieldError{{Field: "reason", Message: "say why (the person's request, its date), at most 2000 characters"}})
	}
	if s.Rights == nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "People's data rights are not available on this server.")
	}
	person, err := s.Directory.Person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	a, _ := optimum.ActorFrom(r.Context())
	e, err := s.Rights.ErasePerson(r.Context(), person.ID, body.Reason, a, s.authNow().UTC().Truncate(time.Millisecond))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}
