package drill

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/contacts"
)

// Facts are what a report is computed from: who the run targeted (as the directory was
// at its start), the deliveries of its incident and the acknowledgements.
type Facts struct {
	Targets    []Target
	Deliveries []DeliveryFact
	Acks       []AckFact
	// Chats are the first post about the run's incident to each team chat channel
	// (Teams, Slack): the alert, for a team of the audience.
	Chats []ChatFact
}

// ChatFact is the first post of the run's incident to one team's chat channel.
type ChatFact struct {
	Team         string
	Subscription string
	Kind         string // teams or slack
	Name         string
	Title        string
	Status       string // queued, sending, sent, failed, cancelled
	QueuedAt     time.Time
	SentAt       *time.Time
	// Answer is what the service answered to the last attempt ("the endpoint answered
	// 202 Accepted", "slack answered ok …"), or why it failed; Error is the post's error.
	Answer string
	Error  string
}

// Target is one person a run was for.
type Target struct {
	PersonID    string
	Name        string
	Memberships []contacts.Membership // within the drill's teams
	// Sites are the person's sites (ids) when the drill started, the primary first.
	Sites       []string
	HasPhone    bool
	SMSOptedOut bool
	Push        int
	// Verified is true when the phone was verified or a browser subscribed.
	Verified bool
	// HasEmail is true when the person had an email address (channel email).
	HasEmail bool
}

// DeliveryFact is one delivery of the run's incident.
type DeliveryFact struct {
	PersonID string
	Channel  string
	Status   string
	Error    string
	// ReachedAt is when it was sent (or delivered, if no send time is known); nil when
	// it was not.
	ReachedAt *time.Time
}

// AckFact is one acknowledgement of the run's incident.
type AckFact struct {
	PersonID string
	Name     string
	Channel  string
	At       time.Time
}

// Report is a drill run's report: the header, the verdict per criterion, the rates and
// times, the late acknowledgements and the people not reached.
type Report struct {
	Run      Run       `json:"run"`
	Header   Header    `json:"header"`
	AsOf     time.Time `json:"as_of"`
	Criteria []Verdict `json:"criteria"`
	Overall  Figures   `json:"overall"`
	Teams    []Figures `json:"teams"`
	// Sites has the figures of the people of each site (primary or not), by site id.
	Sites       []Figures    `json:"sites"`
	Roles       []Figures    `json:"roles"`
	Channels    []Figures    `json:"channels"`
	AckChannels []Figures    `json:"ack_channels"`
	Late        []LateAck    `json:"late"`
	Unreached   []Unreached  `json:"unreached"`
	People      []PersonLine `json:"people"`
	// Hygiene lists the directory fixes the drill revealed.
	Hygiene []HygieneAction `json:"hygiene"`
	// Trend compares this run with the previous runs of the same plan, oldest first.
	Trend []TrendPoint `json:"trend"`
	// TeamChats says, per team of the drill, whether its chat channels got the alert,
	// when, and what the service answered (or the error). A team without a channel has
	// none listed.
	TeamChats []TeamChat `json:"team_chats"`
}

// TeamChat is what one team's chat channels got of the drill.
type TeamChat struct {
	Team     string         `json:"team"`
	Channels []TeamChatPost `json:"channels"`
}

