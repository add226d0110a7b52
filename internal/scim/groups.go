package scim

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/optimum-bcp/optimum/contacts"
)

// A Group is a team. Its id is the team's id (a slug of the name it was created with);
// displayName is the Spanish name (a filter on displayName matches either name); members
// are Users. A team created through SCIM has the same name in both languages. Deleting a
// Group retires the team: kept with its history, without members.

func (s *Service) groupMap(t contacts.Team, idx *dirIndex, base string, english bool) map[string]any {
	members := []any{}
	for _, p := range idx.snap.People {
		if slices.ContainsFunc(p.Memberships, func(m contacts.Membership) bool { return m.Team == t.ID }) {
			members = append(members, map[string]any{"value": p.ID, "display": p.Name, "$ref": base + "/Users/" + p.ID, "type": "User"})
		}
	}
	name := t.NameES
	if english {
		name = t.NameEN
	}
	return map[string]any{
		"schemas": []any{GroupSchema}, "id": t.ID, "displayName": name, "members": members,
		"meta": map[string]any{"resourceType": "Group", "location": base + "/Groups/" + t.ID},
	}
}

// ListGroups handles GET /scim/v2/Groups.
func ListGroups(s *Service, w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, groupSchema)
	if err != nil {
		return err
	}
	idx, err := s.groupIndex(r.Context(), q)
	if err != nil {
		return err
	}
	teams := slices.Clone(idx.snap.Teams)
	slices.SortFunc(teams, func(a, b contacts.Team) int { return strings.Compare(a.ID, b.ID) })
	base := s.base(r)
	var all []map[string]any
	for _, t := range teams {
		if !t.Active {
			continue
		}
		g := s.groupMap(t, idx, base, false)
		if q.filter == nil || q.filter.match(g) || q.filter.match(s.groupMap(t, idx, base, true)) {
			all = append(all, g)
		}
	}
	writeList(w, q, all)
	return nil
}

// groupIndex reads what a Group read needs: the teams, and the people only when the
// members are shown (Entra ID asks excludedAttributes=members).
func (s *Service) groupIndex(ctx context.Context, q listQuery) (*dirIndex, error) {
	if q.wants("members") || (q.filter != nil && usesMembers(q.filter)) {
		return s.index(ctx)
	}
	teams, err := s.Directory.Teams(ctx)
	if err != nil {
		return nil, err
	}
	x := &dirIndex{snap: contacts.Snapshot{Teams: teams}, teams: map[string]contacts.Team{}}
	for _, t := range teams {
		x.teams[t.ID] = t
	}
	return x, nil
}

// usesMembers reports whether a filter reads the members.
func usesMembers(f filter) bool {
	switch x := f.(type) {
	case andFilter:
		return usesMembers(x.l) || usesMembers(x.r)
	case orFilter:
		return usesMembers(x.l) || usesMembers(x.r)
	case notFilter:
		return usesMembers(x.f)
	case compareFilter:
		return x.path.attr.name == "members"
	case valuePathFilter:
		return x.path.attr.name == "members"
	}
	return false
}

func (s *Service) team(idx *dirIndex, id string) (contacts.Team, error) {
	t, ok := idx.teams[id]
	if !ok || !t.Active {
		return t, errorf(http.StatusNotFound, "", "No Group has the id %q.", clipS(id))
	}
	return t, nil
}

// GetGroup handles GET /scim/v2/Groups/{id} (Entra asks excludedAttributes=members).
func GetGroup(s *Service, w http.ResponseWriter, r *http.Request) error {
	q, err := parseListQuery(r, groupSchema)
	if err != nil {
		return err
	}
	idx, err := s.groupIndex(r.Context(), q)
	if err != nil {
		return err
	}
	t, err := s.team(idx, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, q.project(s.groupMap(t, idx, s.base(r), false)))
	return nil
}

