package indicators

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/optimum-bcp/optimum"
)

// Report is every indicator of one query. Durations are in seconds; a percentage is nil
// (null in JSON) when nothing it is a share of is known yet, so an empty period reads as
// "no data", not as 0 %.
type Report struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	TimeZone    string    `json:"time_zone"`
	Filters     Filters   `json:"filters"`
	// Summary is the period; Previous the period of the same length just before it.
	Summary  Summary `json:"summary"`
	Previous Summary `json:"previous"`
	// Open lists the open incidents, the most urgent deadline first; OpenCounts counts
	// them by priority and status.
	Open       []OpenIncident `json:"open"`
	OpenCounts []OpenCount    `json:"open_counts"`
	OverTime   OverTime       `json:"over_time"`
	ByPriority []PriorityRow  `json:"by_priority"`
	ByTeam     []TeamRow      `json:"by_team"`
	// BySite holds the incidents declared to each site (sites.go).
	BySite   []SiteRow    `json:"by_site"`
	Channels []ChannelRow `json:"channels"`
}

// Filters echoes the filters the report was computed with.
type Filters struct {
	Priorities []string `json:"priorities"`
	Service    string   `json:"service"`
	Team       string   `json:"team"`
	Site       string   `json:"site,omitempty"`
	// Scope is the viewer's limit the figures were computed within, absent when none.
	Scope *optimum.Scope `json:"scope,omitempty"`
}

// Summary is the headline of a period.
type Summary struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Declared     int       `json:"declared"`
	Acknowledged int       `json:"acknowledged"`
	Resolved     int       `json:"resolved"`
	Escalations  int       `json:"escalations"`
	// TimeToAck and TimeToResolve count from the declaration.
	TimeToAck     Durations `json:"time_to_ack"`
	TimeToResolve Durations `json:"time_to_resolve"`
	AckSLA        SLAShare  `json:"ack_sla"`
	ResolveSLA    SLAShare  `json:"resolve_sla"`
	// Recipients is how many people the incidents were for; AckRate the share of them
	// who acknowledged, in percent.
	Recipients             int      `json:"recipients"`
	RecipientsAcknowledged int      `json:"recipients_acknowledged"`
	AckRate                *float64 `json:"ack_rate"`
	Deliveries             int      `json:"deliveries"`
	DeliverySuccess        *float64 `json:"delivery_success"`
}

// Durations sums up a set of durations: how many, their median and 90th percentile.
type Durations struct {
	Count  int      `json:"count"`
	Median *float64 `json:"median_seconds"`
	P90    *float64 `json:"p90_seconds"`
}

// SLAShare counts incidents that met or missed a deadline. Pending ones (not done, the
// deadline not yet passed) are left out of the percentage.
type SLAShare struct {
	Met     int      `json:"met"`
	Missed  int      `json:"missed"`
	Pending int      `json:"pending"`
	Percent *float64 `json:"percent_within"`
}

