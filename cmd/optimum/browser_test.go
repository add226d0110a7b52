package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestBrowser runs the web app's headless Chromium test (test/browser) against this
// server, started through run like any other end-to-end test. It needs Debian's chromium
// and `npm ci` in test/browser. When OPTIMUM_BROWSER_TESTS=required (as .ci/run sets it),
// anything missing is a failure; otherwise the test is skipped with the reason.
func TestBrowser(t *testing.T) {
	node, chromium, dir, artifacts := browserTools(t)

	// The browser test signs in many times from one address within a minute: lift the
	// per-client sign-in limit, which is not what it tests.
	cfg := filepath.Join(t.TempDir(), "optimum.yaml")
	limits := "limits:\n  sign_in_per_client: {per_minute: 600, burst: 100}\n  sign_in_per_account: {per_minute: 600, burst: 100}\n"
	// A canary whose person is not in the directory: asked for, it fails at once (indicators.test.mjs).
	limits += "canary:\n  schedule: \"0 0 0 1 1 *\"\n  person: canario-navegador@example.com\n  channels: [webpush]\n"
	if err := os.WriteFile(cfg, []byte(limits), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "browser-admin-token-0123456789"
	base, logs := startServer(t, map[string]string{"OPTIMUM_BOOTSTRAP_TOKEN": token, "OPTIMUM_CONFIG": cfg,
		"OPTIMUM_BRIDGE_NUMBER": "+15005550009"}) // bridge: bridge.test.mjs opens one
	// The whole suite takes 4-5 minutes on a quiet machine (axe-core on 28 page states, and
	// the stream test alone waits about 40 s for the board to notice a dead network).
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPTIMUM_URL="+base, "OPTIMUM_TOKEN="+token, "ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("browser test failed: %v\nserver log:\n%s", err, tail(logs.String(), 40))
	}
	// The spec reporter ends with counts; every check must have run and passed.
	if !regexp.MustCompile(`(?m)skipped 0$`).Match(out) || !regexp.MustCompile(`(?m)fail 0$`).Match(out) || regexp.MustCompile(`(?m)pass 0$`).Match(out) {
		t.Fatalf("browser test did not run every check")
	}
}

// browserTools finds node, Chromium and test/browser's modules, or fails (when
// OPTIMUM_BROWSER_TESTS=required) or skips the test with what is missing.
func browserTools(t *testing.T) (node, chromium, dir, artifacts string) {
	t.Helper()
	required := os.Getenv("OPTIMUM_BROWSER_TESTS") == "required"
	missing := func(what string) {
		if required {
			t.Fatalf("browser test required but %s", what)
		}
		t.Skipf("browser test skipped: %s (cd test/browser && npm ci; apt-get install chromium)", what)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(chromium + " is not installed")
	}
	dir, _ = filepath.Abs("../../test/browser")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		missing("test/browser/node_modules is not installed")
	}
	artifacts = os.Getenv("OPTIMUM_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	return node, chromium, dir, artifacts
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}