// CreateGroup handles POST /scim/v2/Groups.
func CreateGroup(s *Service, w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	g, err := groupSchema.canonical(body)
	if err != nil {
		return err
	}
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	name, members, err := groupFields(g, idx)
	if err != nil {
		return err
	}
	id := contacts.Slug(name)
	if !contacts.ValidID(id) {
		return errorf(http.StatusBadRequest, "invalidValue", "displayName %q gives no usable team id.", clipS(name))
	}
	if t, ok := idx.teams[id]; ok && t.Active {
		return errorf(http.StatusConflict, "uniqueness", "A Group with the id %q (displayName %q) exists already.", id, t.NameES)
	}
	for _, t := range idx.snap.Teams {
		if t.Active && (strings.EqualFold(t.NameES, name) || strings.EqualFold(t.NameEN, name)) {
			return errorf(http.StatusConflict, "uniqueness", "A Group with the displayName %q exists already (id %q).", clipS(name), t.ID)
		}
	}
	if _, err := s.Directory.SaveTeam(r.Context(), contacts.TeamInput{ID: id, NameES: name, NameEN: name}); err != nil {
		return err
	}
	if err := s.Directory.ChangeMembers(r.Context(), id, members, nil, true); err != nil {
		return err
	}
	return s.writeGroup(w, r, http.StatusCreated, id)
}

