package config

import "time"

// Intake bounds how many declarations the server works on at once. A burst larger than
// the store can commit in time (a thousand at once, a script gone wrong) is answered 429
// with a Retry-After, quickly, instead of piling up until clients time out.
type Intake struct {
	// DeclareInFlight is how many declarations may be at work at once, on each node.
	DeclareInFlight int `yaml:"declare_in_flight"`
	// DeclareWait is how long a declaration may wait for its turn before the 429.
	DeclareWait Duration `yaml:"declare_wait"`
}

// DefaultIntake lets 32 declarations work at once and the next wait up to 2 s.
func DefaultIntake() Intake {
	return Intake{DeclareInFlight: 32, DeclareWait: Duration(2 * time.Second)}
}

func (in Intake) validate(p *problems) {
	if in.DeclareInFlight < 1 || in.DeclareInFlight > 10000 {
		p.add("intake.declare_in_flight", "must be from 1 to 10000, got %d", in.DeclareInFlight)
	}
	if w := time.Duration(in.DeclareWait); w < 0 || w > time.Minute {
		p.add("intake.declare_wait", "must be from 0s to 1m, got %v", w)
	}
}
