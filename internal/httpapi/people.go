package httpapi

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast"
	"github.com/optimum-bcp/optimum/broadcast/chat"
	"github.com/optimum-bcp/optimum/contacts"
)

// maxImport is the largest directory file accepted (about 20,000 rows of CSV).
const maxImport = 8 << 20

func (s *Server) listPeople(w http.ResponseWriter, r *http.Request) error {
	f, err := parsePeopleFilter(r)
	if err != nil {
		return err
	}
	people, err := s.Directory.People(r.Context(), f)
	if err != nil {
		return err
	}
	if len(people) == f.Limit {
		q := r.URL.Query()
		q.Set("after", people[len(people)-1].ID)
		w.Header().Set("Link", "</api/v1/people?"+q.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, people)
	return nil
}

// parsePeopleFilter reads GET /api/v1/people?team=&role=&site=&q=&active=&limit=&after=.
func parsePeopleFilter(r *http.Request) (contacts.Filter, error) {
	f := contacts.Filter{Limit: 200}
	var p queryProblems
	for key, values := range r.URL.Query() {
		v := values[len(values)-1]
		switch key {
		case "team":
			f.Teams = listParam(key, values, &p)
		case "role":
			f.Roles = listParam(key, values, &p)
		case "site": // docs/sites.md: the people of these sites, primary or not
			f.Sites = listParam(key, values, &p)
		case "q":
			if len([]rune(v)) > 200 {
				p.add("q", "is too long (at most 200 characters)")
			}
			f.Text = v
		case "active":
			b, err := strconv.ParseBool(v)
			if err != nil {
				p.add("active", "must be true or false")
			}
			f.Active = &b
		case "limit":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				p.add("limit", "must be a whole number from 1 to 1000")
			}
			f.Limit = n
		case "after":
			f.After = v
		default:
			p.add(key, "unknown parameter (team, role, site, q, active, limit, after)")
		}
	}
	return f, p.err("The list parameters have errors.")
}

func (s *Server) getPerson(w http.ResponseWriter, r *http.Request) error {
	p, err := s.Directory.Person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) createPerson(w http.ResponseWriter, r *http.Request) error {
	var in contacts.PersonInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Directory.CreatePerson(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/people/"+p.ID)
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) updatePerson(w http.ResponseWriter, r *http.Request) error {
	var in contacts.PersonInput
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Directory.UpdatePerson(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) setPersonActive(active bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.Directory.SetActive(r.Context(), r.PathValue("id"), active)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, p)
		return nil
	}
}

// importPeople handles POST /api/v1/people/import: a CSV (text/csv) or YAML
// (application/yaml) directory, all or nothing. ?dry_run=true only reports.
func (s *Server) importPeople(w http.ResponseWriter, r *http.Request) error {
	dryRun := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("dry_run must be true or false.")
		}
		dryRun = b
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxImport))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &requestError{status: http.StatusRequestEntityTooLarge, detail: "The file is larger than 8 MiB; split it into several files."}
		}
		return badRequest("The body could not be read.")
	}
	var (
		rows     []contacts.Row
		teams    []contacts.TeamInput
		services []contacts.ServiceInput
		sites    []contacts.SiteInput
	)
	switch mt {
	case "text/csv", "application/csv":
		rows, err = contacts.ParseCSV(bytes.NewReader(data))
	case "application/yaml", "application/x-yaml", "text/yaml":
		var f contacts.File
		f, err = contacts.ParseYAML(data)
		rows, teams, services, sites = f.People, f.Teams, f.Services, f.Sites
	default:
		return &requestError{status: http.StatusUnsupportedMediaType, detail: "Send the directory as text/csv or application/yaml."}
	}
	var fe *contacts.FileError
	if errors.As(err, &fe) {
		return optimum.Errorf(optimum.EINVALID, "%s", fe.Message)
	} else if err != nil {
		return err
	}
	rep, err := s.Directory.Import(r.Context(), rows, teams, services, dryRun, sites...)
	if code := optimum.ErrorCode(err); (code == optimum.EINVALID || code == optimum.ECONFLICT) && rep.ErrorCount > 0 {
		// 409 when every error is a phone another active person has, 422 otherwise.
		writeProblemFor(w, r, statusOf[code], code, optimum.ErrorMessage(err), map[string]any{"report": rep})
		return nil
	} else if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// exportPeople handles GET /api/v1/people/export: the directory as CSV, in the import