// TeamChatPost is the alert's post to one chat channel.
type TeamChatPost struct {
	Subscription string     `json:"subscription"`
	Kind         string     `json:"kind"`
	Name         string     `json:"name"`
	Title        string     `json:"title"`
	Status       string     `json:"status"`
	QueuedAt     time.Time  `json:"queued_at"`
	SentAt       *time.Time `json:"sent_at"`
	Answer       string     `json:"answer,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// teamChats groups the chat facts by team: the drill's teams first, in the plan's order
// (with no channel listed when the team has none), then any other team whose channel
// got a post (a functional escalation to it).
func teamChats(teams []string, facts []ChatFact) []TeamChat {
	out := []TeamChat{}
	at := map[string]int{}
	add := func(team string) int {
		if i, ok := at[team]; ok {
			return i
		}
		at[team] = len(out)
		out = append(out, TeamChat{Team: team, Channels: []TeamChatPost{}})
		return len(out) - 1
	}
	for _, t := range teams {
		add(t)
	}
	for _, f := range facts {
		i := add(f.Team)
		out[i].Channels = append(out[i].Channels, TeamChatPost{Subscription: f.Subscription, Kind: f.Kind, Name: f.Name, Title: f.Title,
			Status: f.Status, QueuedAt: f.QueuedAt, SentAt: f.SentAt, Answer: f.Answer, Error: f.Error})
	}
	return out
}

// HygieneAction is one fix to the directory the drill revealed.
type HygieneAction struct {
	PersonID string `json:"person_id"`
	Name     string `json:"name"`
	// Action is fix_number (a message to the phone failed), add_channel (no phone and
	// no browser) or verify_channel (reachable only on channels never proved).
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// Hygiene actions.
const (
	ActionFixNumber     = "fix_number"
	ActionAddChannel    = "add_channel"
	ActionVerifyChannel = "verify_channel"
)

// TrendPoint is the outcome of one run of the plan.
type TrendPoint struct {
	RunID       string     `json:"run_id"`
	StartedAt   *time.Time `json:"started_at"`
	Status      string     `json:"status"`
	Targeted    int        `json:"targeted"`
	ReachRate   float64    `json:"reach_rate"`
	ConfirmRate float64    `json:"confirmation_rate"`
	CriteriaMet int        `json:"criteria_met"`
	Criteria    int        `json:"criteria"`
	AckMedian   *float64   `json:"ack_median_seconds"`
}

// Header names what was rehearsed.
type Header struct {
	Plan      string     `json:"plan"`
	PlanID    string     `json:"plan_id"`
	Scenario  string     `json:"scenario"`
	Folio     string     `json:"folio"`
	Status    string     `json:"status"`
	Trigger   string     `json:"trigger"`
	Announced bool       `json:"announced"`
	Teams     []string   `json:"teams"`
	Channels  []string   `json:"channels"`
	Ladder    string     `json:"ladder,omitempty"`
	StartedAt *time.Time `json:"started_at"`
	EndsAt    *time.Time `json:"ends_at"`
	EndedAt   *time.Time `json:"ended_at"`
	Window    Duration   `json:"window"`
}

// Verdict is the outcome of one success criterion.
type Verdict struct {
	Criterion Criterion `json:"criterion"`
	// Targeted is how many people the scope holds; Needed how many must acknowledge in
	// time; InTime how many did.
	Targeted int `json:"targeted"`
	Needed   int `json:"needed"`
	InTime   int `json:"in_time"`
	// Rate is InTime / Targeted.
	Rate float64 `json:"rate"`
	// Result is met, not_met, or pending while the criterion's time has not passed.
	Result string    `json:"result"`
	Due    time.Time `json:"due"`
}

// Verdict results.
const (
	Met     = "met"
	NotMet  = "not_met"
	Pending = "pending"
)

// Figures are the rates and times of one group: overall, a team, a role or a channel.
type Figures struct {
	Key          string  `json:"key"`
	Targeted     int     `json:"targeted"`
	Reached      int     `json:"reached"`
	Acknowledged int     `json:"acknowledged"`
	ReachRate    float64 `json:"reach_rate"`
	ConfirmRate  float64 `json:"confirmation_rate"`
	// Time to acknowledge from the start, in seconds, over the group's acknowledgements;
	// nil when nobody acknowledged.
	AckMedian *float64 `json:"ack_median_seconds"`
	AckP90    *float64 `json:"ack_p90_seconds"`
	AckMax    *float64 `json:"ack_max_seconds"`
}

// LateAck is an acknowledgement after the window or after a criterion's time.
type LateAck struct {
	PersonID string    `json:"person_id"`
	Name     string    `json:"name"`
	At       time.Time `json:"at"`
	Seconds  float64   `json:"seconds"`
	// AfterWindow is true when it came after the window closed; Criteria lists the
	// criteria (by index) whose time it missed.
	AfterWindow bool  `json:"after_window"`
	Criteria    []int `json:"criteria"`
}

// Reasons a person was not reached.
const (
	ReasonNoChannel  = "no_channel"      // no phone, no subscribed browser, no email in use
	ReasonOptedOut   = "sms_opted_out"   // replied STOP and has no other channel
	ReasonFailed     = "delivery_failed" // every delivery failed (the error says why)
	ReasonPending    = "pending"         // deliveries still queued or being sent
	ReasonCancelled  = "cancelled"       // the drill ended before they were sent
	ReasonNotPlanned = "not_planned"     // reachable, but on none of the drill's channels
)

// Unreached is a targeted person no delivery reached, and why.
type Unreached struct {
	PersonID string   `json:"person_id"`
	Name     string   `json:"name"`
	Reason   string   `json:"reason"`
	Error    string   `json:"error,omitempty"`
	Channels []string `json:"channels"`
}

// PersonLine is one person on the live board.
type PersonLine struct {
	PersonID   string                `json:"person_id"`
	Name       string                `json:"name"`
	Teams      []contacts.Membership `json:"teams"`
	Reached    bool                  `json:"reached"`
	ReachedAt  *time.Time            `json:"reached_at"`
	Channels   []ChannelState        `json:"channels"`
	AckedAt    *time.Time            `json:"acknowledged_at"`
	AckChannel string                `json:"ack_channel,omitempty"`
	State      string                `json:"state"` // acknowledged, reached, pending, unreached
}

// ChannelState is a person's best delivery on one channel.
type ChannelState struct {
	Channel string `json:"channel"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
}

