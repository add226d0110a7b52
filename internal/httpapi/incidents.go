package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
)

// declare handles POST /api/v1/incidents. A repeat with the same Idempotency-Key answers
// the first incident again, marked with Idempotent-Replayed: true.
func (s *Server) declare(w http.ResponseWriter, r *http.Request) error {
	var body templatedDeclaration // launch.go: declaring from a template, and the lanzador role
	if err := decode(w, r, &body); err != nil {
		return err
	}
	d, err := s.fromTemplate(r.Context(), body)
	if err != nil {
		return err
	}
	if err := s.checkLadder(r, d.Ladder); err != nil {
		return err
	}
	inc, created, err := s.Incidents.Declare(r.Context(), d, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/incidents/"+inc.ID)
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// incidentView is an incident with its timeline and recipients.
type incidentView struct {
	incident.Incident
	Timeline   []optimum.Event      `json:"timeline"`
	Recipients []incident.Recipient `json:"recipients"`
	// Escalation is the ladder's state: current step, who was paged when, who is
	// pending, when the next step is due (absent when the incident has none).
	Escalation *escalation.View `json:"escalation,omitempty"`
}

// visible returns the incident if the caller may see its management views: reporters
// see only the incidents they declared (others are "not found", so their existence is
// not revealed; one they were alerted of shows only what they need to answer).
func (s *Server) visible(r *http.Request, idOrFolio string) (incident.Incident, error) {
	inc, acc, err := s.access(r, idOrFolio)
	if err != nil {
		return inc, err
	}
	if !acc.Manage {
		return incident.Incident{}, optimum.Errorf(optimum.ENOTFOUND, "No incident has the id or folio %q.", idOrFolio)
	}
	return inc, nil
}

// access returns the incident and what the caller may do with it (incident.AccessOf);
// an incident the caller may not see at all is "not found".
func (s *Server) access(r *http.Request, idOrFolio string) (incident.Incident, incident.Access, error) {
	inc, err := s.Incidents.Get(r.Context(), idOrFolio)
	if err != nil {
		return inc, incident.Access{}, err
	}
	a, _ := optimum.ActorFrom(r.Context())
	acc, err := s.Incidents.AccessOf(r.Context(), a, inc)
	if err != nil {
		return inc, acc, err
	}
	if !acc.Sees() {
		return incident.Incident{}, acc, optimum.Errorf(optimum.ENOTFOUND, "No incident has the id or folio %q.", idOrFolio)
	}
	return inc, acc, nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) error {
	inc, acc, err := s.access(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !acc.Manage {
		return s.answerView(w, r, inc)
	}
	timeline, err := s.Incidents.Timeline(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	recipients, err := s.Incidents.Recipients(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	if timeline == nil {
		timeline = []optimum.Event{}
	}
	view := incidentView{Incident: inc, Timeline: timeline, Recipients: recipients}
	if s.Escalation != nil {
		if view.Escalation, err = s.Escalation.View(r.Context(), inc.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, view)
	return nil
}

// answerView answers GET /api/v1/incidents/{id} to a person who was alerted of the
// incident but may not manage it (a reporter in a safety poll's audience): the incident
// and their own row, what they need to answer; no timeline, no one else's answers.
func (s *Server) answerView(w http.ResponseWriter, r *http.Request, inc incident.Incident) error {
	a, _ := optimum.ActorFrom(r.Context())
	recipients, err := s.Incidents.Recipients(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	own := []incident.Recipient{}
	for _, rc := range recipients {
		if rc.PersonID == a.PersonID {
			own = append(own, rc)
		}
	}
	writeJSON(w, http.StatusOK, incidentView{Incident: inc, Timeline: []optimum.Event{}, Recipients: own})
	return nil
}

// acknowledge handles POST /api/v1/incidents/{id}/ack. An optional body
// {"safety": "safe" | "help_needed"} answers the incident's safety poll as well.
// Responders and above may acknowledge any incident; anyone else only one they were
// alerted of (a reporter answering a safety poll).
func (s *Server) acknowledge(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Safety string `json:"safety"`
	}
	if r.ContentLength != 0 {
		if err := decode(w, r, &body); err != nil {
			return err
		}
	}
	if a, _ := optimum.ActorFrom(r.Context()); !a.Role.AtLeast(optimum.RoleResponder) {
		_, acc, err := s.access(r, r.PathValue("id"))
		if err != nil {
			return err
		}
		if !acc.Answer {
			return optimum.Errorf(optimum.EFORBIDDEN, "Only the people this incident was sent to, and responders, can acknowledge it.")
		}
	}
	var (
		inc incident.Incident
		err error
	)
	if body.Safety != "" {
		inc, err = s.Incidents.AnswerSafetyAsActor(r.Context(), r.PathValue("id"), "web", body.Safety)
	} else {
		inc, err = s.Incidents.Acknowledge(r.Context(), r.PathValue("id"), "web")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// listIncidents handles GET /api/v1/incidents?status=&priority=&drill=&q=&from=&to=&limit=&before=.
// An unknown parameter or value is refused rather than ignored.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	if a, _ := optimum.ActorFrom(r.Context()); !a.Role.AtLeast(optimum.RoleResponder) {
		f.Reporter, f.Audience = a.ID, a.PersonID
	}
	list, err := s.Incidents.List(r.Context(), f)
	if err != nil {
		return err
	}
	if len(list) == f.Limit && len(list) > 0 {
		w.Header().Set("Link", "</api/v1/incidents?"+nextPage(r, list[len(list)-1].ID)+`>; rel="next"`)
	}
	if s.Escalation != nil {
		return s.withEscalation(w, r, list)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func parseFilter(r *http.Request) (incident.Filter, error) {
	f := incident.Filter{Limit: 50}
	var p queryProblems
	bad := func(field, msg string) { p.add(field, "%s", msg) }
	for key, values := range r.URL.Query() {
		v := values[len(values)-1]
		switch key {
		case "status":
			for _, st := range listParam(key, values, &p) {
				switch incident.Status(st) {
				case incident.StatusDeclared, incident.StatusAcknowledged, incident.StatusInvestigating,
					incident.StatusResolved, incident.StatusVerified, incident.StatusClosed, incident.StatusCancelled,
					incident.StatusReopened:
					f.Status = append(f.Status, incident.Status(st))
				default:
					bad("status", "unknown status "+strconv.Quote(truncateText(st, 40)))
				}
			}
		case "priority":
			for _, pr := range listParam(key, values, &p) {
				pr = strings.ToUpper(pr)
				if len(pr) != 2 || pr[0] != 'P' || pr[1] < '1' || pr[1] > '5' {
					bad("priority", "unknown priority "+strconv.Quote(truncateText(pr, 40))+" (P1-P5)")
					continue
				}
				f.Priority = append(f.Priority, incident.Priority(pr))
			}
		case "drill":
			b, err := strconv.ParseBool(v)
			if err != nil {
				bad("drill", "must be true or false")
				continue
			}
			f.Drill = &b
		case "q":
			f.Text = v
		case "from", "to":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(key, "must be an RFC 3339 time such as 2026-11-22T08:00:00Z")
				continue
			}
			if key == "from" {
				f.From = t
			} else {
				f.To = t
			}
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				bad("limit", "must be a whole number from 1 to 200")
				continue
			}
			f.Limit = n
		case "before":
			f.Before = v
		default:
			bad(key, "unknown parameter (status, priority, drill, q, from, to, limit, before)")
		}
	}
	return f, p.err("The list parameters have errors.")
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func nextPage(r *http.Request, lastID string) string {
	q := r.URL.Query()
	q.Set("before", lastID)
	return q.Encode()
}