// format, so an export imports back unchanged.
func (s *Server) exportPeople(w http.ResponseWriter, r *http.Request) error {
	people, err := s.Directory.People(r.Context(), contacts.Filter{Limit: contacts.MaxImportRows * 5})
	if err != nil {
		return err
	}
	email := map[string]string{}
	for _, p := range people {
		email[p.ID] = p.Email
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="directorio.csv"`)
	return contacts.WriteCSV(w, people, func(id string) string { return email[id] })
}

func (s *Server) readiness(w http.ResponseWriter, r *http.Request) error {
	teams, err := teamsParam(r)
	if err != nil {
		return err
	}
	rd, err := s.Directory.Readiness(r.Context(), teams)
	if err != nil {
		return err
	}
	broken, err := s.brokenChat(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		contacts.Readiness
		// Estimate is how long reaching everybody takes on each channel at its rate.
		Estimate []broadcast.Estimate `json:"estimate"`
		// ChatBroken are the team chats and webhooks whose endpoint is gone (chat.go).
		ChatBroken []chat.Subscription `json:"chat_broken"`
	}{rd, s.estimates(r, rd.Overall.Channels), broken})
	return nil
}

// estimates says how long reaching people[channel] takes on each channel with a sender,
// at the configured rates (delivery.rates), in the request's language.
func (s *Server) estimates(r *http.Request, people map[string]int) []broadcast.Estimate {
	channels := []string{broadcast.ChannelWebPush}
	if len(s.Config.SMSProviders()) > 0 { // sms2: Twilio or Vonage
		channels = append(channels, broadcast.ChannelSMS, broadcast.ChannelVoice)
	}
	if s.Config.Email.URL != "" {
		channels = append(channels, broadcast.ChannelEmail) // issue 17
	}
	return broadcast.Estimates(channels, people, s.Config.Delivery.Rates, requestLang(r))
}

// teamsParam reads the teams= list of the readiness and audience views; other
// parameters are ignored, as they always were.
func teamsParam(r *http.Request) ([]string, error) {
	var p queryProblems
	teams := listParam("teams", r.URL.Query()["teams"], &p)
	return teams, p.err("The list parameters have errors.")
}

// audiencePreview handles GET /api/v1/audience/preview?teams=…: before declaring, who of
// the chosen teams can be reached and how. Names of the unreachable are shown only to
// managers and admins.
func (s *Server) audiencePreview(w http.ResponseWriter, r *http.Request) error {
	teams, err := teamsParam(r)
	if err != nil {
		return err
	}
	var p queryProblems
	sites := listParam("sites", r.URL.Query()["sites"], &p) // sites.go
	if err := p.err("The list parameters have errors."); err != nil {
		return err
	}
	if len(teams) == 0 && len(sites) == 0 {
		teams = s.Config.Incident.DefaultTeams
	}
	aud := contacts.Audience{Teams: teams, Sites: sites}
	if _, err = s.Directory.Resolve(r.Context(), aud); err != nil {
		return err
	}
	rd, err := s.Directory.Readiness(r.Context(), teams)
	if err != nil {
		return err
	}
	actor, _ := optimum.ActorFrom(r.Context())
	if !actor.Role.AtLeast(optimum.RoleManager) {
		for i := range rd.Teams {
			rd.Teams[i].WithoutVerified = []contacts.PersonRef{}
		}
	}
	recipients, err := s.Directory.Resolve(r.Context(), aud)
	if err != nil {
		return err
	}
	reachable, verified := 0, 0
	byChannel := map[string]int{}
	for _, rc := range recipients {
		if len(rc.Channels) > 0 {
			reachable++
		}
		if rc.Verified {
			verified++
		}
		for _, ch := range rc.Channels {
			byChannel[ch]++
		}
	}
	byChannel[broadcast.ChannelEmail] = rd.Overall.Channels[broadcast.ChannelEmail] // addresses, counted by Readiness
	writeJSON(w, http.StatusOK, map[string]any{
		"people": len(recipients), "reachable": reachable, "verified": verified, "teams": rd.Teams,
		"estimate": s.estimates(r, byChannel),
	})
	return nil
}

// profile handles GET /api/v1/me/profile: the caller's own directory entry.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) error {
	id, err := personOf(r)
	if err != nil {
		return err
	}
	p, err := s.Directory.Person(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// updateProfile handles PUT /api/v1/me/profile {phone, language}.
func (s *Server) updateProfile(w http.ResponseWriter, r *http.Request) error {
	id, err := personOf(r)
	if err != nil {
		return err
	}
	var in contacts.Profile
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := s.Directory.UpdateProfile(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func personOf(r *http.Request) (string, error) {
	a, _ := optimum.ActorFrom(r.Context())
	if a.PersonID == "" {
		return "", optimum.Errorf(optimum.ENOTFOUND, "Your account is not linked to a person in the directory; ask a continuity manager to add you with your email.")
	}
	return a.PersonID, nil
}