// ReplaceGroup handles PUT /scim/v2/Groups/{id}: the name and the members become the body's.
func ReplaceGroup(s *Service, w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	g, err := groupSchema.canonical(body)
	if err != nil {
		return err
	}
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	t, err := s.team(idx, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.saveGroup(w, r, idx, t, g)
}

// PatchGroup handles PATCH /scim/v2/Groups/{id}: members added and removed (Okta, Entra
// in both its PATCH dialects), displayName replaced.
func PatchGroup(s *Service, w http.ResponseWriter, r *http.Request) error {
	ops, err := readPatch(w, r)
	if err != nil {
		return err
	}
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	t, err := s.team(idx, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Removing a member the directory does not know has no target.
	for _, o := range ops {
		if o.op != "remove" || o.path == "" {
			continue
		}
		tg, err := parseTarget(groupSchema, o.path)
		if err != nil {
			return err
		}
		if v, ok := eqValue(tg.filter, "value"); ok && tg.path.attr.name == "members" {
			if _, known := idx.byID[v]; !known {
				return errorf(http.StatusBadRequest, "noTarget", "members[value eq %q] names no User.", clipS(v))
			}
		}
	}
	g := s.groupMap(t, idx, s.base(r), false)
	delete(g, "meta")
	for _, m := range g["members"].([]any) { // compare members by value only
		mm := m.(map[string]any)
		for k := range mm {
			if k != "value" {
				delete(mm, k)
			}
		}
	}
	if err := applyPatch(groupSchema, g, ops, []string{"id", "meta"}, []string{"displayName"}); err != nil {
		return err
	}
	return s.saveGroup(w, r, idx, t, g)
}

func (s *Service) saveGroup(w http.ResponseWriter, r *http.Request, idx *dirIndex, t contacts.Team, g map[string]any) error {
	name, members, err := groupFields(g, idx)
	if err != nil {
		return err
	}
	if name != t.NameES && name != t.NameEN {
		for _, o := range idx.snap.Teams {
			if o.ID != t.ID && o.Active && (strings.EqualFold(o.NameES, name) || strings.EqualFold(o.NameEN, name)) {
				return errorf(http.StatusConflict, "uniqueness", "A Group with the displayName %q exists already (id %q).", clipS(name), o.ID)
			}
		}
		if _, err := s.Directory.SaveTeam(r.Context(), contacts.TeamInput{ID: t.ID, NameES: name, NameEN: name}); err != nil {
			return err
		}
	}
	if err := s.Directory.ChangeMembers(r.Context(), t.ID, members, nil, true); err != nil {
		return err
	}
	return s.writeGroup(w, r, http.StatusOK, t.ID)
}

// DeleteGroup handles DELETE /scim/v2/Groups/{id}: the team is retired, not deleted.
func DeleteGroup(s *Service, w http.ResponseWriter, r *http.Request) error {
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	t, err := s.team(idx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.Directory.RetireTeam(r.Context(), t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// groupFields reads a Group's displayName and member ids; every member must be a User.
func groupFields(g map[string]any, idx *dirIndex) (string, []string, error) {
	name, ok := g["displayName"].(string)
	name = strings.Join(strings.Fields(name), " ")
	if !ok || name == "" || len([]rune(name)) > 100 {
		return "", nil, errorf(http.StatusBadRequest, "invalidValue", "displayName is required, at most 100 characters.")
	}
	var ids []string
	list, _ := g["members"].([]any)
	for _, m := range list {
		mm, _ := m.(map[string]any)
		id, _ := mm["value"].(string)
		if _, ok := idx.byID[id]; !ok {
			return "", nil, errorf(http.StatusBadRequest, "invalidValue", "members: no User has the id %q.", clipS(id))
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return name, ids, nil
}

func (s *Service) writeGroup(w http.ResponseWriter, r *http.Request, status int, id string) error {
	idx, err := s.index(r.Context())
	if err != nil {
		return err
	}
	g := s.groupMap(idx.teams[id], idx, s.base(r), false)
	w.Header().Set("Location", s.base(r)+"/Groups/"+id)
	writeJSON(w, status, g)
	return nil
}

// ServiceProviderConfig handles GET /scim/v2/ServiceProviderConfig.
func ServiceProviderConfig(s *Service, w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/optimum-bcp/optimum/blob/main/docs/scim.md",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "Bearer token", "primary": true,
			"description": "A token of role scim (optimum token create -role scim) or OPTIMUM_SCIM_TOKEN, sent as Authorization: Bearer."}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.base(r) + "/ServiceProviderConfig"},
	})
	return nil
}

// ResourceTypes handles GET /scim/v2/ResourceTypes.
func ResourceTypes(s *Service, w http.ResponseWriter, r *http.Request) error {
	base := s.base(r)
	user := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "User", "name": "User",
		"endpoint": "/Users", "description": "People of the directory", "schema": UserSchema,
		"schemaExtensions": []any{map[string]any{"schema": EnterpriseSchema, "required": false}, map[string]any{"schema": OptimumSchema, "required": false}},
		"meta":             map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"},
	}
	group := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, "id": "Group", "name": "Group",
		"endpoint": "/Groups", "description": "Teams of the directory", "schema": GroupSchema,
		"meta": map[string]any{"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"},
	}
	writeList(w, listQuery{startIndex: 1, count: maxCount}, []map[string]any{user, group})
	return nil
}

// Schemas handles GET /scim/v2/Schemas: the attributes this provider knows.
func Schemas(s *Service, w http.ResponseWriter, r *http.Request) error {
	base := s.base(r)
	describe := func(id, name string, attrs []attr) map[string]any {
		var list []any
		for _, a := range attrs {
			if a.name == "schemas" || a.name == "meta" || a.name == "id" {
				continue
			}
			d := map[string]any{"name": a.name, "type": "string", "multiValued": a.multi, "required": a.name == "userName" || a.name == "displayName" && id == GroupSchema,
				"caseExact": a.name == "externalId", "mutability": "readWrite", "returned": "default", "uniqueness": "none"}
			switch a.name {
			case "active":
				d["type"] = "boolean"
			case "userName":
				d["uniqueness"] = "server"
			case "groups":
				d["mutability"] = "readOnly"
			case "password":
				d["mutability"], d["returned"] = "writeOnly", "never"
			}
			if len(a.subs) > 0 {
				d["type"] = "complex"
				var subs []any
				for _, sname := range a.subs {
					st := "string"
					if sname == "primary" {
						st = "boolean"
					} else if sname == "$ref" {
						st = "reference"
					}
					subs = append(subs, map[string]any{"name": sname, "type": st, "multiValued": false, "required": false, "mutability": "readWrite", "returned": "default"})
				}
				d["subAttributes"] = subs
			}
			list = append(list, d)
		}
		return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Schema"}, "id": id, "name": name, "attributes": list,
			"meta": map[string]any{"resourceType": "Schema", "location": base + "/Schemas/" + id}}
	}
	writeList(w, listQuery{startIndex: 1, count: maxCount}, []map[string]any{
		describe(UserSchema, "User", userSchema.core),
		describe(EnterpriseSchema, "EnterpriseUser", userSchema.extensions[EnterpriseSchema]),
		describe(OptimumSchema, "OptimumUser", userSchema.extensions[OptimumSchema]),
		describe(GroupSchema, "Group", groupSchema.core),
	})
	return nil
}
