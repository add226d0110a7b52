// Command optimum is the OPTIMUM BCP server and its administration commands.
//
//	optimum [serve]                       run the server (the default)
//	optimum migrate                       apply database migrations and exit
//	optimum token create -name N -role R  print a new API token
//	optimum user create -email E -name N -role R [-password-stdin]
//	                                      create a user; print a one-time set-password link
//	optimum healthcheck                   probe the local server's /healthz
//	optimum parked [dismiss C ID]         list (or dismiss) the events consumers gave up on
//	optimum backup FILE                   copy the SQLite database, while it serves, to FILE
//	optimum restore FILE                  restore a backup into an empty data folder
//	optimum version                       print the version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "optimum:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr, nil)
	case "migrate":
		return migrate(ctx, getenv, stdout)
	case "token":
		return token(ctx, args, getenv, stdout)
	case "user":
		return user(ctx, args, getenv, stdout)
	case "import":
		return importCmd(ctx, args, getenv, stdout)
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case "parked":
		return parked(ctx, args, getenv, stdout)
	case "backup":
		return backupCmd(ctx, args, getenv, stdout)
	case "restore":
		return restoreCmd(ctx, args, getenv, stdout)
	case "audit":
		return auditCmd(ctx, args, getenv, stdout)
	case "version":
		fmt.Fprintln(stdout, "optimum", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage: optimum [command]

commands:
  serve                          run the server (default)
  migrate                        apply database migrations and exit
  token create -name N -role R   create an API token (roles: admin, manager, responder, reporter;
                                 integration: a monitoring system sending alerts)
  user create -email E -name N -role R [-password-stdin]
                                 create a user; prints a one-time link to set the password,
                                 or reads the password from standard input
  import contacts [-dry-run] FILE  import the directory from CSV or YAML (all or nothing)
  healthcheck                    exit 0 if the local server answers /healthz (for containers)
  parked [dismiss CONSUMER EVENT_ID]
                                 list the events the log consumers gave up on, or dismiss one
  backup FILE                    write a consistent copy of the SQLite database to FILE, while
                                 the server serves (PostgreSQL: pg_dump, see docs/operations.md)
  restore FILE                   restore a backup into the data folder (OPTIMUM_DATA), which
                                 must be empty
  audit verify [-file EXPORT]    walk the event log's hash chain (or an export of it) and
                                 name the first event that does not match (docs/audit.md)
  version                        print the version

configuration: OPTIMUM_CONFIG (YAML file) and the environment; see configs/optimum.example.yaml
`
