// Package drill rehearses a crisis with the real machinery. A Plan names a scenario, an
// audience, a ladder, channels, success criteria and a window; a Run declares an incident
// marked drill (so every message says SIMULACRO / DRILL first, and the incident stays out
// of the real indicators), lets acknowledgements and the ladder work as for real, and
// ends itself when the window closes, stopping all nagging. The Report tells, from the
// deliveries, acknowledgements and events, who was reached, on which channel, who
// confirmed and how fast, and whether each success criterion was met.
package drill

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/escalation"
	"github.com/optimum-bcp/optimum/incident"
	"github.com/robfig/cron/v3"
)

// Duration is a time span written "15m" in JSON and YAML.
type Duration = escalation.Duration

// Scenario is what the drill pretends happened, in Spanish (required) and English. The
// texts may use {plan}, {date} and {time}, replaced when a run starts (in the configured
// time zone).
type Scenario struct {
	Title         string `json:"title" yaml:"title"`
	Description   string `json:"description" yaml:"description"`
	TitleEN       string `json:"title_en,omitempty" yaml:"title_en"`
	DescriptionEN string `json:"description_en,omitempty" yaml:"description_en"`
}

// Criterion is one success criterion: Percent of the people in Scope acknowledge within
// Within of the start. Scope is "all", "team:<id>" (a team of the audience) or
// "role:<lead|member|backup>".
type Criterion struct {
	Scope   string   `json:"scope" yaml:"scope"`
	Percent int      `json:"percent" yaml:"percent"`
	Within  Duration `json:"within" yaml:"within"`
}

// Plan is a drill as the continuity manager plans it.
type Plan struct {
	ID       string   `json:"id" yaml:"id"`
	Name     string   `json:"name" yaml:"name"`
	Scenario Scenario `json:"scenario" yaml:"scenario"`
	// Teams is the audience.
	Teams []string `json:"teams" yaml:"teams"`
	// Ladder is the escalation ladder the drill's incident climbs ("" for the one that
	// fits its priority).
	Ladder string `json:"ladder,omitempty" yaml:"ladder"`
	// Channels limits the channels the drill uses (webpush, sms, voice, email); empty for all.
	Channels []string       `json:"channels" yaml:"channels"`
	Impact   incident.Level `json:"impact" yaml:"impact"`
	Urgency  incident.Level `json:"urgency" yaml:"urgency"`
	Criteria []Criterion    `json:"criteria" yaml:"criteria"`
	// Window is how long a run lasts; then it ends itself and nagging stops.
	Window Duration `json:"window" yaml:"window"`
	// Schedule is a cron spec with seconds ("0 0 10 * * MON") in the configured time
	// zone; "" runs only on demand.
	Schedule string `json:"schedule" yaml:"schedule"`
	// Randomize delays each scheduled firing by a random time below it, the same on every
	// node: "0 0 9 * * MON" with 104h announces the week but not the moment (Monday 9:00
	// to Friday 17:00). Keep it shorter than the time between two cron times.
	Randomize Duration `json:"randomize,omitempty" yaml:"randomize"`
	// Announced says whether the audience was told of the drill beforehand.
	Announced bool `json:"announced" yaml:"announced"`
	// Source is where the plan was last written: "config" (the configuration file) or
	// "api" (the app). A plan edited in the app is no longer overwritten by the file.
	Source    string     `json:"source" yaml:"-"`
	NextRunAt *time.Time `json:"next_run_at" yaml:"-"`
	CreatedAt time.Time  `json:"created_at" yaml:"-"`
	UpdatedAt time.Time  `json:"updated_at" yaml:"-"`
}

// Limits of a plan.
const (
	MinWindow   = time.Minute
	MaxWindow   = 7 * 24 * time.Hour
	MaxCriteria = 20
	MaxTeams    = 50
)

// Sources of a plan.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Scope kinds of a criterion.
const (
	ScopeAll  = "all"
	scopeTeam = "team:"
	scopeRole = "role:"
)

var (
	idRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	roles   = []string{"lead", "member", "backup"}
	parser  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	slugger = regexp.MustCompile(`[^a-z0-9]+`)
)

// ParseSchedule parses a cron spec with a seconds field ("0 30 9 * * MON-FRI"). The
// library panics on some malformed specs, so the panic is an error here.
func ParseSchedule(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return parser.Parse(spec)
}

// DefaultMinInterval is the shortest time allowed between two scheduled firings of a
// plan, unless configured (drills.min_interval): a drill pages whole teams, and
// "@every 1s" would page them every second.
const DefaultMinInterval = time.Hour

// ShortestInterval returns the shortest time between two consecutive firings of
// schedule among its next 1,000 firings after from (or the firings of the next five
// years, whichever ends first); 0 when it fires at most once.
func ShortestInterval(schedule cron.Schedule, from time.Time) time.Duration {
	var shortest time.Duration
	prev := schedule.Next(from)
	for range 1000 {
		if prev.IsZero() {
			break
		}
		next := schedule.Next(prev)
		if next.IsZero() || next.Sub(from) > 5*366*24*time.Hour {
			break
		}
		if gap := next.Sub(prev); shortest == 0 || gap < shortest {
			shortest = gap
		}
		prev = next
	}
	return shortest
}

