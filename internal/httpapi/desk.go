package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/incident"
)

// The incident worked after its declaration (incident.Desk): lifecycle, assignment,
// reclassification, the requester's messages, stakeholder updates, similar incidents,
// templates. Reports are in report.go, the conformity links in conformity.go.

// transition handles POST /api/v1/incidents/{id}/transitions {"to", "note"}.
func (s *Server) transition(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		To   incident.Status `json:"to"`
		Note string          `json:"note"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	inc, err := s.Desk.Transition(r.Context(), r.PathValue("id"), incident.Status(strings.TrimSpace(string(body.To))), body.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// assign handles POST /api/v1/incidents/{id}/assignment {"owner", "people", "teams", "note"}.
func (s *Server) assign(w http.ResponseWriter, r *http.Request) error {
	var a incident.Assignment
	if err := decode(w, r, &a); err != nil {
		return err
	}
	inc, err := s.Desk.Assign(r.Context(), r.PathValue("id"), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// reclassify handles POST /api/v1/incidents/{id}/classification {"impact", "urgency", "note"}.
func (s *Server) reclassify(w http.ResponseWriter, r *http.Request) error {
	var rc incident.Reclassification
	if err := decode(w, r, &rc); err != nil {
		return err
	}
	inc, err := s.Desk.Reclassify(r.Context(), r.PathValue("id"), rc)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// knownError handles POST /api/v1/incidents/{id}/known-error {"workaround"}.
func (s *Server) knownError(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Workaround string `json:"workaround"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	inc, err := s.Desk.MarkKnownError(r.Context(), r.PathValue("id"), body.Workaround)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, inc)
	return nil
}

// messages handles GET /api/v1/incidents/{id}/messages: what the requester was told.
// Nobody sees a conformity link here, not even the requester: the newest conformity
// request, while it waits, is marked answerable for them, and the web app asks for a
// link of their own (conformityLink).
func (s *Server) messages(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.visible(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	ms, err := s.Desk.Messages(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	a, _ := optimum.ActorFrom(r.Context())
	type shown struct {
		incident.Message
		Answerable bool `json:"answerable,omitempty"`
	}
	out := make([]shown, len(ms))
	last := -1
	for i := range ms {
		out[i] = shown{Message: ms[i].Shown()}
		if ms[i].Kind == incident.MessageConformity {
			last = i
		}
	}
	if last >= 0 && awaitsConformity(inc) && ms[last].To.ID == a.ID {
		out[last].Answerable = true
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func awaitsConformity(inc incident.Incident) bool {
	return (inc.Status == incident.StatusResolved || inc.Status == incident.StatusVerified) && inc.Conformity == incident.ConformityPending
}

// conformityLink handles POST /api/v1/incidents/{id}/conformity-link: the requester,
// signed in, gets a new link to answer the open conformity request (the one their phone
// got works too, until either is used). Nobody else may: a link answers in the
// requester's name.
func (s *Server) conformityLink(w http.ResponseWriter, r *http.Request) error {
	inc, err := s.visible(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if a, _ := optimum.ActorFrom(r.Context()); a.ID != inc.Reporter.ID {
		return optimum.Errorf(optimum.EFORBIDDEN, "Only the requester of incident %s can answer its conformity request.", inc.Folio)
	}
	if !awaitsConformity(inc) {
		return optimum.Errorf(optimum.ECONFLICT, "Incident %s is not waiting for your conformity.", inc.Folio)
	}
	url, ok, err := s.Desk.MintConformityLink(r.Context(), inc.ID)
	if err != nil {
		return err
	}
	if !ok {
		return optimum.Errorf(optimum.ECONFLICT, "Incident %s is not waiting for your conformity.", inc.Folio)
	}
	writeJSON(w, http.StatusCreated, map[string]string{"url": url})
	return nil
}

// askRequester handles POST /api/v1/incidents/{id}/questions {"question"}.
func (s *Server) askRequester(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Question string `json:"question"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	m, err := s.Desk.AskRequester(r.Context(), r.PathValue("id"), body.Question)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

// answerRequest handles POST /api/v1/incidents/{id}/answers {"answer"}: the requester
// (or a responder who heard them) answers; it lands on the timeline.
func (s *Server) answerRequest(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Answer string `json:"answer"`
	}
	if err := decode(w, r, &body); err != nil {
		return err
	}
	inc, err := s.visible(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if inc, err = s.Desk.AnswerRequest(r.Context(), inc.ID, body.Answer); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// postUpdate handles POST /api/v1/incidents/{id}/updates {"known", "doing", "next_update_at", "sms"}.
func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request) error {
	var u incident.Update
	if err := decode(w, r, &u); err != nil {
		return err
	}
	inc, err := s.Desk.PostUpdate(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inc)
	return nil
}

// similar handles GET /api/v1/incidents/{id}/similar?limit=: past incidents most like
// this one, best first, each with its solution.
func (s *Server) similar(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, "limit")
	if err != nil {
		return err
	}
	ms, err := s.Desk.Similar(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ms)
	return nil
}

// searchSimilar handles GET /api/v1/incidents/similar?q=&services=&causes=&limit=: the
// declare form's search before the incident exists.
func (s *Server) searchSimilar(w http.ResponseWriter, r *http.Request) error {
	q, err := parseSimilarQuery(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, "limit")
	if err != nil {
		return err
	}
	ms, err := s.Desk.Search(r.Context(), q, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ms)
	return nil
}

// parseSimilarQuery reads GET /api/v1/incidents/similar?q=&services=&causes=&limit=
// (limit is read by limitParam).
func parseSimilarQuery(r *http.Request) (incident.Query, error) {
	var (
		q incident.Query
		p queryProblems
	)
	for key, values := range r.URL.Query() {
		switch key {
		case "q":
			q.Text = strings.Join(values, " ")
		case "services":
			q.Services = listParam(key, values, &p)
		case "causes":
			q.Causes = listParam(key, values, &p)
		case "limit":
		default:
			p.add(key, "unknown parameter (q, services, causes, limit)")
		}
	}
	return q, p.err("The search has errors.")
}

func limitParam(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 50 {
		return 0, optimum.Invalid("The search has errors.", []optimum.FieldError{{Field: name, Message: "must be a whole number from 1 to 50"}})
	}
	return n, nil
}

// listTemplates handles GET /api/v1/templates.
func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Desk.Templates(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ts)
	return nil
}

// getTemplate handles GET /api/v1/templates/{id}.
func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) error {
	t, err := s.Desk.Template(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// saveTemplate handles PUT /api/v1/templates/{id} (managers).
func (s *Server) saveTemplate(w http.ResponseWriter, r *http.Request) error {
	var t incident.Template
	if err := decode(w, r, &t); err != nil {
		return err
	}
	if t.ID != "" && t.ID != r.PathValue("id") {
		return optimum.Errorf(optimum.EINVALID, "The id in the body (%q) differs from the one in the path.", truncateText(t.ID, 40))
	}
	t, err := s.Desk.SaveTemplate(r.Context(), r.PathValue("id"), t)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}
