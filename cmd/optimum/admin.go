package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
	"github.com/optimum-bcp/optimum/internal/config"
)

// migrate applies the migrations and exits; serve also does it at start.
func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintln(stdout, "migrations applied to", storeName(cfg))
	return nil
}

// token creates an API token from the command line, e.g. to recover admin access.
func token(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: optimum token create -name NAME -role admin|manager|responder|reporter|scim|integration")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	name := fs.String("name", "", "who or what uses the token")
	role := fs.String("role", "responder", "admin, manager, responder, reporter, scim (an identity provider's SCIM provisioning) or integration")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	_, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	t, secret, err := auth.NewService(db.Auth(), nil).CreateToken(ctx, *name, optimum.Role(*role))
	if err != nil {
		if f := optimum.ErrorFields(err); len(f) > 0 {
			return fmt.Errorf("%s %v", optimum.ErrorMessage(err), f)
		}
		return err
	}
	fmt.Fprintf(stdout, "token %s (%s, %s); shown only now:\n%s\n", t.ID, t.Name, t.Role, secret)
	return nil
}

// stdin is where -password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// user creates a user from the command line. Without -password-stdin it prints a one-time
// link (valid auth.PasswordCodeLifetime) with which the user sets a password; with it, it
// reads the password from the first line of standard input, so it never appears in the
// shell history or the process list.
func user(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: optimum user create -email E -name N -role admin|manager|responder|reporter [-password-stdin]"
	if len(args) == 0 || args[0] != "create" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "the email the user signs in with")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "responder", "admin, manager, responder or reporter (users never have the machine roles scim and integration)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of printing a link")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%v\n%s", err, usage)
	}
	in := auth.UserInput{Email: *email, Name: *name, Role: optimum.Role(*role)}
	if *fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4*auth.MaxPassword+2)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read password: %w", err)
		}
		if in.Password = strings.TrimRight(line, "\r\n"); in.Password == "" {
			return errors.New("-password-stdin: standard input holds no password")
		}
	}
	cfg, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	u, code, err := auth.NewService(db.Auth(), nil).CreateUser(ctx, in)
	if err != nil {
		if f := optimum.ErrorFields(err); len(f) > 0 {
			return fmt.Errorf("%s %v", optimum.ErrorMessage(err), f)
		}
		return err
	}
	fmt.Fprintf(stdout, "user %s (%s, %s) created\n", u.ID, u.Email, u.Role)
	if code != "" {
		fmt.Fprintf(stdout, "one-time link to set the password (valid %v, shown only now):\n%s%s\n",
			auth.PasswordCodeLifetime, strings.TrimSuffix(cfg.Server.PublicURL, "/"), auth.PasswordLinkPath(code))
	}
	return nil
}

// lockoutOf is the sign-in lockout of the configuration.
func lockoutOf(cfg config.Config) auth.Lockout {
	l := cfg.Limits.Lockout
	return auth.Lockout{Threshold: l.After, Base: time.Duration(l.Base), Max: time.Duration(l.Max), AccountThreshold: l.AccountAfter}
}

// healthcheck asks the server on OPTIMUM_ADDR for /healthz; for container health checks,
// where no curl is available.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.Server.Addr)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/healthz", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %s", res.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
