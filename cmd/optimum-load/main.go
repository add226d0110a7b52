// Command optimum-load measures the fan-out of a running OPTIMUM server on this machine: it
// opens many stream connections, declares incidents one at a time, and reports how long
// each declaration takes to reach the last connection.
//
//	optimum-load -url http://127.0.0.1:8080 -token obcp_… -clients 10000 -declares 20
//
// With -rate, declarations are posted at a fixed rate instead (open loop), and the report
// adds deliveries per second and publish errors. `optimum-load bare-hub` serves the
// reference broadcast that the same run is compared with:
//
//	taskset -c 1 optimum-load bare-hub -addr 127.0.0.1:18090 &
//	taskset -c 0 optimum-load -url http://127.0.0.1:18090 -token x -clients 10000 -rate 2 -declares 60
//
// See docs/benchmarks.md. Only loopback addresses may be targeted.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "optimum-load:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "bare-hub" {
		return runBareHub(ctx, args[1:], stdout, stderr)
	}
	opt, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if opt.rate > 0 {
		rep, err := loadAtRate(ctx, opt, stderr)
		if err != nil {
			return err
		}
		if opt.json {
			return rep.writeJSON(stdout)
		}
		rep.writeText(stdout)
		return nil
	}
	rep, err := load(ctx, opt, stderr)
	if err != nil {
		return err
	}
	if opt.json {
		return rep.writeJSON(stdout)
	}
	rep.writeText(stdout)
	return nil
}
