package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// "optimum -h" (and --help, help) prints the commands and starts nothing.
func TestHelpPrintsTheCommands(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help", "help"} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), []string{arg}, func(string) string { return "" }, &out, &errOut); err != nil {
			t.Fatalf("optimum %s: %v", arg, err)
		}
		for _, want := range []string{"usage: optimum [command]", "user create -email E -name N -role R", "serve"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("optimum %s does not say %q:\n%s", arg, want, out.String())
			}
		}
	}
}
