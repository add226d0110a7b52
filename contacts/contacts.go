// Package contacts is the directory the alerts go to: people with their phones, language
// and manager; teams with their members' roles; the catalogue of services and the team
// that owns each; and audience resolution, which turns "these teams, roles and people"
// into the distinct people to reach and the channels each can be reached on.
package contacts

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/optimum-bcp/optimum"
)

// Languages a person may receive messages in.
const (
	Spanish = "es"
	English = "en"
)

// Team roles of a member, from the first to be paged to the last.
const (
	RoleLead   = "lead"
	RoleMember = "member"
	RoleBackup = "backup"
)

// TeamRoles lists the valid member roles.
var TeamRoles = []string{RoleLead, RoleMember, RoleBackup}

// Person is someone in the directory.
type Person struct {
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	// Phone is the mobile number in E.164 (+525512345678), "" when unknown.
	Phone    string `json:"phone"`
	Language string `json:"language"`
	TimeZone string `json:"time_zone"`
	// ManagerID is the person's manager, for hierarchical escalation.
	ManagerID   string       `json:"manager_id"`
	Active      bool         `json:"active"`
	Teams       []string     `json:"teams"`
	Memberships []Membership `json:"memberships"`
	// Sites are the ids of the sites the person works at, the primary one first
	// (sites.go); PrimarySite repeats the first, "" when there is none.
	Sites       []string `json:"sites"`
	PrimarySite string   `json:"primary_site"`
	// Phone2, ContactEmail and ChannelOrder are kept by the person themself in "Mi
	// perfil" (profile.go): a second mobile (E.164, "" for none; one active person per
	// number, like Phone), an email to be alerted at ("" for Email), and the channels in
	// the order they want to be reached (names from ChannelNames; empty for the default).
	Phone2       string    `json:"phone2"`
	ContactEmail string    `json:"contact_email"`
	ChannelOrder []string  `json:"channel_order"`
	Channels     Channels  `json:"channels"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Membership is a person's place in a team.
type Membership struct {
	Team string `json:"team"`
	Role string `json:"role"`
}

// Channels is what is known of how a person can be reached.
type Channels struct {
	// PhoneVerifiedAt is when the person proved the phone is theirs (a code by SMS).
	PhoneVerifiedAt *time.Time `json:"phone_verified_at"`
	// Phone2VerifiedAt is when the person proved the second phone is theirs.
	Phone2VerifiedAt *time.Time `json:"phone2_verified_at"`
	// SMSOptedOutAt is when the person replied STOP; SMS must not be sent until START.
	SMSOptedOutAt *time.Time `json:"sms_opted_out_at"`
	// PushSubscriptions is how many browsers the person subscribed to web push.
	PushSubscriptions int `json:"push_subscriptions"`
	// LastReachedAt is when a message last reached the person on any channel.
	LastReachedAt *time.Time `json:"last_reached_at"`
}

// Usable returns the channels a person can be alerted on now, strongest last:
// webpush when a browser is subscribed, sms and voice when there is a phone (sms only
// while not opted out). verifiedOnly keeps only channels the person has proved. The
// second phone counts once verified, as alerts use it (escalation.Contact.Phones).
func (p Person) Usable(verifiedOnly bool) []string {
	var out []string
	if p.Channels.PushSubscriptions > 0 {
		out = append(out, "webpush")
	}
	if p.HasPhone(verifiedOnly) {
		if p.Channels.SMSOptedOutAt == nil {
			out = append(out, "sms")
		}
		out = append(out, "voice")
	}
	return out
}

// HasPhone reports whether SMS and calls can reach the person: the directory's phone
// (proved, when verifiedOnly), or a second phone they proved.
func (p Person) HasPhone(verifiedOnly bool) bool {
	first := p.Phone != "" && (!verifiedOnly || p.Channels.PhoneVerifiedAt != nil)
	second := p.Phone2 != "" && p.Channels.Phone2VerifiedAt != nil
	return first || second
}

// Team is a group an alert can go to.
type Team struct {
	ID      string `json:"id"`
	NameES  string `json:"name_es"`
	NameEN  string `json:"name_en"`
	Active  bool   `json:"active"`
	Members int    `json:"members"`
	// Sites are where the team works (ids of sites), if it is tied to some.
	Sites []string `json:"sites"`
}

// Service is something the organisation runs, owned by a team (functional escalation
// goes to the owner).
type Service struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	OwnerTeam string `json:"owner_team"`
	Active    bool   `json:"active"`
}

// PersonInput is a person as typed in a form or a row of an import file.
type PersonInput struct {
	ExternalID   string       `json:"external_id" yaml:"external_id"`
	Name         string       `json:"name" yaml:"name"`
	Email        string       `json:"email" yaml:"email"`
	Phone        string       `json:"phone" yaml:"phone"`
	Language     string       `json:"language" yaml:"language"`
	TimeZone     string       `json:"time_zone" yaml:"time_zone"`
	ManagerEmail string       `json:"manager_email" yaml:"manager_email"`
	Teams        []Membership `json:"teams" yaml:"teams"`
	Active       *bool        `json:"active" yaml:"active"`
	// Sites names the person's sites by id or name, the primary one first; nil keeps
	// the sites the person has (an import file without a sites column changes none).
	Sites []string `json:"sites" yaml:"sites"`
	// own is what the person changes in "Mi perfil" (profile.go), nil otherwise.
	own *Profile
}

// Limits of a person's fields.
const (
	maxName  = 200
	maxEmail = 254
	maxTeams = 50
)

var (
	slugRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	emailLocal = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
)

// Normalize trims the input and puts email, language and team ids in canonical form.
// defaultRegion is the ISO country used for phone numbers written without "+".
func (in *PersonInput) Normalize() {
	in.ExternalID = strings.TrimSpace(in.ExternalID)
	in.Name = strings.Join(strings.Fields(in.Name), " ")
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	in.Phone = strings.TrimSpace(in.Phone)
	in.Language = strings.ToLower(strings.TrimSpace(in.Language))
	in.TimeZone = strings.TrimSpace(in.TimeZone)
	in.ManagerEmail = strings.ToLower(strings.TrimSpace(in.ManagerEmail))
	if in.Sites != nil {
		in.Sites = cleanSites(in.Sites)
	}
	for i := range in.Teams {
		in.Teams[i].Team = strings.TrimSpace(in.Teams[i].Team)
		in.Teams[i].Role = strings.ToLower(strings.TrimSpace(in.Teams[i].Role))
		if in.Teams[i].Role == "" {
			in.Teams[i].Role = RoleMember
		}
	}
}

// Validate returns the problem with each field, or nil. The phone is checked with
// libphonenumber's rules and must be written in international form (+52…, +34…).
// Team names are checked by the caller, which knows the teams.
func (in PersonInput) Validate() []optimum.FieldError {
	var f []optimum.FieldError
	add := func(field, format string, args ...any) {
		f = append(f, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch n := utf8.RuneCountInString(in.Name); {
	case !utf8.ValidString(in.Name):
		add("name", "must be UTF-8 text")
	case n == 0:
		add("name", "is required")
	case n > maxName:
		add("name", "is too long: %d characters, at most %d", n, maxName)
	}
	if err := validEmail(in.Email); err != "" {
		add("email", "%s", err)
	}
	if in.Phone != "" {
		if _, err := E164(in.Phone); err != nil {
			add("phone", "%v", err)
		}
	}
	if in.Language != Spanish && in.Language != English {
		add("language", "%q is not es or en", clip(in.Language))
	}
	if in.TimeZone != "" {
		if _, err := time.LoadLocation(in.TimeZone); err != nil || strings.HasPrefix(in.TimeZone, "/") {
			add("time_zone", "%q is not an IANA time zone such as America/Mexico_City", clip(in.TimeZone))
		}
	}
	if in.ManagerEmail != "" {
		if err := validEmail(in.ManagerEmail); err != "" {
			add("manager_email", "%s", err)
		} else if in.ManagerEmail == in.Email {
			add("manager_email", "a person cannot be their own manager")
		}
	}
	if len(in.ExternalID) > 100 {
		add("external_id", "is too long (at most 100 characters)")
	}
	if len(in.Teams) > maxTeams {
		add("teams", "has %d teams, at most %d", len(in.Teams), maxTeams)
	}
	seen := map[string]bool{}
	for i, m := range in.Teams {
		field := fmt.Sprintf("teams[%d]", i)
		switch {
		case m.Team == "":
			add(field, "names no team")
		case utf8.RuneCountInString(m.Team) > 100:
			add(field, "is too long (at most 100 characters)")
		case !slices.Contains(TeamRoles, m.Role):
			add(field, "role %q is not lead, member or backup", clip(m.Role))
		case seen[strings.ToLower(m.Team)]:
			add(field, "%q is listed twice", clip(m.Team))
		}
		seen[strings.ToLower(m.Team)] = true
	}
	return f
}

func validEmail(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > maxEmail:
		return "is too long"
	case !emailLocal.MatchString(s):
		return fmt.Sprintf("%q is not an email address", clip(s))
	}
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return fmt.Sprintf("%q is not an email address", clip(s))
	}
	return ""
}

// E164 returns the phone in E.164 form, or an error saying why it is not a valid mobile or
// fixed number. Numbers must start with "+" and the country code, since the directory
// spans countries (Mexico and Spain at least).
func E164(raw string) (string, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, raw)
	if !strings.HasPrefix(s, "+") {
		return "", fmt.Errorf("%q must start with + and the country code (e.g. +52 55 1234 5678)", clip(raw))
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", fmt.Errorf("%q is not a valid phone number", clip(raw))
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// Slug turns a team or service name into an id: "Tecnología de la Información" →
// "tecnologia-de-la-informacion".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if rr, ok := plain[r]; ok {
			r = rr
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case b.Len() > 0 && !dash:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	return s
}

var plain = map[rune]rune{'á': 'a', 'à': 'a', 'ä': 'a', 'â': 'a', 'é': 'e', 'è': 'e', 'ë': 'e', 'ê': 'e', 'í': 'i', 'ì': 'i', 'ï': 'i', 'î': 'i', 'ó': 'o', 'ò': 'o', 'ö': 'o', 'ô': 'o', 'ú': 'u', 'ù': 'u', 'ü': 'u', 'û': 'u', 'ñ': 'n', 'ç': 'c'}

// ValidID reports whether s is usable as a team or service id.
func ValidID(s string) bool { return slugRE.MatchString(s) }

func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:40]) + "…"
}