// Report computes a run's report at the service's now (final once the run ended).
func (s *Service) Report(ctx context.Context, runID string) (Report, error) {
	r, err := s.store.Run(ctx, runID)
	if err != nil {
		return Report{}, err
	}
	f, err := s.store.Facts(ctx, r)
	if err != nil {
		return Report{}, err
	}
	now := s.now()
	rep := Compute(r, f, now)
	// The trend: the previous runs of the plan that ran, and this one.
	runs, err := s.store.Runs(ctx, r.PlanID, 12)
	if err != nil {
		return Report{}, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		o := runs[i]
		switch {
		case o.ID == r.ID:
			rep.Trend = append(rep.Trend, trendOf(rep))
		case o.StartedAt == nil || r.StartedAt == nil || !o.StartedAt.Before(*r.StartedAt) ||
			(o.Status != StatusEnded && o.Status != StatusCancelled):
		default:
			of, err := s.store.Facts(ctx, o)
			if err != nil {
				return Report{}, err
			}
			rep.Trend = append(rep.Trend, trendOf(Compute(o, of, now)))
		}
	}
	return rep, nil
}

func trendOf(rep Report) TrendPoint {
	p := TrendPoint{RunID: rep.Run.ID, StartedAt: rep.Run.StartedAt, Status: rep.Run.Status, Targeted: rep.Overall.Targeted,
		ReachRate: rep.Overall.ReachRate, ConfirmRate: rep.Overall.ConfirmRate, Criteria: len(rep.Criteria), AckMedian: rep.Overall.AckMedian}
	for _, v := range rep.Criteria {
		if v.Result == Met {
			p.CriteriaMet++
		}
	}
	return p
}

