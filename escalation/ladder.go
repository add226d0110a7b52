package escalation

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// Ladder is who is paged, in which order, until somebody owns an incident. Each step
// pages its targets at once and nags each of them on its reminder schedule; when the
// step's wait passes without the step being owned, the next step is paged. After the
// last step the ladder starts again from the top Repeat times, then continues with the
// ladder named by Then, if any.
type Ladder struct {
	ID   string `yaml:"id" json:"id"`
	Name Names  `yaml:"name" json:"name"`
	// Priorities and Services choose the ladder for an incident: the ladder naming one of
	// the incident's services and its priority wins over one naming only the priority.
	// Empty lists match anything.
	Priorities []string `yaml:"priorities" json:"priorities"`
	Services   []string `yaml:"services" json:"services"`
	Steps      []Step   `yaml:"steps" json:"steps"`
	// Repeat is how many more times the ladder runs from the top after its last step.
	Repeat int `yaml:"repeat" json:"repeat"`
	// Then names the ladder that continues when this one is exhausted ("" for none).
	Then string `yaml:"then" json:"then"`
}

// Names holds a display name per language.
type Names struct {
	ES string `yaml:"es" json:"es"`
	EN string `yaml:"en" json:"en"`
}

// Step is one level of a ladder.
type Step struct {
	Targets []Target `yaml:"targets" json:"targets"`
	// Reminders nag each paged person until they acknowledge: each entry is sent After
	// the page on its Channels (the first usually after 0s: the page itself).
	Reminders []Reminder `yaml:"reminders" json:"reminders"`
	// Wait is how long the step has to be owned before the next step is paged.
	Wait Duration `yaml:"wait" json:"wait"`
	// Owned is what counts as owning the step: "any" (one acknowledgement), "all" (every
	// person the step paged) or a number N of acknowledgements.
	Owned string `yaml:"owned" json:"owned"`
}

// Target is who a step pages: a team (optionally only some roles: lead, member,
// backup), the team owning a service, a person (id or email), or the managers of the
// people paged so far.
type Target struct {
	Team           string   `yaml:"team,omitempty" json:"team,omitempty"`
	Roles          []string `yaml:"roles,omitempty" json:"roles,omitempty"`
	Service        string   `yaml:"service,omitempty" json:"service,omitempty"`
	Person         string   `yaml:"person,omitempty" json:"person,omitempty"`
	ManagersOfPage bool     `yaml:"managers_of_paged,omitempty" json:"managers_of_paged,omitempty"`
}

// Reminder is one nag: After the page, on Channels (webpush, sms, voice, email).
type Reminder struct {
	After    Duration `yaml:"after" json:"after"`
	Channels []string `yaml:"channels" json:"channels"`
}

// Duration is a time.Duration written as "5m" in YAML and JSON.
type Duration time.Duration

// MarshalText writes the duration as "5m0s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses a Go duration such as "90s" or "5m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 90s or 5m", string(b))
	}
	*d = Duration(v)
	return nil
}

// Limits of a ladder, so a typo (5h for 5m, 1000 repeats) is refused, not obeyed.
const (
	MaxSteps     = 20
	MaxRepeat    = 10
	MaxWait      = 24 * time.Hour
	MaxReminders = 10
)

// Channels a reminder may use.
var Channels = []string{"webpush", "sms", "voice", "email"}

// Quorum returns how many acknowledgements own a step that paged n people.
func (s Step) Quorum(n int) int {
	switch s.Owned {
	case "", "any":
		return 1
	case "all":
		return n
	}
	q, _ := strconv.Atoi(s.Owned)
	return q
}

// TeamSizes tells how many active people a team has in the given roles (all roles when
// roles is empty), -1 when unknown (at load time, before the directory is open); ok is
// false for an unknown team. Validation uses it to refuse a quorum larger than the team.
type TeamSizes func(team string, roles []string) (n int, ok bool)

