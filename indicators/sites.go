package indicators

import (
	"cmp"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// Sites and scope (docs/sites.md, "Indicators by site"; docs/security.md, "Roles").
//
// An incident keeps its sites as declared: a site id, a site's name, or a city meaning
// every site of it. To count by site, each is resolved against the directory's sites
// (Query.KnownSites) as the audience was: an id or a name is that site, a city all its
// sites; what matches none (a site typed before it existed) stays a row of its own,
// under the words declared.

// SiteRow holds the figures of the incidents declared to one site: how many, how their
// recipients acknowledged, the time to the incident's first acknowledgement and to its
// resolution, against the incident's SLA deadlines.
type SiteRow struct {
	Site string `json:"site"` // the site's id (or the words declared, when no site matched)
	Name string `json:"name"` // the site's name, "" when unknown
	City string `json:"city"`
	// Incidents were declared to the site, directly or through its city.
	Incidents int `json:"incidents"`
	// Recipients and Acknowledged count the people those incidents were for (whoever
	// they were reached through: the recipient list does not record why each was in it).
	Recipients    int       `json:"recipients"`
	Acknowledged  int       `json:"acknowledged"`
	AckRate       *float64  `json:"ack_rate"`
	TimeToAck     Durations `json:"time_to_ack"`
	AckSLA        SLAShare  `json:"ack_sla"`
	TimeToResolve Durations `json:"time_to_resolve"`
	ResolveSLA    SLAShare  `json:"resolve_sla"`
}

// siteIndex resolves declared site words into site ids.
type siteIndex struct {
	byKey  map[string]contacts.Site   // by id and by slug of the name
	byCity map[string][]contacts.Site // by slug of the city
	byID   map[string]contacts.Site
}

func newSiteIndex(sites []contacts.Site) siteIndex {
	x := siteIndex{byKey: map[string]contacts.Site{}, byCity: map[string][]contacts.Site{}, byID: map[string]contacts.Site{}}
	for _, st := range sites {
		x.byKey[st.ID] = st
		x.byID[st.ID] = st
	}
	for _, st := range sites {
		if k := contacts.Slug(st.Name); k != "" {
			if _, taken := x.byKey[k]; !taken {
				x.byKey[k] = st
			}
		}
		if k := contacts.Slug(st.City); k != "" {
			x.byCity[k] = append(x.byCity[k], st)
		}
	}
	return x
}

// resolve turns one declared word into site ids; known is false when no site matched,
// and the id is then the words' slug.
func (x siteIndex) resolve(declared string) (ids []string, known bool) {
	k := contacts.Slug(declared)
	if st, ok := x.byKey[k]; ok {
		return []string{st.ID}, true
	}
	if list := x.byCity[k]; len(list) > 0 {
		for _, st := range list {
			ids = append(ids, st.ID)
		}
		return ids, true
	}
	return []string{k}, false
}

// sitesOf is the distinct site ids an incident was declared to, in declared order.
func (x siteIndex) sitesOf(inc Incident) []string {
	var out []string
	for _, d := range inc.Sites {
		ids, _ := x.resolve(d)
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

// inScope reports whether an incident concerns the scope: declared to one of its teams,
// or to one of its sites (directly or through the site's city). A nil scope keeps all.
func (x siteIndex) inScope(inc Incident, sc *optimum.Scope) bool {
	if !sc.Limits() {
		return true
	}
	for _, t := range inc.Teams {
		if slices.Contains(sc.Teams, t) {
			return true
		}
	}
	for _, s := range x.sitesOf(inc) {
		if slices.Contains(sc.Sites, s) {
			return true
		}
	}
	return false
}

// limits is the scope when it limits anything, else nil.
func limits(sc *optimum.Scope) *optimum.Scope {
	if !sc.Limits() {
		return nil
	}
	return sc
}

func (s *Service) bySite(incs []Incident, x siteIndex, sc *optimum.Scope, now time.Time) []SiteRow {
	type acc struct {
		row      SiteRow
		tta, ttr []float64
	}
	rows := map[string]*acc{}
	for _, inc := range incs {
		for _, id := range x.sitesOf(inc) {
			if sc.Limits() && !slices.Contains(sc.Sites, id) {
				continue
			}
			a := rows[id]
			if a == nil {
				st := x.byID[id]
				a = &acc{row: SiteRow{Site: id, Name: st.Name, City: st.City}}
				rows[id] = a
			}
			a.row.Incidents++
			for _, r := range inc.Recipients {
				a.row.Recipients++
				if r.AcknowledgedAt != nil {
					a.row.Acknowledged++
				}
			}
			if inc.AcknowledgedAt != nil {
				a.tta = append(a.tta, seconds(inc.AcknowledgedAt.Sub(inc.CreatedAt)))
			}
			if inc.ResolvedAt != nil {
				a.ttr = append(a.ttr, seconds(inc.ResolvedAt.Sub(inc.CreatedAt)))
			}
			a.row.AckSLA.count(inc.AcknowledgedAt, inc.AckBy, now)
			a.row.ResolveSLA.count(inc.ResolvedAt, inc.ResolveBy, now)
		}
	}
	out := make([]SiteRow, 0, len(rows))
	for _, a := range rows {
		a.row.AckRate = percent(a.row.Acknowledged, a.row.Recipients)
		a.row.TimeToAck, a.row.TimeToResolve = durations(a.tta), durations(a.ttr)
		a.row.AckSLA.finish()
		a.row.ResolveSLA.finish()
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(a, b SiteRow) int { return cmp.Compare(a.Site, b.Site) })
	return out
}