// Compute builds the report of run r from its facts as of now. Definitions:
//   - targeted: the people of the drill's teams, active when it started;
//   - reached: a delivery to them was sent or delivered, or they acknowledged;
//   - acknowledged: they acknowledged, at any time (late ones included);
//   - time to acknowledge: from the run's start; median and p90 by nearest rank
//     (the ⌈p·n⌉-th smallest);
//   - per channel: targeted are the people with a delivery planned on it, reached
//     those it reached, acknowledged those of them who acknowledged (by any means);
//     ack_channels group the acknowledgements by the channel they came through.
func Compute(r Run, f Facts, now time.Time) Report {
	rep := Report{Run: r, AsOf: now, Criteria: []Verdict{}, Teams: []Figures{}, Sites: []Figures{}, Roles: []Figures{}, Channels: []Figures{},
		AckChannels: []Figures{}, Late: []LateAck{}, Unreached: []Unreached{}, People: []PersonLine{}, Hygiene: []HygieneAction{},
		Trend: []TrendPoint{}}
	p := r.Plan
	rep.TeamChats = teamChats(p.Teams, f.Chats)
	channels := p.Channels
	if len(channels) == 0 {
		channels = []string{"webpush", "sms", "voice"}
		// Email counts when the run used it (an SMTP server was configured): nearly
		// everyone has an address, so listing it always would call people reachable
		// by a channel that sends nothing.
		if slices.ContainsFunc(f.Deliveries, func(d DeliveryFact) bool { return d.Channel == "email" }) {
			channels = append(channels, "email")
		}
	}
	rep.Header = Header{Plan: p.Name, PlanID: p.ID, Scenario: r.Title, Folio: r.Folio, Status: r.Status, Trigger: r.Trigger,
		Announced: r.Announced, Teams: p.Teams, Channels: channels, Ladder: p.Ladder, StartedAt: r.StartedAt, EndsAt: r.EndsAt,
		EndedAt: r.EndedAt, Window: p.Window}
	var start time.Time
	if r.StartedAt != nil {
		start = *r.StartedAt
	}
	acks := map[string]AckFact{}
	for _, a := range f.Acks {
		acks[a.PersonID] = a
	}
	byPerson := map[string][]DeliveryFact{}
	for _, d := range f.Deliveries {
		byPerson[d.PersonID] = append(byPerson[d.PersonID], d)
	}
	type person struct {
		t       Target
		reached bool
		acked   *AckFact
		on      map[string]bool // channels with a delivery planned
		reachOn map[string]bool // channels that reached them
	}
	people := make([]person, 0, len(f.Targets))
	for _, t := range f.Targets {
		pp := person{t: t, on: map[string]bool{}, reachOn: map[string]bool{}}
		line := PersonLine{PersonID: t.PersonID, Name: t.Name, Teams: t.Memberships, Channels: []ChannelState{}}
		best := map[string]DeliveryFact{}
		for _, d := range byPerson[t.PersonID] {
			pp.on[d.Channel] = true
			if d.ReachedAt != nil {
				pp.reachOn[d.Channel] = true
				pp.reached = true
				if line.ReachedAt == nil || d.ReachedAt.Before(*line.ReachedAt) {
					at := *d.ReachedAt
					line.ReachedAt = &at
				}
			}
			if b, ok := best[d.Channel]; !ok || rank(d) > rank(b) {
				best[d.Channel] = d
			}
		}
		for _, ch := range sortedKeys(best) {
			b := best[ch]
			line.Channels = append(line.Channels, ChannelState{Channel: ch, Status: b.Status, Error: b.Error})
		}
		if a, ok := acks[t.PersonID]; ok {
			pp.acked, pp.reached = &a, true
			at := a.At
			line.AckedAt, line.AckChannel = &at, a.Channel
		}
		line.Reached = pp.reached
		switch {
		case pp.acked != nil:
			line.State = "acknowledged"
		case pp.reached:
			line.State = "reached"
		case why(pp.t, byPerson[t.PersonID], channels).Reason == ReasonPending:
			line.State = "pending"
		default:
			line.State = "unreached"
		}
		rep.People = append(rep.People, line)
		people = append(people, pp)
	}
	figures := func(key string, in func(person) bool) Figures {
		g := Figures{Key: key}
		var secs []float64
		for _, pp := range people {
			if !in(pp) {
				continue
			}
			g.Targeted++
			if pp.reached {
				g.Reached++
			}
			if pp.acked != nil {
				g.Acknowledged++
				secs = append(secs, pp.acked.At.Sub(start).Seconds())
			}
		}
		g.ReachRate, g.ConfirmRate = ratio(g.Reached, g.Targeted), ratio(g.Acknowledged, g.Targeted)
		g.AckMedian, g.AckP90, g.AckMax = quantiles(secs)
		return g
	}
	rep.Overall = figures("all", func(person) bool { return true })
	for _, team := range p.Teams {
		rep.Teams = append(rep.Teams, figures(team, func(pp person) bool { return inTeam(pp.t, team) }))
	}
	var sites []string
	for _, pp := range people {
		for _, st := range pp.t.Sites {
			if !slices.Contains(sites, st) {
				sites = append(sites, st)
			}
		}
	}
	slices.Sort(sites)
	for _, st := range sites {
		rep.Sites = append(rep.Sites, figures(st, func(pp person) bool { return slices.Contains(pp.t.Sites, st) }))
	}
	for _, role := range roles {
		if g := figures(role, func(pp person) bool { return hasRole(pp.t, role) }); g.Targeted > 0 {
			rep.Roles = append(rep.Roles, g)
		}
	}
	for _, ch := range channels {
		g := Figures{Key: ch}
		var secs []float64
		for _, pp := range people {
			if !pp.on[ch] {
				continue
			}
			g.Targeted++
			if pp.reachOn[ch] {
				g.Reached++
			}
			if pp.acked != nil {
				g.Acknowledged++
				secs = append(secs, pp.acked.At.Sub(start).Seconds())
			}
		}
		if g.Targeted == 0 && len(p.Channels) == 0 {
			continue // a channel nobody could be reached on (no sender, no address)
		}
		g.ReachRate, g.ConfirmRate = ratio(g.Reached, g.Targeted), ratio(g.Acknowledged, g.Targeted)
		g.AckMedian, g.AckP90, g.AckMax = quantiles(secs)
		rep.Channels = append(rep.Channels, g)
	}
	ackChannels := map[string][]float64{}
	for _, pp := range people {
		if pp.acked != nil {
			ackChannels[pp.acked.Channel] = append(ackChannels[pp.acked.Channel], pp.acked.At.Sub(start).Seconds())
		}
	}
	for _, ch := range sortedKeys(ackChannels) {
		secs := ackChannels[ch]
		g := Figures{Key: ch, Targeted: rep.Overall.Targeted, Reached: len(secs), Acknowledged: len(secs)}
		g.ConfirmRate = ratio(len(secs), g.Targeted)
		g.ReachRate = g.ConfirmRate
		g.AckMedian, g.AckP90, g.AckMax = quantiles(secs)
		rep.AckChannels = append(rep.AckChannels, g)
	}
	for _, c := range p.Criteria {
		v := Verdict{Criterion: c, Due: start.Add(time.Duration(c.Within))}
		for _, pp := range people {
			if !inScope(pp.t, c.Scope) {
				continue
			}
			v.Targeted++
			if pp.acked != nil && !pp.acked.At.After(v.Due) {
				v.InTime++
			}
		}
		v.Needed = (c.Percent*v.Targeted + 99) / 100
		v.Rate = ratio(v.InTime, v.Targeted)
		switch {
		case v.Targeted > 0 && v.InTime >= v.Needed:
			v.Result = Met
		case r.Status == StatusRunning && now.Before(v.Due):
			v.Result = Pending
		default:
			v.Result = NotMet
		}
		rep.Criteria = append(rep.Criteria, v)
	}
	for _, pp := range people {
		if pp.acked == nil {
			continue
		}
		l := LateAck{PersonID: pp.t.PersonID, Name: pp.t.Name, At: pp.acked.At, Seconds: pp.acked.At.Sub(start).Seconds(), Criteria: []int{}}
		l.AfterWindow = r.EndsAt != nil && pp.acked.At.After(*r.EndsAt)
		for i, c := range p.Criteria {
			if inScope(pp.t, c.Scope) && pp.acked.At.After(start.Add(time.Duration(c.Within))) {
				l.Criteria = append(l.Criteria, i)
			}
		}
		if l.AfterWindow || len(l.Criteria) > 0 {
			rep.Late = append(rep.Late, l)
		}
	}
	sort.SliceStable(rep.Late, func(i, j int) bool { return rep.Late[i].At.Before(rep.Late[j].At) })
	for _, pp := range people {
		if pp.reached {
			continue
		}
		u := why(pp.t, byPerson[pp.t.PersonID], channels)
		u.PersonID, u.Name = pp.t.PersonID, pp.t.Name
		rep.Unreached = append(rep.Unreached, u)
	}
	for _, pp := range people {
		t := pp.t
		fix := ""
		for _, d := range byPerson[t.PersonID] {
			if (d.Channel == "sms" || d.Channel == "voice") && (d.Status == "failed" || d.Status == "undelivered") && !pp.reachOn[d.Channel] {
				fix = d.Error
			}
		}
		switch {
		case fix != "":
			rep.Hygiene = append(rep.Hygiene, HygieneAction{PersonID: t.PersonID, Name: t.Name, Action: ActionFixNumber, Detail: fix})
		case !t.HasPhone && t.Push == 0:
			rep.Hygiene = append(rep.Hygiene, HygieneAction{PersonID: t.PersonID, Name: t.Name, Action: ActionAddChannel})
		case !t.Verified:
			rep.Hygiene = append(rep.Hygiene, HygieneAction{PersonID: t.PersonID, Name: t.Name, Action: ActionVerifyChannel})
		}
	}
	return rep
}

