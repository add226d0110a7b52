package escalation

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultTick is the engine's cron spec: every second (seconds field first), so a step
// becomes due within a second of its time.
const DefaultTick = "* * * * * *"

var specParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec checks a cron spec with a seconds field ("*/5 * * * * *", "@every 2s"). The
// library panics on some malformed specs ("TZ=UTC" alone), so the panic is an error here.
func ParseSpec(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q is not a cron spec: %v", spec, r)
		}
	}()
	if _, err := specParser.Parse(spec); err != nil {
		return fmt.Errorf("%q is not a cron spec with seconds such as \"* * * * * *\": %w", spec, err)
	}
	return nil
}

// Schedule calls tick on the cron spec, in loc, until ctx is done, then waits for a
// running tick to end. Cron only triggers: the work and its state are in the database.
// Overlapping runs are skipped, and a panic in a tick is logged and the next tick still
// runs (Recover sits inside SkipIfStillRunning: the other order never runs again after
// a panic, robfig/cron#366). Timers tick in any zone alike; loc only matters for
// wall-clock specs, where DST skips or repeats a time.
func Schedule(ctx context.Context, spec string, loc *time.Location, log *slog.Logger, tick func(context.Context)) error {
	if err := ParseSpec(spec); err != nil {
		return err
	}
	l := cronLogger{log}
	c := cron.New(cron.WithParser(specParser), cron.WithLocation(loc), cron.WithLogger(l),
		cron.WithChain(cron.SkipIfStillRunning(l), cron.Recover(l)))
	if _, err := c.AddFunc(spec, func() { tick(ctx) }); err != nil {
		return err
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	return nil
}

// cronLogger adapts slog to cron's logr-style logger; its Info is debug-level noise.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