// ValidateLadders returns every problem of a set of ladders at once, as field errors
// ("ladders[p1].steps[2].wait: ..."), or nil. known tells which teams exist and how big
// they are; nil skips team checks.
func ValidateLadders(ls []Ladder, known TeamSizes) []optimum.FieldError {
	var f []optimum.FieldError
	add := func(field, format string, args ...any) {
		f = append(f, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	byID := map[string]Ladder{}
	for i, l := range ls {
		key := fmt.Sprintf("ladders[%d]", i)
		if l.ID != "" {
			key = "ladders[" + l.ID + "]"
		}
		switch {
		case !contacts.ValidID(l.ID):
			add(key+".id", "%q must be lower-case letters, digits, '-' or '_' (1-64)", l.ID)
		case byID[l.ID].ID != "":
			add(key+".id", "%q is used by two ladders", l.ID)
		}
		byID[l.ID] = l
		f = append(f, l.validate(key, known)...)
	}
	for _, l := range ls {
		if l.Then == "" {
			continue
		}
		if _, ok := byID[l.Then]; !ok {
			add("ladders["+l.ID+"].then", "%q is not a ladder", l.Then)
			continue
		}
		// Follow the chain: a ladder that leads back to itself would escalate forever.
		seen, path := map[string]bool{l.ID: true}, []string{l.ID}
		for next := l.Then; next != ""; next = byID[next].Then {
			path = append(path, next)
			if seen[next] {
				add("ladders["+l.ID+"].then", "makes a cycle: %s", strings.Join(path, " → "))
				break
			}
			seen[next] = true
		}
	}
	sort.SliceStable(f, func(i, j int) bool { return f[i].Field < f[j].Field })
	return f
}

func (l Ladder) validate(key string, known TeamSizes) []optimum.FieldError {
	var f []optimum.FieldError
	add := func(field, format string, args ...any) {
		f = append(f, optimum.FieldError{Field: key + field, Message: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(l.Name.ES) == "" || strings.TrimSpace(l.Name.EN) == "" {
		add(".name", "needs both es and en")
	}
	for _, n := range []string{l.Name.ES, l.Name.EN} {
		if c := utf8.RuneCountInString(n); c > 100 {
			add(".name", "is too long: %d characters, at most %d", c, 100)
		}
	}
	if len(l.Services) > 50 {
		add(".services", "has %d items, at most %d", len(l.Services), 50)
	}
	for _, p := range l.Priorities {
		if len(p) != 2 || p[0] != 'P' || p[1] < '1' || p[1] > '5' {
			add(".priorities", "%q is not a priority (P1-P5)", p)
		}
	}
	if l.Repeat < 0 || l.Repeat > MaxRepeat {
		add(".repeat", "must be from 0 to %d, got %d", MaxRepeat, l.Repeat)
	}
	if len(l.Steps) == 0 || len(l.Steps) > MaxSteps {
		add(".steps", "needs 1 to %d steps, got %d", MaxSteps, len(l.Steps))
	}
	if l.Then == l.ID && l.ID != "" {
		add(".then", "makes a cycle: %s → %s", l.ID, l.ID)
	}
	for i, s := range l.Steps {
		sk := fmt.Sprintf(".steps[%d]", i)
		if len(s.Targets) == 0 {
			add(sk+".targets", "needs at least one target")
		}
		if s.Wait < 0 || time.Duration(s.Wait) > MaxWait {
			add(sk+".wait", "must be from 0s to %v, got %v", MaxWait, time.Duration(s.Wait))
		} else if s.Wait == 0 && (i < len(l.Steps)-1 || l.Repeat > 0) {
			add(sk+".wait", "must be positive: the next step would be paged at the same moment")
		}
		if len(s.Reminders) == 0 || len(s.Reminders) > MaxReminders {
			add(sk+".reminders", "needs 1 to %d reminders (the first is the page itself)", MaxReminders)
		}
		var prev time.Duration = -1
		for j, r := range s.Reminders {
			rk := fmt.Sprintf("%s.reminders[%d]", sk, j)
			switch d := time.Duration(r.After); {
			case d < 0 || d > MaxWait:
				add(rk+".after", "must be from 0s to %v, got %v", MaxWait, d)
			case d <= prev:
				add(rk+".after", "must come after the previous reminder (%v), got %v", prev, d)
			}
			prev = time.Duration(r.After)
			if len(r.Channels) == 0 {
				add(rk+".channels", "needs at least one channel (webpush, sms, voice, email)")
			}
			for _, ch := range r.Channels {
				if !slices.Contains(Channels, ch) {
					add(rk+".channels", "%q is not a channel (webpush, sms, voice, email)", ch)
				}
			}
		}
		size, sized := 0, true
		for j, t := range s.Targets {
			tk := fmt.Sprintf("%s.targets[%d]", sk, j)
			kinds := 0
			for _, set := range []bool{t.Team != "", t.Service != "", t.Person != "", t.ManagersOfPage} {
				if set {
					kinds++
				}
			}
			if kinds != 1 {
				add(tk, "names exactly one of team, service, person or managers_of_paged")
			}
			if t.ManagersOfPage && i == 0 {
				add(tk, "managers_of_paged needs an earlier step: nobody has been paged yet")
			}
			if len(t.Roles) > 0 && t.Team == "" {
				add(tk+".roles", "roles need a team")
			}
			for _, r := range t.Roles {
				if r != "lead" && r != "member" && r != "backup" {
					add(tk+".roles", "%q is not lead, member or backup", r)
				}
			}
			switch {
			case t.Team != "" && known != nil:
				n, ok := known(t.Team, t.Roles)
				if !ok {
					add(tk+".team", "%q is not a team", t.Team)
				}
				if n < 0 {
					sized = false
				}
				size += n
			case t.Person != "":
				size++
			case t.Team != "":
				sized = false // size unknown at load time: checked when saved
			default:
				sized = false // managers: unknown until run time
			}
		}
		switch s.Owned {
		case "", "any", "all":
		default:
			q, err := strconv.Atoi(s.Owned)
			switch {
			case err != nil || q < 1:
				add(sk+".owned", "must be any, all or a number of acknowledgements from 1, got %q", s.Owned)
			case known != nil && sized && q > size:
				add(sk+".owned", "asks for %d acknowledgements but the step pages only %d people", q, size)
			}
		}
	}
	return f
}

// Choose returns the ladder for an incident: the one named (an override at declaration),
// else the most specific that fits, in this order: naming one of its services and its
// priority; naming one of its services and no priority; naming its priority and no
// service; naming neither (a catch-all). Among equals, the first wins. ok is false when
// none fits.
func Choose(ls []Ladder, named, priority string, services []string) (Ladder, bool) {
	if named != "" {
		for _, l := range ls {
			if l.ID == named {
				return l, true
			}
		}
		return Ladder{}, false
	}
	best, rank := Ladder{}, 0
	for _, l := range ls {
		r := 0
		service := slices.ContainsFunc(services, func(s string) bool { return slices.Contains(l.Services, s) })
		prio := slices.Contains(l.Priorities, priority)
		switch {
		case len(l.Services) > 0 && !service, len(l.Priorities) > 0 && !prio:
			continue // names something else
		case service && prio:
			r = 4
		case service:
			r = 3
		case prio:
			r = 2
		default:
			r = 1
		}
		if r > rank {
			best, rank = l, r
		}
	}
	return best, rank > 0
}
