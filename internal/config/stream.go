package config

import "time"

// Stream tunes the live stream, GET /api/v1/stream.
type Stream struct {
	// MaxPerToken and MaxPerUser cap the open streams of one API token (with its
	// browser sessions) and of one signed-in user, on each node. The cap is per
	// credentials, never per address: a whole office's boards behind one NAT address may
	// each use their own. A stream over the cap is closed with code 4429 and a reason.
	MaxPerToken int `yaml:"max_per_token"`
	MaxPerUser  int `yaml:"max_per_user"`
	// Heartbeat is the longest an idle stream goes without a frame: it then gets
	// {"type":"stream.heartbeat","id":…}, so a board can tell a quiet stream from a
	// dead connection (the web app reconnects after 35 s without a frame). At most 15 s.
	Heartbeat Duration `yaml:"heartbeat"`
	// Coalesce is how long a node waits, once told of a new event, for more before it
	// writes to the streams: a declaration and the escalation's events about it then reach
	// each board in one write instead of two or three, which is most of the cost of a
	// delivery. It delays each event by up to that much. 0 writes at once; at most 50ms.
	Coalesce Duration `yaml:"coalesce"`
}

// DefaultStream caps a token at 2,000 streams (a wall of boards sharing one read-only
// token) and a user at 50 (their browsers and tabs), with a heartbeat every 10 s, and
// gathers events appended within 3 ms into one write.
func DefaultStream() Stream {
	return Stream{MaxPerToken: 2000, MaxPerUser: 50, Heartbeat: Duration(10 * time.Second), Coalesce: Duration(3 * time.Millisecond)}
}

func (s Stream) validate(p *problems) {
	if s.MaxPerToken < 1 || s.MaxPerToken > 1_000_000 {
		p.add("stream.max_per_token", "must be from 1 to 1000000, got %d", s.MaxPerToken)
	}
	if s.MaxPerUser < 1 || s.MaxPerUser > 1_000_000 {
		p.add("stream.max_per_user", "must be from 1 to 1000000, got %d", s.MaxPerUser)
	}
	if c := time.Duration(s.Coalesce); c < 0 || c > 50*time.Millisecond {
		p.add("stream.coalesce", "must be from 0 to 50ms, got %v", c)
	}
	if h := time.Duration(s.Heartbeat); h < 100*time.Millisecond || h > 15*time.Second {
		p.add("stream.heartbeat", "must be from 100ms to 15s (the contract: a heartbeat at least every 15 s), got %v", h)
	}
}
