package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
)

// importCmd runs `optimum import contacts [-dry-run] FILE`: a CSV or YAML directory,
// all or nothing, as the API's import does.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "contacts" {
		return errors.New("usage: optimum import contacts [-dry-run] FILE.csv|FILE.yaml")
	}
	fs := flag.NewFlagSet("import contacts", flag.ContinueOnError)
	dryRun := fs.Bool("dry-run", false, "report what would change, change nothing")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: optimum import contacts [-dry-run] FILE.csv|FILE.yaml")
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var (
		rows     []contacts.Row
		teams    []contacts.TeamInput
		services []contacts.ServiceInput
		sites    []contacts.SiteInput
	)
	if strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml") {
		var f contacts.File
		f, err = contacts.ParseYAML(data)
		rows, teams, services, sites = f.People, f.Teams, f.Services, f.Sites
	} else {
		rows, err = contacts.ParseCSV(strings.NewReader(string(data)))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cfg, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	dir := contacts.NewDirectory(db.Contacts(), nil)
	if err := dir.EnsureTeams(ctx, cfg.TeamInputs()); err != nil {
		return err
	}
	actor := optimum.Actor{ID: "cli", Name: "optimum import", Role: optimum.RoleAdmin}
	rep, err := dir.Import(optimum.WithActor(ctx, actor), rows, teams, services, *dryRun, sites...)
	if rep.ErrorCount > 0 {
		for _, e := range rep.Errors {
			fmt.Fprintf(stdout, "%s:%d: %s: %s\n", path, e.Line, e.Field, e.Message)
		}
		return fmt.Errorf("%d errors; nothing was imported", rep.ErrorCount)
	}
	if err != nil {
		return err
	}
	verb := "imported"
	if *dryRun {
		verb = "would import (dry run)"
	}
	fmt.Fprintf(stdout, "%s %d rows: %d created, %d updated, %d unchanged; teams created: %v; services changed: %d\n",
		verb, rep.Rows, rep.Created, rep.Updated, rep.Unchanged, rep.TeamsCreated, rep.ServicesChanged)
	return nil
}