// OpenIncident is an open incident with its SLA countdowns. A negative remaining time
// is how long ago the deadline passed.
type OpenIncident struct {
	ID        string    `json:"id"`
	Folio     string    `json:"folio"`
	Title     string    `json:"title"`
	Priority  string    `json:"priority"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	AckBy     time.Time `json:"ack_by"`
	ResolveBy time.Time `json:"resolve_by"`
	// AckRemaining is nil once acknowledged.
	AcknowledgedAt   *time.Time `json:"acknowledged_at"`
	AckRemaining     *int64     `json:"ack_remaining_seconds"`
	ResolveRemaining int64      `json:"resolve_remaining_seconds"`
	Breached         bool       `json:"breached"`
}

// OpenCount is how many open incidents have a priority and a status.
type OpenCount struct {
	Priority string `json:"priority"`
	Status   string `json:"status"`
	Count    int    `json:"count"`
}

// OverTime counts declared incidents per bucket (an hour or a day in the configured time
// zone). An incident with two services (or causes) counts once in each.
type OverTime struct {
	Bucket     string      `json:"bucket"`
	Starts     []time.Time `json:"starts"`
	Total      []int       `json:"total"`
	ByPriority []Series    `json:"by_priority"`
	ByService  []Series    `json:"by_service"`
	ByCause    []Series    `json:"by_cause"`
}

// Series is one line of a chart: a count per bucket.
type Series struct {
	Key    string `json:"key"`
	Counts []int  `json:"counts"`
}

// PriorityRow holds the response times of one priority against its SLA targets.
type PriorityRow struct {
	Priority      string    `json:"priority"`
	Declared      int       `json:"declared"`
	AckTarget     float64   `json:"ack_target_seconds"`
	ResolveTarget float64   `json:"resolve_target_seconds"`
	TimeToAck     Durations `json:"time_to_ack"`
	TimeToResolve Durations `json:"time_to_resolve"`
	AckSLA        SLAShare  `json:"ack_sla"`
	ResolveSLA    SLAShare  `json:"resolve_sla"`
	Escalations   int       `json:"escalations"`
}

// TeamRow holds, for the incidents a team was in the audience of, how its people
// acknowledged: the rate, the time to the team's first acknowledgement (against the
// incident's acknowledgement deadline) and the incidents' time to resolve.
type TeamRow struct {
	Team          string    `json:"team"`
	Incidents     int       `json:"incidents"`
	Recipients    int       `json:"recipients"`
	Acknowledged  int       `json:"acknowledged"`
	AckRate       *float64  `json:"ack_rate"`
	TimeToAck     Durations `json:"time_to_first_ack"`
	AckSLA        SLAShare  `json:"ack_sla"`
	TimeToResolve Durations `json:"time_to_resolve"`
}

// ChannelRow holds the delivery figures of one channel. Success is the share of settled
// deliveries (not queued, sending or cancelled) that the provider accepted (sent) or
// confirmed (delivered). ProviderLatency runs from sent to delivered; DeliveryLatency
// from planned to accepted by the provider.
type ChannelRow struct {
	Channel         string    `json:"channel"`
	Total           int       `json:"total"`
	Pending         int       `json:"pending"`
	Sent            int       `json:"sent"`
	Delivered       int       `json:"delivered"`
	Failed          int       `json:"failed"`
	Cancelled       int       `json:"cancelled"`
	Success         *float64  `json:"success"`
	ProviderLatency Durations `json:"provider_latency"`
	DeliveryLatency Durations `json:"delivery_latency"`
}

func (s *Service) summary(incs []Incident, now time.Time) Summary {
	var (
		sum             Summary
		tta, ttr        []float64
		settled, okSent int
	)
	for _, inc := range incs {
		sum.Declared++
		sum.Escalations += inc.Escalations
		if inc.AcknowledgedAt != nil {
			sum.Acknowledged++
			tta = append(tta, seconds(inc.AcknowledgedAt.Sub(inc.CreatedAt)))
		}
		if inc.ResolvedAt != nil {
			sum.Resolved++
			ttr = append(ttr, seconds(inc.ResolvedAt.Sub(inc.CreatedAt)))
		}
		sum.AckSLA.count(inc.AcknowledgedAt, inc.AckBy, now)
		sum.ResolveSLA.count(inc.ResolvedAt, inc.ResolveBy, now)
		for _, r := range inc.Recipients {
			sum.Recipients++
			if r.AcknowledgedAt != nil {
				sum.RecipientsAcknowledged++
			}
		}
		for _, d := range inc.Deliveries {
			sum.Deliveries++
			switch kind(d.Status) {
			case "sent", "delivered":
				settled++
				okSent++
			case "failed":
				settled++
			}
		}
	}
	sum.TimeToAck, sum.TimeToResolve = durations(tta), durations(ttr)
	sum.AckSLA.finish()
	sum.ResolveSLA.finish()
	sum.AckRate = percent(sum.RecipientsAcknowledged, sum.Recipients)
	sum.DeliverySuccess = percent(okSent, settled)
	return sum
}

func (s *Service) open(incs []Incident, now time.Time) []OpenIncident {
	out := []OpenIncident{}
	for _, inc := range incs {
		if !Open(inc.Status) {
			continue
		}
		o := OpenIncident{
			ID: inc.ID, Folio: inc.Folio, Title: inc.Title, Priority: inc.Priority, Status: inc.Status,
			CreatedAt: inc.CreatedAt, AckBy: inc.AckBy, ResolveBy: inc.ResolveBy, AcknowledgedAt: inc.AcknowledgedAt,
			ResolveRemaining: int64(inc.ResolveBy.Sub(now) / time.Second),
		}
		if inc.AcknowledgedAt == nil {
			left := int64(inc.AckBy.Sub(now) / time.Second)
			o.AckRemaining = &left
			o.Breached = left < 0
		} else if inc.AcknowledgedAt.After(inc.AckBy) {
			o.Breached = true
		}
		o.Breached = o.Breached || o.ResolveRemaining < 0
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b OpenIncident) int {
		return cmp.Or(a.ResolveBy.Compare(b.ResolveBy), cmp.Compare(a.Folio, b.Folio))
	})
	return out
}

func openCounts(open []OpenIncident) []OpenCount {
	n := map[[2]string]int{}
	for _, o := range open {
		n[[2]string{o.Priority, o.Status}]++
	}
	out := make([]OpenCount, 0, len(n))
	for k, c := range n {
		out = append(out, OpenCount{Priority: k[0], Status: k[1], Count: c})
	}
	slices.SortFunc(out, func(a, b OpenCount) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(statusRank(a.Status), statusRank(b.Status)), cmp.Compare(a.Status, b.Status))
	})
	return out
}

// statusRank orders statuses along the lifecycle; unknown ones go last.
func statusRank(s string) int {
	if i := slices.Index([]string{"declared", "acknowledged", "investigating", "reopened", "resolved", "verified", "closed"}, s); i >= 0 {
		return i
	}
	return 99
}

func (s *Service) byPriority(incs []Incident, now time.Time) []PriorityRow {
	rows := make([]PriorityRow, 0, len(Priorities))
	for _, p := range Priorities {
		var (
			row      = PriorityRow{Priority: p, AckTarget: seconds(s.ack[p]), ResolveTarget: seconds(s.solve[p])}
			tta, ttr []float64
		)
		for _, inc := range incs {
			if inc.Priority != p {
				continue
			}
			row.Declared++
			row.Escalations += inc.Escalations
			if inc.AcknowledgedAt != nil {
				tta = append(tta, seconds(inc.AcknowledgedAt.Sub(inc.CreatedAt)))
			}
			if inc.ResolvedAt != nil {
				ttr = append(ttr, seconds(inc.ResolvedAt.Sub(inc.CreatedAt)))
			}
			row.AckSLA.count(inc.AcknowledgedAt, inc.AckBy, now)
			row.ResolveSLA.count(inc.ResolvedAt, inc.ResolveBy, now)
		}
		row.TimeToAck, row.TimeToResolve = durations(tta), durations(ttr)
		row.AckSLA.finish()
		row.ResolveSLA.finish()
		rows = append(rows, row)
	}
	return rows
}

func (s *Service) byTeam(incs []Incident, sc *optimum.Scope, now time.Time) []TeamRow {
	type acc struct {
		row      TeamRow
		tta, ttr []float64
	}
	teams := map[string]*acc{}
	get := func(t string) *acc {
		if teams[t] == nil {
			teams[t] = &acc{row: TeamRow{Team: t}}
		}
		return teams[t]
	}
	for _, inc := range incs {
		for _, t := range inc.Teams {
			if sc.Limits() && !slices.Contains(sc.Teams, t) {
				continue // another team's figures, beyond the viewer's scope
			}
			a := get(t)
			a.row.Incidents++
			var first *time.Time
			for _, r := range inc.Recipients {
				if !slices.Contains(r.Teams, t) {
					continue
				}
				a.row.Recipients++
				if r.AcknowledgedAt != nil {
					a.row.Acknowledged++
					if first == nil || r.AcknowledgedAt.Before(*first) {
						first = r.AcknowledgedAt
					}
				}
			}
			if first != nil {
				a.tta = append(a.tta, seconds(first.Sub(inc.CreatedAt)))
			}
			a.row.AckSLA.count(first, inc.AckBy, now)
			if inc.ResolvedAt != nil {
				a.ttr = append(a.ttr, seconds(inc.ResolvedAt.Sub(inc.CreatedAt)))
			}
		}
	}
	out := make([]TeamRow, 0, len(teams))
	for _, a := range teams {
		a.row.AckRate = percent(a.row.Acknowledged, a.row.Recipients)
		a.row.TimeToAck, a.row.TimeToResolve = durations(a.tta), durations(a.ttr)
		a.row.AckSLA.finish()
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(a, b TeamRow) int { return cmp.Compare(a.Team, b.Team) })
	return out
}

// kind folds delivery statuses into pending, sent, delivered, failed and cancelled.
func kind(status string) string {
	switch status {
	case "queued", "sending":
		return "pending"
	case "undelivered", "failed":
		return "failed"
	}
	return status
}

func channels(incs []Incident) []ChannelRow {
	type acc struct {
		row           ChannelRow
		provider, all []float64
	}
	byCh := map[string]*acc{}
	for _, inc := range incs {
		for _, d := range inc.Deliveries {
			a := byCh[d.Channel]
			if a == nil {
				a = &acc{row: ChannelRow{Channel: d.Channel}}
				byCh[d.Channel] = a
			}
			a.row.Total++
			switch kind(d.Status) {
			case "pending":
				a.row.Pending++
			case "sent":
				a.row.Sent++
			case "delivered":
				a.row.Delivered++
			case "failed":
				a.row.Failed++
			case "cancelled":
				a.row.Cancelled++
			}
			if d.SentAt != nil {
				a.all = append(a.all, seconds(d.SentAt.Sub(d.CreatedAt)))
				if d.DeliveredAt != nil {
					a.provider = append(a.provider, seconds(d.DeliveredAt.Sub(*d.SentAt)))
				}
			}
		}
	}
	out := make([]ChannelRow, 0, len(byCh))
	for _, a := range byCh {
		a.row.Success = percent(a.row.Sent+a.row.Delivered, a.row.Sent+a.row.Delivered+a.row.Failed)
		a.row.ProviderLatency, a.row.DeliveryLatency = durations(a.provider), durations(a.all)
		out = append(out, a.row)
	}
	slices.SortFunc(out, func(a, b ChannelRow) int { return cmp.Compare(a.Channel, b.Channel) })
	return out
}

// count files one incident under met, missed or pending for a deadline.
func (sh *SLAShare) count(done *time.Time, deadline, now time.Time) {
	switch {
	case done != nil && !done.After(deadline):
		sh.Met++
	case done != nil || now.After(deadline):
		sh.Missed++
	default:
		sh.Pending++
	}
}

func (sh *SLAShare) finish() { sh.Percent = percent(sh.Met, sh.Met+sh.Missed) }

// percent is 100·n/of rounded to one decimal, nil when of is 0.
func percent(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := math.Round(1000*float64(n)/float64(of)) / 10
	return &v
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func durations(v []float64) Durations {
	d := Durations{Count: len(v)}
	if len(v) == 0 {
		return d
	}
	slices.Sort(v)
	m, p := Quantile(v, 0.5), Quantile(v, 0.9)
	d.Median, d.P90 = &m, &p
	return d
}

// Quantile returns the q-quantile of sorted by linear interpolation between the closest
// ranks (the method spreadsheets and numpy use by default): h = (n−1)·q, and the result
// lies between sorted[⌊h⌋] and sorted[⌊h⌋+1]. The 0.5-quantile is the usual median.
// It rounds to the millisecond, the resolution of stored times.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	h := float64(len(sorted)-1) * q
	lo := int(math.Floor(h))
	v := sorted[lo]
	if lo+1 < len(sorted) {
		v += (h - float64(lo)) * (sorted[lo+1] - sorted[lo])
	}
	return math.Round(v*1000) / 1000
}
