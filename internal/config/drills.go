package config

import (
	"time"

	"github.com/optimum-bcp/optimum/drill"
)

// Drills holds drill plans written in the configuration file (docs/drills.md). They are
// stored at start; a plan edited in the app since keeps the app's version.
type Drills struct {
	Plans []drill.Plan `yaml:"plans"`
	// MinInterval is the shortest time allowed between two scheduled firings of a plan;
	// a schedule firing more often is refused (422 on "schedule"). Default 1h.
	MinInterval Duration `yaml:"min_interval"`
}

func defaultDrills() Drills {
	return Drills{Plans: []drill.Plan{}, MinInterval: Duration(drill.DefaultMinInterval)}
}

func (d Drills) validate(p *problems) {
	if m := time.Duration(d.MinInterval); m < time.Minute || m > 366*24*time.Hour {
		p.add("drills.min_interval", "must be from 1m to 8784h (a year)")
	}
}