// why explains why a person was not reached.
func why(t Target, ds []DeliveryFact, channels []string) Unreached {
	u := Unreached{Channels: []string{}}
	if len(ds) > 0 {
		pending, cancelled := false, false
		for _, d := range ds {
			if !slices.Contains(u.Channels, d.Channel) {
				u.Channels = append(u.Channels, d.Channel)
			}
			switch d.Status {
			case "queued", "sending":
				pending = true
			case "cancelled":
				cancelled = true
			default:
				if d.Error != "" && u.Error == "" {
					u.Error = d.Error
				}
			}
		}
		switch {
		case pending:
			u.Reason = ReasonPending
		case u.Error != "" || !cancelled:
			u.Reason = ReasonFailed
		default:
			u.Reason = ReasonCancelled
		}
		return u
	}
	push := t.Push > 0 && slices.Contains(channels, "webpush")
	sms := t.HasPhone && !t.SMSOptedOut && slices.Contains(channels, "sms")
	voice := t.HasPhone && slices.Contains(channels, "voice")
	mail := t.HasEmail && slices.Contains(channels, "email")
	switch {
	case !t.HasPhone && t.Push == 0 && !mail:
		u.Reason = ReasonNoChannel
	case t.SMSOptedOut && !push && !voice && !mail:
		u.Reason = ReasonOptedOut
	case !push && !sms && !voice && !mail:
		u.Reason = ReasonNotPlanned
	default:
		u.Reason = ReasonPending // planned but not queued yet (the engine is behind)
	}
	return u
}

