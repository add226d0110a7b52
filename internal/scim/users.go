package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// A User is a person of the directory. userName is the person's email (the UPN in Entra
// ID, the login in Okta, which must be the person's email address); the work email, if
// given besides, is used only when userName is not an email address. The mobile phone
// (else the first phone) must be in E.164 form (+52…); preferredLanguage (else locale)
// "es…" or "en…" gives the language of the messages, anything else the default. The
// enterprise extension's manager.value (a User id) is the person's manager. Groups are
// the person's teams, changed from the Groups side only.

// userMap renders a person as a SCIM User.
func (s *Service) userMap(p contacts.Person, n *names, base string) map[string]any {
	given, family, _ := strings.Cut(p.Name, " ")
	u := map[string]any{
		"schemas":     []any{UserSchema},
		"id":          p.ID,
		"userName":    p.Email,
		"displayName": p.Name,
		"name":        map[string]any{"formatted": p.Name, "givenName": given, "familyName": family},
		"emails":      []any{map[string]any{"value": p.Email, "type": "work", "primary": true}},
		"active":      p.Active,
		"meta": map[string]any{"resourceType": "User", "created": p.CreatedAt.UTC().Format(time.RFC3339),
			"lastModified": p.UpdatedAt.UTC().Format(time.RFC3339), "location": base + "/Users/" + p.ID},
	}
	if p.ExternalID != "" {
		u["externalId"] = p.ExternalID
	}
	if p.Phone != "" {
		u["phoneNumbers"] = []any{map[string]any{"value": p.Phone, "type": "mobile", "primary": true}}
	}
	if p.Language != "" {
		u["preferredLanguage"] = p.Language
	}
	if p.TimeZone != "" {
		u["timezone"] = p.TimeZone
	}
	groups := []any{}
	for _, m := range p.Memberships {
		// No "display": the team names would cost a read of every team per User.
		groups = append(groups, map[string]any{"value": m.Team, "$ref": base + "/Groups/" + m.Team, "type": "direct"})
	}
	u["groups"] = groups
	if p.ManagerID != "" {
		mgr := map[string]any{"value": p.ManagerID, "$ref": base + "/Users/" + p.ManagerID}
		if m, ok := n.people[p.ManagerID]; ok {
			mgr["displayName"] = m.Name
		}
		u["schemas"] = append(u["schemas"].([]any), EnterpriseSchema)
		u[EnterpriseSchema] = map[string]any{"manager": mgr}
	}
	if len(p.Sites) > 0 {
		sites := make([]any, 0, len(p.Sites))
		for i, id := range p.Sites {
			sites = append(sites, map[string]any{"value": id, "primary": i == 0})
		}
		u["schemas"] = append(u["schemas"].([]any), OptimumSchema)
		u[OptimumSchema] = map[string]any{"sites": sites, "primarySite": p.Sites[0]}
	}
	return u
}

// dirIndex finds people and teams of a snapshot.
type dirIndex struct {
	snap    contacts.Snapshot
	byID    map[string]contacts.Person
	byEmail map[string]contacts.Person
	byExt   map[string]contacts.Person
	teams   map[string]contacts.Team
}

func (s *Service) index(ctx context.Context) (*dirIndex, error) {
	snap, err := s.Directory.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	x := &dirIndex{snap: snap, byID: map[string]contacts.Person{}, byEmail: map[string]contacts.Person{}, byExt: map[string]contacts.Person{}, teams: map[string]contacts.Team{}}
	for _, p := range snap.People {
		x.byID[p.ID], x.byEmail[p.Email] = p, p
		if p.ExternalID != "" {
			x.byExt[p.ExternalID] = p
		}
	}
	for _, t := range snap.Teams {
		x.teams[t.ID] = t
	}
	return x, nil
}

// names resolves what a User shows besides the person: their manager's name.
type names struct {
	people map[string]contacts.Person
}

func namesOf(people []contacts.Person) *names {
	n := &names{people: map[string]contacts.Person{}}
	for _, p := range people {
		n.people[p.ID] = p
	}
	return n
}

// namesFor reads the managers of a few people, without the whole directory.
func (s *Service) namesFor(ctx context.Context, people ...contacts.Person) (*names, error) {
	n := namesOf(people)
	for _, p := range people {
		if _, ok := n.people[p.ManagerID]; p.ManagerID != "" && !ok {
			if m, err := s.Directory.Person(ctx, p.ManagerID); err == nil {
				n.people[m.ID] = m
			}
		}
	}
	return n, nil
}

