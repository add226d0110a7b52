package drill

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum/internal/csvsafe"
)

// WriteCSV writes the report as one CSV table, a row per figure, for a spreadsheet or
// an auditor. The columns are: section, key, targeted, reached, acknowledged, reach_rate,
// confirmation_rate, ack_median_s, ack_p90_s, ack_max_s. Sections: header rows
// (key and value in the next column), overall, team, role, channel, ack_channel,
// criterion (key is the criterion; then targeted, needed, in time, rate, result), late
// (person; seconds, after window, criteria missed), unreached (person; reason, error),
// hygiene (person; action, detail), trend (run; targeted, start, status, reach rate,
// confirmation rate, median, criteria met/total).
func WriteCSV(w io.Writer, r Report) error {
	c := csvsafe.NewWriter(w) // names and texts are typed by people: defused for spreadsheets
	row := func(v ...string) { _ = c.Write(v) }
	row("section", "key", "targeted", "reached", "acknowledged", "reach_rate", "confirmation_rate", "ack_median_s", "ack_p90_s", "ack_max_s")
	h := r.Header
	when := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, kv := range [][2]string{
		{"plan", h.Plan}, {"scenario", h.Scenario}, {"folio", h.Folio}, {"status", h.Status}, {"trigger", h.Trigger},
		{"announced", strconv.FormatBool(h.Announced)}, {"teams", strings.Join(h.Teams, ";")},
		{"channels", strings.Join(h.Channels, ";")}, {"started_at", when(h.StartedAt)}, {"ends_at", when(h.EndsAt)},
		{"ended_at", when(h.EndedAt)}, {"as_of", r.AsOf.UTC().Format(time.RFC3339)},
	} {
		row("header", kv[0], kv[1])
	}
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	figs := func(section string, fs ...Figures) {
		for _, f := range fs {
			row(section, f.Key, strconv.Itoa(f.Targeted), strconv.Itoa(f.Reached), strconv.Itoa(f.Acknowledged),
				rate(f.ReachRate), rate(f.ConfirmRate), num(f.AckMedian), num(f.AckP90), num(f.AckMax))
		}
	}
	figs("overall", r.Overall)
	figs("team", r.Teams...)
	figs("site", r.Sites...)
	figs("role", r.Roles...)
	figs("channel", r.Channels...)
	figs("ack_channel", r.AckChannels...)
	for _, v := range r.Criteria {
		key := fmt.Sprintf("%s %d%% within %s", v.Criterion.Scope, v.Criterion.Percent, time.Duration(v.Criterion.Within))
		row("criterion", key, strconv.Itoa(v.Targeted), strconv.Itoa(v.Needed), strconv.Itoa(v.InTime), rate(v.Rate), v.Result, "", "", "")
	}
	for _, l := range r.Late {
		crit := make([]string, len(l.Criteria))
		for i, n := range l.Criteria {
			crit[i] = strconv.Itoa(n)
		}
		row("late", l.Name, strconv.FormatFloat(l.Seconds, 'f', -1, 64), strconv.FormatBool(l.AfterWindow), strings.Join(crit, ";"), l.At.UTC().Format(time.RFC3339), l.PersonID, "", "", "")
	}
	for _, u := range r.Unreached {
		row("unreached", u.Name, u.Reason, u.Error, strings.Join(u.Channels, ";"), "", u.PersonID, "", "", "")
	}
	for _, a := range r.Hygiene {
		row("hygiene", a.Name, a.Action, a.Detail, "", "", a.PersonID, "", "", "")
	}
	for _, p := range r.Trend {
		row("trend", p.RunID, strconv.Itoa(p.Targeted), when(p.StartedAt), p.Status, rate(p.ReachRate), rate(p.ConfirmRate),
			num(p.AckMedian), fmt.Sprintf("%d/%d", p.CriteriaMet, p.Criteria), "")
	}
	return c.Flush()
}

func rate(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
