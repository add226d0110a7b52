package httpapi

import (
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum/internal/config"
)

// meta handles GET /api/v1/meta: what the web app needs to build its forms — the teams,
// the levels, the priority matrix and the SLA targets.
func (s *Server) meta(w http.ResponseWriter, r *http.Request) error {
	type sla struct {
		Ack     int64 `json:"acknowledge_seconds"`
		Resolve int64 `json:"resolve_seconds"`
	}
	type team struct {
		ID   string            `json:"id"`
		Name map[string]string `json:"name"`
	}
	cfg := s.Config
	dir, err := s.Directory.Teams(r.Context())
	if err != nil {
		return err
	}
	teams := make([]team, 0, len(dir))
	for _, t := range dir {
		if t.Active {
			teams = append(teams, team{ID: t.ID, Name: map[string]string{"es": t.NameES, "en": t.NameEN}})
		}
	}
	// Sites (sites.go): the declare form offers them and the board names them.
	type site struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		City string `json:"city"`
	}
	dirSites, err := s.Directory.Sites(r.Context())
	if err != nil {
		return err
	}
	sites := make([]site, 0, len(dirSites))
	for _, st := range dirSites {
		if st.Active {
			sites = append(sites, site{st.ID, st.Name, st.City})
		}
	}
	slas := map[string]sla{}
	for p, v := range cfg.Incident.SLA {
		slas[p] = sla{int64(time.Duration(v.Acknowledge) / time.Second), int64(time.Duration(v.Resolve) / time.Second)}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"teams":         teams,
		"default_teams": cfg.Incident.DefaultTeams,
		"levels":        config.Levels,
		"matrix":        cfg.Incident.Matrix,
		"sla":           slas,
		"time_zone":     cfg.TimeZone,
		"sites":         sites,
	})
	return nil
}
