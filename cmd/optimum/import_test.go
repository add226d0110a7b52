package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportContactsCommand(t *testing.T) {
	data := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"OPTIMUM_DATA": data, "OPTIMUM_CONFIG": "../../configs/optimum.example.yaml"}[k]
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"import", "contacts", "../../configs/contacts.example.yaml"}, getenv, &out, &out)
	if err != nil || !strings.Contains(out.String(), "5 created") {
		t.Fatalf("import = %v %q", err, out.String())
	}
	out.Reset()
	err = run(context.Background(), []string{"import", "contacts", "../../configs/contacts.example.yaml"}, getenv, &out, &out)
	if err != nil || !strings.Contains(out.String(), "5 unchanged") {
		t.Errorf("re-import = %v %q", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("name,email,phone,language,teams,manager_email\nAna,ana@x.com,12,es,,\n"), 0o600)
	out.Reset()
	err = run(context.Background(), []string{"import", "contacts", bad}, getenv, &out, &out)
	if err == nil || !strings.Contains(out.String(), "bad.csv:2: phone") {
		t.Errorf("bad file = %v %q", err, out.String())
	}
}
