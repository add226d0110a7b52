package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/optimum-bcp/optimum/internal/audit"
)

// auditCmd is `optimum audit verify [-file EXPORT]`: it walks the event log's hash chain
// (or checks an export of it, offline) and names the first event that does not match.
// A broken chain is an error: the exit status is 1.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: optimum audit verify [-file EXPORT.json]"
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("file", "", "check an export (GET /api/v1/audit/export) instead of the database")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
		return fmt.Errorf("%s", usage)
	}
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := audit.VerifyExport(f)
		if err != nil {
			var b *audit.Break
			if errors.As(err, &b) {
				return fmt.Errorf("the export's chain is broken at event %d (%s) after %d events that match: %s", b.EventID, b.Type, n, b.Reason)
			}
			return err
		}
		fmt.Fprintf(stdout, "the export's chain holds: %d events checked\n", n)
		return nil
	}
	cfg, db, err := openConfigured(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.VerifyChain(ctx)
	if err != nil {
		return err
	}
	if r.Broken != nil {
		return fmt.Errorf("the audit chain of %s is broken at event %d (%s) after %d events that match: %s",
			storeName(cfg), r.Broken.EventID, r.Broken.Type, r.Checked, r.Broken.Reason)
	}
	fmt.Fprintf(stdout, "the audit chain of %s holds: %d events checked, from event %d to event %d (head hash %s); %d events are older than the chain\n",
		storeName(cfg), r.Checked, r.StartsAt, r.Head.ID, r.Head.Hash, r.Before)
	return nil
}
