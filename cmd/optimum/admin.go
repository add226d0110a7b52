package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/auth"
)

// migrate applies the migrations and exits; serve also does it at start.
func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
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
		return fmt.Errorf("usage: optimum token create -name NAME -role admin|manager|responder|reporter")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	name := fs.String("name", "", "who or what uses the token")
	role := fs.String("role", "responder", "admin, manager, responder or reporter")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
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
