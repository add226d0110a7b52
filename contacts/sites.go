package contacts

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
)

// Event types of sites.
const (
	EventSiteCreated = "site.created"
	EventSiteUpdated = "site.updated"
)

// Site is a building or campus people work at ("Torre Norte" in Ciudad de México). A
// crisis is usually somewhere: an alert can go to everyone at a site, or at every site of
// a city.
type Site struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	City     string `json:"city"`
	TimeZone string `json:"time_zone"`
	Active   bool   `json:"active"`
	// People is how many active people have the site (primary or not).
	People int `json:"people"`
}

// SiteInput is a site as typed in a form or a directory file.
type SiteInput struct {
	ID       string `json:"id" yaml:"id"`
	Name     string `json:"name" yaml:"name"`
	City     string `json:"city" yaml:"city"`
	TimeZone string `json:"time_zone" yaml:"time_zone"`
	// Active, when given, takes the site in or out of use: an inactive site is not
	// offered in forms; its people keep it. Absent keeps an existing site as it is and
	// makes a new one active.
	Active *bool `json:"active,omitempty" yaml:"active,omitempty"`
}

// maxSites is how many sites a person or a team may have.
const maxSites = 20

func (in *SiteInput) normalize() {
	in.ID = strings.ToLower(strings.TrimSpace(in.ID))
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.City = strings.Join(strings.Fields(in.City), " ")
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	if in.ID == "" {
		in.ID = Slug(in.Name)
	}
}

func (in SiteInput) validate() []optimum.FieldError {
	var f []optimum.FieldError
	add := func(field, format string, args ...any) {
		f = append(f, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !ValidID(in.ID) {
		add("id", "must be 1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	if n := utf8.RuneCountInString(in.Name); !utf8.ValidString(in.Name) || n == 0 || n > 100 {
		add("name", "is required, at most 100 characters")
	}
	if n := utf8.RuneCountInString(in.City); !utf8.ValidString(in.City) || n == 0 || n > 100 {
		add("city", "is required, at most 100 characters")
	}
	if _, err := time.LoadLocation(in.TimeZone); in.TimeZone == "" || err != nil || strings.HasPrefix(in.TimeZone, "/") || strings.EqualFold(in.TimeZone, "local") {
		add("time_zone", "%q is not an IANA time zone such as America/Mexico_City", clip(in.TimeZone))
	}
	return f
}

// Sites lists the sites with their active people counts.
func (s *Directory) Sites(ctx context.Context) ([]Site, error) {
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Sites, nil
}

// SaveSite creates the site, or changes its name, city or time zone when it exists.
func (s *Directory) SaveSite(ctx context.Context, in SiteInput) (Site, error) {
	actor := actorOf(ctx)
	in.normalize()
	if err := optimum.Invalid("The site has errors.", in.validate()); err != nil {
		return Site{}, err
	}
	if sc := scopeOf(ctx); sc != nil && !slices.Contains(sc.Sites, in.ID) {
		return Site{}, optimum.Errorf(optimum.EFORBIDDEN, "You manage only the sites %s.", listOrNone(sc.Sites))
	}
	var out Site
	err := s.store.Tx(ctx, func(tx Tx) error {
		snap, err := tx.Snapshot(ctx)
		if err != nil {
			return err
		}
		var old *Site
		for i := range snap.Sites {
			if snap.Sites[i].ID == in.ID {
				old = &snap.Sites[i]
			}
		}
		out = Site{ID: in.ID, Name: in.Name, City: in.City, TimeZone: in.TimeZone, Active: true}
		if old != nil {
			out.People, out.Active = old.People, old.Active
		}
		if in.Active != nil {
			out.Active = *in.Active
		}
		if old != nil && old.Name == out.Name && old.City == out.City && old.TimeZone == out.TimeZone && old.Active == out.Active {
			return nil
		}
		if err := tx.SaveSite(ctx, out, old == nil); err != nil {
			return err
		}
		typ := EventSiteUpdated
		if old == nil {
			typ = EventSiteCreated
		}
		return appendEvent(ctx, tx, typ, s.now().UTC().Truncate(time.Millisecond), actor,
			map[string]any{"id": out.ID, "name": out.Name, "city": out.City, "time_zone": out.TimeZone, "active": out.Active})
	})
	return out, err
}

// putSite indexes a site by its id, the slug of its name and the slug of its city.
func (x *index) putSite(st Site) {
	x.sites[st.ID] = st
	if k := Slug(st.Name); k != "" {
		if _, taken := x.sites[k]; !taken {
			x.sites[k] = st
		}
	}
	if k := Slug(st.City); k != "" && !slices.ContainsFunc(x.cities[k], func(o Site) bool { return o.ID == st.ID }) {
		x.cities[k] = append(x.cities[k], st)
	}
}

// site finds one site by id or name, ignoring case and accents.
func (x *index) site(ref string) (Site, bool) {
	if st, ok := x.sites[ref]; ok {
		return st, true
	}
	st, ok := x.sites[Slug(ref)]
	return st, ok
}

// sitesOf resolves an audience's site reference: a site (by id or name) is itself; a
// city ("CDMX", "Madrid") is every site of that city. A site's name wins over a city of
// the same name.
func (x *index) sitesOf(ref string) []string {
	if st, ok := x.site(ref); ok {
		return []string{st.ID}
	}
	var ids []string
	for _, st := range x.cities[Slug(ref)] {
		ids = append(ids, st.ID)
	}
	return ids
}

// personSites resolves a person's sites (ids or names, the first being the primary) to
// ids, with a problem for each unknown or repeated one.
func (x *index) personSites(refs []string, field string) ([]string, []optimum.FieldError) {
	var (
		ids []string
		f   []optimum.FieldError
	)
	if len(refs) > maxSites {
		return nil, []optimum.FieldError{{Field: field, Message: fmt.Sprintf("has %d sites, at most %d", len(refs), maxSites)}}
	}
	for i, ref := range refs {
		st, ok := x.site(ref)
		switch {
		case !ok:
			f = append(f, optimum.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("%q is not a site", clip(ref))})
		case slices.Contains(ids, st.ID):
			f = append(f, optimum.FieldError{Field: fmt.Sprintf("%s[%d]", field, i), Message: fmt.Sprintf("%q is listed twice", clip(ref))})
		default:
			ids = append(ids, st.ID)
		}
	}
	return ids, f
}

// cleanSites trims a list of site references and drops empty ones.
func cleanSites(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
