package indicators

import (
	"strconv"
	"time"
)

// Tables names every table of a report that can be exported, in page order.
var Tables = []string{"summary", "open", "open_counts", "over_time", "by_priority", "by_team", "by_site", "channels"}

// Table returns the rows of the named table, the header first, for CSV export. Times
// are RFC 3339 in UTC, durations whole seconds with milliseconds, percentages with one
// decimal; an unknown value is an empty cell. ok is false for an unknown name.
func (r Report) Table(name string) (rows [][]string, ok bool) {
	switch name {
	case "summary":
		rows = [][]string{{"period", "from", "to", "declared", "acknowledged", "resolved", "escalations",
			"tta_median_s", "tta_p90_s", "ttr_median_s", "ttr_p90_s", "ack_within_sla_pct", "resolve_within_sla_pct",
			"recipients", "recipients_acknowledged", "ack_rate_pct", "deliveries", "delivery_success_pct"}}
		for _, p := range []struct {
			name string
			s    Summary
		}{{"current", r.Summary}, {"previous", r.Previous}} {
			s := p.s
			rows = append(rows, []string{p.name, ts(s.From), ts(s.To), itoa(s.Declared), itoa(s.Acknowledged), itoa(s.Resolved), itoa(s.Escalations),
				num(s.TimeToAck.Median), num(s.TimeToAck.P90), num(s.TimeToResolve.Median), num(s.TimeToResolve.P90),
				num(s.AckSLA.Percent), num(s.ResolveSLA.Percent), itoa(s.Recipients), itoa(s.RecipientsAcknowledged), num(s.AckRate),
				itoa(s.Deliveries), num(s.DeliverySuccess)})
		}
	case "open":
		rows = [][]string{{"folio", "title", "priority", "status", "created_at", "ack_by", "resolve_by", "acknowledged_at",
			"ack_remaining_s", "resolve_remaining_s", "breached"}}
		for _, o := range r.Open {
			ack := ""
			if o.AckRemaining != nil {
				ack = strconv.FormatInt(*o.AckRemaining, 10)
			}
			at := ""
			if o.AcknowledgedAt != nil {
				at = ts(*o.AcknowledgedAt)
			}
			rows = append(rows, []string{o.Folio, o.Title, o.Priority, o.Status, ts(o.CreatedAt), ts(o.AckBy), ts(o.ResolveBy), at,
				ack, strconv.FormatInt(o.ResolveRemaining, 10), strconv.FormatBool(o.Breached)})
		}
	case "open_counts":
		rows = [][]string{{"priority", "status", "count"}}
		for _, c := range r.OpenCounts {
			rows = append(rows, []string{c.Priority, c.Status, itoa(c.Count)})
		}
	case "over_time":
		rows = [][]string{{"bucket_start", "bucket", "dimension", "key", "count"}}
		for i, start := range r.OverTime.Starts {
			rows = append(rows, []string{ts(start), r.OverTime.Bucket, "total", "", itoa(r.OverTime.Total[i])})
			for _, d := range []struct {
				name   string
				series []Series
			}{{"priority", r.OverTime.ByPriority}, {"service", r.OverTime.ByService}, {"cause", r.OverTime.ByCause}} {
				for _, s := range d.series {
					rows = append(rows, []string{ts(start), r.OverTime.Bucket, d.name, s.Key, itoa(s.Counts[i])})
				}
			}
		}
	case "by_priority":
		rows = [][]string{{"priority", "declared", "ack_target_s", "resolve_target_s", "tta_count", "tta_median_s", "tta_p90_s",
			"ttr_count", "ttr_median_s", "ttr_p90_s", "ack_met", "ack_missed", "ack_pending", "ack_within_sla_pct",
			"resolve_met", "resolve_missed", "resolve_pending", "resolve_within_sla_pct", "escalations"}}
		for _, p := range r.ByPriority {
			rows = append(rows, []string{p.Priority, itoa(p.Declared), flt(p.AckTarget), flt(p.ResolveTarget),
				itoa(p.TimeToAck.Count), num(p.TimeToAck.Median), num(p.TimeToAck.P90),
				itoa(p.TimeToResolve.Count), num(p.TimeToResolve.Median), num(p.TimeToResolve.P90),
				itoa(p.AckSLA.Met), itoa(p.AckSLA.Missed), itoa(p.AckSLA.Pending), num(p.AckSLA.Percent),
				itoa(p.ResolveSLA.Met), itoa(p.ResolveSLA.Missed), itoa(p.ResolveSLA.Pending), num(p.ResolveSLA.Percent),
				itoa(p.Escalations)})
		}
	case "by_team":
		rows = [][]string{{"team", "incidents", "recipients", "acknowledged", "ack_rate_pct", "first_ack_count", "first_ack_median_s",
			"first_ack_p90_s", "ack_within_sla_pct", "ttr_median_s", "ttr_p90_s"}}
		for _, t := range r.ByTeam {
			rows = append(rows, []string{t.Team, itoa(t.Incidents), itoa(t.Recipients), itoa(t.Acknowledged), num(t.AckRate),
				itoa(t.TimeToAck.Count), num(t.TimeToAck.Median), num(t.TimeToAck.P90), num(t.AckSLA.Percent),
				num(t.TimeToResolve.Median), num(t.TimeToResolve.P90)})
		}
	case "by_site":
		rows = [][]string{{"site", "name", "city", "incidents", "recipients", "acknowledged", "ack_rate_pct", "tta_count",
			"tta_median_s", "tta_p90_s", "ack_within_sla_pct", "ttr_count", "ttr_median_s", "ttr_p90_s", "resolve_within_sla_pct"}}
		for _, st := range r.BySite {
			rows = append(rows, []string{st.Site, st.Name, st.City, itoa(st.Incidents), itoa(st.Recipients), itoa(st.Acknowledged),
				num(st.AckRate), itoa(st.TimeToAck.Count), num(st.TimeToAck.Median), num(st.TimeToAck.P90), num(st.AckSLA.Percent),
				itoa(st.TimeToResolve.Count), num(st.TimeToResolve.Median), num(st.TimeToResolve.P90), num(st.ResolveSLA.Percent)})
		}
	case "channels":
		rows = [][]string{{"channel", "total", "pending", "sent", "delivered", "failed", "cancelled", "success_pct",
			"provider_latency_median_s", "provider_latency_p90_s", "delivery_latency_median_s", "delivery_latency_p90_s"}}
		for _, c := range r.Channels {
			rows = append(rows, []string{c.Channel, itoa(c.Total), itoa(c.Pending), itoa(c.Sent), itoa(c.Delivered), itoa(c.Failed),
				itoa(c.Cancelled), num(c.Success), num(c.ProviderLatency.Median), num(c.ProviderLatency.P90),
				num(c.DeliveryLatency.Median), num(c.DeliveryLatency.P90)})
		}
	default:
		return nil, false
	}
	return rows, true
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func itoa(n int) string { return strconv.Itoa(n) }

func flt(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func num(v *float64) string {
	if v == nil {
		return ""
	}
	return flt(*v)
}