// person reads a User by id (never by email, which the directory also accepts).
func (s *Service) person(ctx context.Context, id string) (contacts.Person, error) {
	p, err := s.Directory.Person(ctx, id)
	if optimum.ErrorCode(err) == optimum.ENOTFOUND || (err == nil && p.ID != id) {
		return p, userNotFound(id)
	}
	return p, err
}

// candidates narrows a filter that looks a User up by userName or id (what Entra ID and
// Okta send before every change) to at most one person, read by key; ok is false when
// the filter needs the whole directory.
func (s *Service) candidates(ctx context.Context, f filter) (people []contacts.Person, ok bool, err error) {
	switch x := f.(type) {
	case andFilter:
		if people, ok, err = s.candidates(ctx, x.l); ok || err != nil {
			return people, ok, err
		}
		return s.candidates(ctx, x.r)
	case compareFilter:
		v, isStr := x.value.(string)
		if x.op != "eq" || !isStr || x.inner != nil || x.path.ext != "" || x.path.sub != "" || (x.path.attr.name != "userName" && x.path.attr.name != "id") {
			return nil, false, nil
		}
		p, err := s.Directory.Person(ctx, v)
		switch {
		case optimum.ErrorCode(err) == optimum.ENOTFOUND:
			return []contacts.Person{}, true, nil
		case err != nil:
			return nil, false, err
		case x.path.attr.name == "id" && p.ID != v, x.path.attr.name == "userName" && !strings.EqualFold(p.Email, v):
			return []contacts.Person{}, true, nil
		}
		return []contacts.Person{p}, true, nil
	}
	return nil, false, nil
}

// ListUsers handles GET /scim/v2/Users (?filter, startIndex, count, attributes,
// excludedAttributes).
func ListUsers(s *Service, w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, userSchema)
	if err != nil {
		return err
	}
	people, narrowed, err := s.candidates(r.Context(), q.filter)
	if err != nil {
		return err
	}
	var n *names
	if narrowed {
		n, err = s.namesFor(r.Context(), people...)
	} else {
		var snap contacts.Snapshot
		snap, err = s.Directory.Snapshot(r.Context())
		people, n = snap.People, namesOf(snap.People)
	}
	if err != nil {
		return err
	}
	people = slices.Clone(people)
	slices.SortFunc(people, func(a, b contacts.Person) int { return strings.Compare(a.ID, b.ID) })
	base := s.base(r)
	var all []map[string]any
	for _, p := range people {
		u := s.userMap(p, n, base)
		if q.filter == nil || q.filter.match(u) {
			all = append(all, u)
		}
	}
	writeList(w, q, all)
	return nil
}

// GetUser handles GET /scim/v2/Users/{id}.
func GetUser(s *Service, w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, userSchema)
	if err != nil {
		return err
	}
	p, err := s.person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	n, err := s.namesFor(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q.project(s.userMap(p, n, s.base(r))))
	return nil
}

func userNotFound(id string) error {
	return errorf(http.StatusNotFound, "", "No User has the id %q.", clipS(id))
}

// CreateUser handles POST /scim/v2/Users.
func CreateUser(s *Service, w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	u, err := userSchema.canonical(body)
	if err != nil {
		return err
	}
	in, err := s.personInput(r.Context(), u, nil)
	if err != nil {
		return err
	}
	if in.Active == nil {
		yes := true
		in.Active = &yes
	}
	p, err := s.Directory.CreatePerson(r.Context(), in)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, http.StatusCreated, p)
}

// ReplaceUser handles PUT /scim/v2/Users/{id}: the User becomes the body (Okta's update).
func ReplaceUser(s *Service, w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	u, err := userSchema.canonical(body)
	if err != nil {
		return err
	}
	before, err := s.person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	in, err := s.personInput(r.Context(), u, &before)
	if err != nil {
		return err
	}
	p, err := s.Directory.UpdatePerson(r.Context(), before.ID, in)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, http.StatusOK, p)
}

