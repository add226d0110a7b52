package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/indicators"
	"github.com/optimum-bcp/optimum/internal/csvsafe"
)

// indicatorsReport handles GET /api/v1/indicators?from=&to=&priority=&service=&team=&site=&bucket=.
func (s *Server) indicatorsReport(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.computeIndicators(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// indicatorsTable handles GET /api/v1/indicators/{table}.csv: one table of the report as
// CSV, with the same parameters.
func (s *Server) indicatorsTable(w http.ResponseWriter, r *http.Request) error {
	name, ok := strings.CutSuffix(r.PathValue("table"), ".csv")
	if !ok {
		return optimum.Errorf(optimum.ENOTFOUND, "Indicator tables are CSV files: add .csv to %q.", truncateText(r.PathValue("table"), 40))
	}
	rep, err := s.computeIndicators(r)
	if err != nil {
		return err
	}
	rows, ok := rep.Table(name)
	if !ok {
		return optimum.Errorf(optimum.ENOTFOUND, "There is no indicator table %q; the tables are %s.", truncateText(name, 40), strings.Join(indicators.Tables, ", "))
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="indicadores-%s-%s.csv"`, name, rep.From.In(s.Indicators.Location()).Format("20060102")))
	cw := csvsafe.NewWriter(w)
	for _, row := range rows {
		if err := cw.Write(row); err != nil {
			return nil // the client went away; the status is already sent
		}
	}
	_ = cw.Flush()
	return nil
}

func (s *Server) computeIndicators(r *http.Request) (indicators.Report, error) {
	q, err := parseIndicatorQuery(r, s.Indicators.Now(), s.Indicators.Location())
	if err != nil {
		return indicators.Report{}, err
	}
	// Per site, incidents count under the directory's sites (docs/sites.md); a viewer
	// limited to teams and sites sees their figures only (docs/security.md, "Roles").
	if q.KnownSites, err = s.Directory.Sites(r.Context()); err != nil {
		return indicators.Report{}, err
	}
	q.Scope = scoped(r.Context())
	return s.Indicators.Compute(r.Context(), q)
}

// parseIndicatorQuery reads the parameters. from and to are RFC 3339 times or dates
// (YYYY-MM-DD) in the configured time zone: a date as from is the start of that day, as
// to the end of it. Without to the range ends now; without from it starts seven days
// before its end. An unknown parameter is refused rather than ignored.
func parseIndicatorQuery(r *http.Request, now time.Time, loc *time.Location) (indicators.Query, error) {
	var (
		q        indicators.Query
		problems []optimum.FieldError
	)
	add := func(field, format string, args ...any) {
		problems = append(problems, optimum.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	for key, values := range r.URL.Query() {
		v := strings.TrimSpace(values[len(values)-1])
		switch key {
		case "from", "to":
			if v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				d, derr := time.ParseInLocation(time.DateOnly, v, loc)
				if derr != nil {
					add(key, "%q is not a time: use RFC 3339 (2026-11-02T09:00:00-06:00) or a date (2026-11-02).", truncateText(v, 40))
					continue
				}
				if t = d; key == "to" {
					t = d.AddDate(0, 0, 1)
				}
			}
			if key == "from" {
				q.From = t
			} else {
				q.To = t
			}
		case "priority":
			var lp queryProblems
			for _, p := range listParam(key, values, &lp) {
				q.Priorities = append(q.Priorities, strings.ToUpper(p))
			}
			problems = append(problems, lp.list...)
		case "service":
			q.Service = v
		case "team":
			q.Team = strings.ToLower(v)
		case "site": // docs/sites.md
			q.Site = v
		case "bucket":
			q.Bucket = strings.ToLower(v)
		default:
			add(truncateText(key, 40), "%q is not a filter of the indicators; use from, to, priority, service, team, site or bucket.", truncateText(key, 40))
		}
	}
	if err := optimum.Invalid("The indicators query is not valid.", capped(problems)); err != nil {
		return q, err
	}
	if q.To.IsZero() {
		q.To = now
	}
	if q.From.IsZero() {
		q.From = q.To.Add(-indicators.DefaultRange)
	}
	return q, nil
}
