package config

import "github.com/optimum-bcp/optimum/drill"

// Drills holds drill plans written in the configuration file (docs/drills.md). They are
// stored at start; a plan edited in the app since keeps the app's version.
type Drills struct {
	Plans []drill.Plan `yaml:"plans"`
}

func defaultDrills() Drills { return Drills{Plans: []drill.Plan{}} }