// PatchUser handles PATCH /scim/v2/Users/{id}: the operations apply to the User as it is,
// then the result is saved as by PUT, all or nothing.
func PatchUser(s *Service, w http.ResponseWriter, r *http.Request) error {
	ops, err := readPatch(w, r)
	if err != nil {
		return err
	}
	before, err := s.person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	n, err := s.namesFor(r.Context(), before)
	if err != nil {
		return err
	}
	u := s.userMap(before, n, s.base(r))
	delete(u, "meta")
	delete(u, "groups")
	if err := applyPatch(userSchema, u, ops, []string{"id", "meta", "groups"}, []string{"userName"}); err != nil {
		return err
	}
	if ext, ok := u[OptimumSchema].(map[string]any); ok && len(before.Sites) > 0 {
		if _, kept := ext["sites"]; !kept {
			ext["sites"] = []any{} // removed by the PATCH: the person has no sites now
		}
	} else if !ok && len(before.Sites) > 0 {
		u[OptimumSchema] = map[string]any{"sites": []any{}} // the extension removed whole
	}
	// The directory keeps one name: a changed displayName wins, then a changed
	// name.formatted, then changed name parts.
	if u["displayName"] == before.Name {
		given, family, _ := strings.Cut(before.Name, " ")
		nm, _ := u["name"].(map[string]any)
		g, _ := nm["givenName"].(string)
		f, _ := nm["familyName"].(string)
		if full, _ := nm["formatted"].(string); full != "" && full != before.Name {
			u["displayName"] = full
		} else if (g != given || f != family) && strings.TrimSpace(g+" "+f) != "" {
			u["displayName"] = strings.TrimSpace(g + " " + f)
		}
	}
	in, err := s.personInput(r.Context(), u, &before)
	if err != nil {
		return err
	}
	p, err := s.Directory.UpdatePerson(r.Context(), before.ID, in)
	if err != nil {
		return err
	}
	return s.writeUser(w, r, http.StatusOK, p)
}

// DeleteUser handles DELETE /scim/v2/Users/{id}: deprovisioning deactivates the person,
// who is kept with their history (a later GET shows "active": false).
func DeleteUser(s *Service, w http.ResponseWriter, r *http.Request) error {
	p, err := s.person(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if _, err := s.Directory.SetActive(r.Context(), p.ID, false); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Service) writeUser(w http.ResponseWriter, r *http.Request, status int, p contacts.Person) error {
	n, err := s.namesFor(r.Context(), p)
	if err != nil {
		return err
	}
	u := s.userMap(p, n, s.base(r))
	w.Header().Set("Location", u["meta"].(map[string]any)["location"].(string))
	writeJSON(w, status, u)
	return nil
}

// personInput turns a User (canonical names) into the directory's input. before is the
// person being replaced, nil for a new one: their teams are kept, and so is their manager
// unless the body has the enterprise extension.
func (s *Service) personInput(ctx context.Context, u map[string]any, before *contacts.Person) (contacts.PersonInput, error) {
	var in contacts.PersonInput
	str := func(v any, name string) (string, error) {
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x, nil
		}
		return "", errorf(http.StatusBadRequest, "invalidValue", "%s must be a string.", name)
	}
	var err error
	if in.ExternalID, err = str(u["externalId"], "externalId"); err != nil {
		return in, err
	}
	userName, err := str(u["userName"], "userName")
	if err != nil {
		return in, err
	}
	if strings.TrimSpace(userName) == "" {
		return in, errorf(http.StatusBadRequest, "invalidValue", "userName is required (the person's email address).")
	}
	in.Email = userName
	if !strings.Contains(userName, "@") {
		if e := pick(u["emails"], "work"); e != "" {
			in.Email = e
		}
	}
	display, err := str(u["displayName"], "displayName")
	if err != nil {
		return in, err
	}
	if nm, ok := u["name"].(map[string]any); ok && display == "" {
		if f, _ := nm["formatted"].(string); f != "" {
			display = f
		} else {
			g, _ := nm["givenName"].(string)
			f, _ := nm["familyName"].(string)
			display = strings.TrimSpace(g + " " + f)
		}
	}
	if display == "" {
		display, _, _ = strings.Cut(userName, "@")
	}
	in.Name = display
	in.Phone = pick(u["phoneNumbers"], "mobile")
	lang, err := str(u["preferredLanguage"], "preferredLanguage")
	if err != nil {
		return in, err
	}
	if lang == "" {
		if lang, err = str(u["locale"], "locale"); err != nil {
			return in, err
		}
	}
	switch l := strings.ToLower(lang); {
	case strings.HasPrefix(l, "es"):
		in.Language = contacts.Spanish
	case strings.HasPrefix(l, "en"):
		in.Language = contacts.English
	case before != nil && lang == "":
		in.Language = before.Language
	default:
		in.Language = s.Language
	}
	if in.TimeZone, err = str(u["timezone"], "timezone"); err != nil {
		return in, err
	}
	if v, ok := u["active"]; ok && v != nil {
		b, err := boolValue(v)
		if err != nil {
			return in, err
		}
		in.Active = &b
	}
	if before != nil {
		in.Teams = slices.Clone(before.Memberships)
		if before.ManagerID != "" {
			if m, err := s.person(ctx, before.ManagerID); err == nil {
				in.ManagerEmail = m.Email
			}
		}
	}
	if ext, ok := u[EnterpriseSchema].(map[string]any); ok {
		in.ManagerEmail = ""
		var mid string
		switch m := ext["manager"].(type) {
		case map[string]any:
			mid, _ = m["value"].(string)
		case string: // Entra sends the manager's id as a plain value in PATCH
			mid = m
		}
		// A manager not provisioned yet is left out; the provider sends it again later.
		if mid != "" {
			if m, err := s.person(ctx, mid); err == nil {
				in.ManagerEmail = m.Email
			}
		}
	}
	if ext, ok := u[OptimumSchema].(map[string]any); ok {
		if in.Sites, err = sitesOf(ext, before); err != nil {
			return in, err
		}
	}
	// Uniqueness (email, externalId, an active person's phone) is the directory's rule:
	// its refusal is answered 409 uniqueness (WriteError).
	if before != nil && in.ExternalID == "" {
		in.ExternalID = before.ExternalID
	}
	return in, nil
}

