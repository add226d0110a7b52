package indicators

import (
	"cmp"
	"slices"
	"time"
)

// maxHourRange is the longest range counted in hour buckets.
const maxHourRange = 31 * 24 * time.Hour

// floor returns the start of the bucket holding t, in loc: local midnight for days, the
// start of the local hour for hours.
func floor(t time.Time, bucket string, loc *time.Location) time.Time {
	l := t.In(loc)
	if bucket == "day" {
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	}
	// Whole-hour offsets are the rule; truncating the local wall clock keeps a zone with a
	// half-hour offset right too.
	return l.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
}

// next returns the start of the bucket after start.
func next(start time.Time, bucket string) time.Time {
	if bucket == "day" {
		return start.AddDate(0, 0, 1) // local calendar day: 23 or 25 hours across DST
	}
	return start.Add(time.Hour)
}

// Buckets returns the starts of the buckets covering [from, to) in loc.
func Buckets(from, to time.Time, bucket string, loc *time.Location) []time.Time {
	var out []time.Time
	for b := floor(from, bucket, loc); b.Before(to); b = next(b, bucket) {
		out = append(out, b)
	}
	return out
}

func (s *Service) overTime(incs []Incident, from, to time.Time, bucket string) OverTime {
	if bucket == "hour" && to.Sub(from) > maxHourRange {
		bucket = "day"
	}
	starts := Buckets(from, to, bucket, s.loc)
	ot := OverTime{Bucket: bucket, Starts: starts, Total: make([]int, len(starts))}
	index := func(t time.Time) int {
		// The last bucket starting at or before t.
		i, found := slices.BinarySearchFunc(starts, t, func(a, b time.Time) int { return a.Compare(b) })
		if !found {
			i--
		}
		return i
	}
	prio, svc, cause := map[string][]int{}, map[string][]int{}, map[string][]int{}
	tally := func(m map[string][]int, key string, i int) {
		if m[key] == nil {
			m[key] = make([]int, len(starts))
		}
		m[key][i]++
	}
	for _, inc := range incs {
		i := index(inc.CreatedAt)
		if i < 0 || i >= len(starts) {
			continue
		}
		ot.Total[i]++
		tally(prio, inc.Priority, i)
		for _, v := range dedupe(inc.Services) {
			tally(svc, v, i)
		}
		for _, v := range dedupe(inc.Causes) {
			tally(cause, v, i)
		}
	}
	ot.ByPriority, ot.ByService, ot.ByCause = series(prio), series(svc), series(cause)
	for i := range starts {
		ot.Starts[i] = starts[i].UTC()
	}
	return ot
}

// series orders the lines by key (P1 before P2; services and causes alphabetically).
func series(m map[string][]int) []Series {
	out := make([]Series, 0, len(m))
	for k, v := range m {
		out = append(out, Series{Key: k, Counts: v})
	}
	slices.SortFunc(out, func(a, b Series) int { return cmp.Compare(a.Key, b.Key) })
	return out
}

func dedupe(v []string) []string {
	seen := map[string]bool{}
	out := v[:0:0]
	for _, s := range v {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
