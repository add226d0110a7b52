package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// -spread divides the clients over the nodes and counts a declaration once every client
// on every node has it. (Both "nodes" are one server here: the division and the merging
// of the results are what is tested; cmd/optimum's multi-node tests run real nodes.)
func TestLoadSpreadsTheClientsOverSeveralNodes(t *testing.T) {
	base, token := startServer(t)
	var out, errOut bytes.Buffer
	args := []string{"-url", base, "-spread", base, "-token", token, "-clients", "21", "-declares", "2", "-interval", "0", "-json"}
	if err := run(context.Background(), args, noenv, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	var rep struct {
		URL                 string
		Clients, Deliveries int
		Missing             int
		Last                map[string]float64 `json:"last_ms"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Clients != 21 || rep.Deliveries != 42 || rep.Missing != 0 || rep.Last["max"] <= 0 {
		t.Errorf("report %+v, want 21 clients, 42 deliveries, none missing", rep)
	}
	if strings.Count(rep.URL, "/api/v1/stream") != 2 {
		t.Errorf("report url %q does not name both nodes", rep.URL)
	}
}

func TestLoadRefusesToSpreadOverANonLoopbackNode(t *testing.T) {
	err := run(context.Background(), []string{"-url", "http://127.0.0.1:1", "-token", "x", "-spread", "http://10.0.0.5:8080"}, noenv, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "-spread") {
		t.Errorf("got %v, want -spread refused", err)
	}
}
