package broadcast

// Lanes: when a channel is the bottleneck (SMS at the provider's rate, a few calls a
// second), what goes first is decided by the delivery's lane, then by its turn within
// the lane. A lower lane is claimed first:
//
//   - every real incident before every drill or canary (a rehearsal never holds back a
//     crisis);
//   - within each, P1 before P2 … before P5;
//   - within a priority, the people a ladder step targets (leads, directors), reminders
//     and notices to one person before the general audience's first alert.
//
// Within a lane, turns interleave the incidents that share it (round robin, see the
// store's enqueue), so one big alert does not hold back a small one of the same kind.
const (
	laneDrill    = DrillLanes // added to drills and canaries
	lanePriority = 10         // times the priority's number (P1 = 1 … P5 = 5)
	laneAudience = 1          // added to the general audience's first alert
)

// DrillLanes is the first lane of drills and canaries: a delivery with a lane at least
// this is rehearsal traffic (kept apart in metrics).
const DrillLanes = 100

// LaneOf returns the lane of a delivery about an incident of priority ("P1" … "P5";
// anything else counts as P5), drill or not, to the general audience (audience) or to
// someone in particular.
func LaneOf(priority string, drill, audience bool) int {
	p := 5
	if len(priority) == 2 && (priority[0] == 'P' || priority[0] == 'p') && priority[1] >= '1' && priority[1] <= '5' {
		p = int(priority[1] - '0')
	}
	lane := p * lanePriority
	if drill {
		lane += laneDrill
	}
	if audience {
		lane += laneAudience
	}
	return lane
}