// sitesOf reads our extension's sites (docs/scim.md, "Sites"): nil keeps the person's
// sites (neither attribute given), else the sites' ids or names, the primary first. A
// primarySite goes first, added if the sites do not have it; given alone, it keeps the
// person's other sites. More than one primary, or a site that is not a string, is 400
// invalidValue; an unknown site is the directory's refusal (400 invalidValue), and
// nothing changes either way.
func sitesOf(ext map[string]any, before *contacts.Person) ([]string, error) {
	raw, hasSites := ext["sites"]
	primary, _ := ext["primarySite"].(string)
	if before != nil && hasSites && len(before.Sites) > 0 && primary == before.Sites[0] {
		// The primarySite a PATCH found on the User and left alone: the sites decide.
		primary = ""
	}
	if v, ok := ext["primarySite"]; ok && v != nil {
		if _, isStr := v.(string); !isStr {
			return nil, errorf(http.StatusBadRequest, "invalidValue", "primarySite must be a string (a site's id or name).")
		}
	}
	if !hasSites && primary == "" {
		return nil, nil
	}
	sites := []string{}
	if !hasSites && before != nil {
		sites = slices.Clone(before.Sites)
	}
	list, _ := raw.([]any)
	primaries := 0
	for _, x := range list {
		m, _ := x.(map[string]any)
		v, ok := m["value"].(string)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, errorf(http.StatusBadRequest, "invalidValue", "Each of sites needs a value: a site's id or name.")
		}
		if b, _ := boolValue(m["primary"]); b {
			primaries++
			if primaries > 1 {
				return nil, errorf(http.StatusBadRequest, "invalidValue", "Only one of sites may be primary.")
			}
			sites = append([]string{v}, sites...)
			continue
		}
		sites = append(sites, v)
	}
	if primary = strings.TrimSpace(primary); primary != "" {
		// A site is named by its id or its name, whose slug is the id (contacts.Slug).
		sites = slices.DeleteFunc(sites, func(s string) bool { return s == primary || contacts.Slug(s) == contacts.Slug(primary) })
		sites = append([]string{primary}, sites...)
	}
	return sites, nil
}

// pick returns the value of a multi-valued attribute's element of the type, else the
// primary one, else the first.
func pick(v any, typ string) string {
	list, _ := v.([]any)
	var primary, first string
	for _, x := range list {
		m, _ := x.(map[string]any)
		val, _ := m["value"].(string)
		if val == "" {
			continue
		}
		if t, _ := m["type"].(string); strings.EqualFold(t, typ) {
			return val
		}
		if b, _ := boolValue(m["primary"]); b && primary == "" {
			primary = val
		}
		if first == "" {
			first = val
		}
	}
	if primary != "" {
		return primary
	}
	return first
}

// boolValue reads a boolean, or Entra's "True"/"False" strings.
func boolValue(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, errorf(http.StatusBadRequest, "invalidValue", "%s is not a boolean (true or false).", clipS(fmt.Sprint(jsonText(v))))
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