func rank(d DeliveryFact) int {
	switch d.Status {
	case "delivered":
		return 6
	case "sent":
		return 5
	case "sending":
		return 4
	case "queued":
		return 3
	case "undelivered", "failed":
		return 2
	}
	return 1
}

func inTeam(t Target, team string) bool {
	return slices.ContainsFunc(t.Memberships, func(m contacts.Membership) bool { return m.Team == team })
}

func hasRole(t Target, role string) bool {
	return slices.ContainsFunc(t.Memberships, func(m contacts.Membership) bool { return m.Role == role })
}

func inScope(t Target, scope string) bool {
	switch {
	case scope == ScopeAll:
		return true
	case strings.HasPrefix(scope, scopeTeam):
		return inTeam(t, strings.TrimPrefix(scope, scopeTeam))
	case strings.HasPrefix(scope, scopeRole):
		return hasRole(t, strings.TrimPrefix(scope, scopeRole))
	}
	return false
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// quantiles returns the median, p90 (nearest rank) and max of xs; nil for none.
func quantiles(xs []float64) (median, p90, max *float64) {
	if len(xs) == 0 {
		return nil, nil, nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(pct int) *float64 {
		i := (pct*len(s)+99)/100 - 1 // ⌈pct·n/100⌉ in integers: no rounding surprises
		v := s[max0(i)]
		return &v
	}
	m := s[len(s)-1]
	return at(50), at(90), &m
}

func max0(i int) int {
	if i < 0 {
		return 0
	}
	return i
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