// Normalize trims and lower-cases what is compared, fills the defaults and derives the
// id from the name when it is missing.
func (p *Plan) Normalize() {
	p.ID = strings.ToLower(strings.TrimSpace(p.ID))
	p.Name = strings.TrimSpace(p.Name)
	if p.ID == "" {
		p.ID = strings.Trim(slugger.ReplaceAllString(strings.ToLower(p.Name), "-"), "-")
		if len(p.ID) > 64 {
			p.ID = strings.Trim(p.ID[:64], "-")
		}
	}
	p.Scenario.Title = strings.TrimSpace(p.Scenario.Title)
	p.Scenario.Description = strings.TrimSpace(p.Scenario.Description)
	p.Scenario.TitleEN = strings.TrimSpace(p.Scenario.TitleEN)
	p.Scenario.DescriptionEN = strings.TrimSpace(p.Scenario.DescriptionEN)
	p.Teams = clean(p.Teams)
	p.Channels = clean(p.Channels)
	p.Ladder = strings.ToLower(strings.TrimSpace(p.Ladder))
	p.Schedule = strings.TrimSpace(p.Schedule)
	p.Impact = incident.Level(strings.ToLower(strings.TrimSpace(string(p.Impact))))
	p.Urgency = incident.Level(strings.ToLower(strings.TrimSpace(string(p.Urgency))))
	if p.Impact == "" {
		p.Impact = incident.Critical
	}
	if p.Urgency == "" {
		p.Urgency = incident.Critical
	}
	for i := range p.Criteria {
		p.Criteria[i].Scope = strings.ToLower(strings.TrimSpace(p.Criteria[i].Scope))
		if p.Criteria[i].Scope == "" {
			p.Criteria[i].Scope = ScopeAll
		}
	}
	if p.Criteria == nil {
		p.Criteria = []Criterion{}
	}
}

func clean(in []string) []string {
	out := []string{}
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Validate reports every problem of a normalized plan at once, as EINVALID with fields.
// A criterion that can never be met (over 100%, no time, beyond the window, a team not
// in the audience) is refused, so a drill cannot fail by construction.
func (p Plan) Validate() error {
	var f []optimum.FieldError
	add := func(field, format string, args ...any) {
		f = append(f, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !idRE.MatchString(p.ID) {
		add("id", "must be 1 to 64 lower-case letters, digits, - or _")
	}
	if p.Name == "" {
		add("name", "is required")
	} else if utf8.RuneCountInString(p.Name) > 200 {
		add("name", "is longer than %d characters", 200)
	}
	if p.Scenario.Title == "" {
		add("scenario.title", "is required")
	}
	for field, v := range map[string]string{"scenario.title": p.Scenario.Title, "scenario.title_en": p.Scenario.TitleEN} {
		if utf8.RuneCountInString(v) > incident.MaxTitle {
			add(field, "is longer than %d characters", incident.MaxTitle)
		}
	}
	for field, v := range map[string]string{"scenario.description": p.Scenario.Description, "scenario.description_en": p.Scenario.DescriptionEN} {
		if utf8.RuneCountInString(v) > incident.MaxDescription/2 {
			add(field, "is longer than %d characters", incident.MaxDescription/2)
		}
	}
	if len(p.Teams) == 0 {
		add("teams", "the audience is empty: name at least one team")
	} else if len(p.Teams) > MaxTeams {
		add("teams", "has more than %d teams", MaxTeams)
	}
	for i, c := range p.Channels {
		if !slices.Contains(escalation.Channels, c) {
			add(fmt.Sprintf("channels[%d]", i), "%q is not a channel (webpush, sms, voice, email)", c)
		}
	}
	if !p.Impact.Valid() {
		add("impact", "must be critical, high, medium or low")
	}
	if !p.Urgency.Valid() {
		add("urgency", "must be critical, high, medium or low")
	}
	w := time.Duration(p.Window)
	if w < MinWindow || w > MaxWindow {
		add("window", "must be between 1m and 168h")
	}
	if len(p.Criteria) > MaxCriteria {
		add("criteria", "has more than %d criteria", MaxCriteria)
	}
	for i, c := range p.Criteria {
		key := "criteria[" + strconv.Itoa(i) + "]"
		switch {
		case c.Scope == ScopeAll:
		case strings.HasPrefix(c.Scope, scopeTeam):
			if t := strings.TrimPrefix(c.Scope, scopeTeam); !slices.Contains(p.Teams, t) {
				add(key+".scope", "team %q is not in the drill's audience", t)
			}
		case strings.HasPrefix(c.Scope, scopeRole):
			if r := strings.TrimPrefix(c.Scope, scopeRole); !slices.Contains(roles, r) {
				add(key+".scope", "role %q is not lead, member or backup", r)
			}
		default:
			add(key+".scope", "must be all, team:<id> or role:<lead|member|backup>")
		}
		if c.Percent < 1 || c.Percent > 100 {
			add(key+".percent", "must be from 1 to 100 (a share of people can never exceed 100%%)")
		}
		if c.Within <= 0 {
			add(key+".within", "must be more than 0: nobody acknowledges in no time")
		} else if w >= MinWindow && time.Duration(c.Within) > w {
			add(key+".within", "is longer than the window (%s): it could never be judged", w)
		}
	}
	if r := time.Duration(p.Randomize); r < 0 || r > MaxWindow {
		add("randomize", "must be between 0s and 168h")
	} else if r > 0 && p.Schedule == "" {
		add("randomize", "needs a schedule")
	}
	if p.Schedule != "" {
		if _, err := ParseSchedule(p.Schedule); err != nil {
			add("schedule", "%q is not a cron spec with seconds such as \"0 0 10 * * MON\"", p.Schedule)
		}
	}
	return optimum.Invalid("The drill plan has errors.", f)
}
