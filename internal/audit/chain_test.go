package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/optimum-bcp/optimum/internal/audit"
)

// The algorithm of docs/audit.md, written out by hand for one event: a change to Hash
// that is not a change to the documentation fails here.
func TestHashIsTheDocumentedAlgorithm(t *testing.T) {
	inc := "inc_1"
	e := audit.Event{ID: 42, Type: "incident.declared", At: 1764000000000, IncidentID: &inc,
		Actor: []byte(`{"id":"tok_1"}`), Incident: nil, Data: []byte{}}
	text := "optimum-audit-v1\n" + audit.Genesis + "\n" +
		"2:42\n" + "17:incident.declared\n" + "13:1764000000000\n" + "5:inc_1\n" + `14:{"id":"tok_1"}` + "\n" + "-\n" + "0:\n"
	sum := sha256.Sum256([]byte(text))
	if got, want := audit.Hash(audit.Genesis, e), hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("Hash = %s, want %s (the documented algorithm)", got, want)
	}
	// NULL and empty are different; so are two fields that only trade bytes.
	e2 := e
	e2.Data = nil
	if audit.Hash(audit.Genesis, e) == audit.Hash(audit.Genesis, e2) {
		t.Error("an empty text and NULL hash the same")
	}
	e3 := e
	e3.Actor, e3.Incident = []byte(`{"id":"tok_`), []byte(`1"}`)
	if audit.Hash(audit.Genesis, e) == audit.Hash(audit.Genesis, e3) {
		t.Error("moving bytes between fields keeps the hash")
	}
}

// chainOf makes an export of n chained events starting at event 1.
func chainOf(n int) audit.Export {
	x := audit.Export{Algorithm: audit.Algorithm, ChainStartsAt: 1, Anchor: audit.Link{Hash: audit.Genesis}}
	prev := audit.Genesis
	for i := 1; i <= n; i++ {
		data := `{"n":` + strings.Repeat("1", i) + `}`
		ex := audit.ExportedEvent{ID: int64(i), Type: "incident.updated", At: int64(1764000000000 + i), Data: &data}
		h := audit.Hash(prev, ex.Event())
		p := prev
		ex.PrevHash, ex.Hash = &p, &h
		x.Events = append(x.Events, ex)
		prev = h
		x.Head = audit.Link{ID: int64(i), Hash: h}
	}
	return x
}

func verify(t *testing.T, x audit.Export) (int64, error) {
	t.Helper()
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return audit.VerifyExport(bytes.NewReader(b))
}

func TestAnExportIsCheckedOffline(t *testing.T) {
	if n, err := verify(t, chainOf(5)); err != nil || n != 5 {
		t.Fatalf("an untouched export = %d, %v", n, err)
	}
	broken := func(x audit.Export, want int64, reason string) {
		t.Helper()
		_, err := verify(t, x)
		var b *audit.Break
		if !errors.As(err, &b) || b.EventID != want || !strings.Contains(b.Reason, reason) {
			t.Errorf("got %v, want a break at event %d (%s)", err, want, reason)
		}
	}
	x := chainOf(5)
	edited := `{"n":"changed"}`
	x.Events[2].Data = &edited
	broken(x, 3, "content was changed")

	x = chainOf(5)
	x.Events = append(x.Events[:1], x.Events[2:]...) // event 2 removed
	broken(x, 3, "does not follow event 1")

	x = chainOf(5)
	rehashed := audit.Hash(*x.Events[1].PrevHash, audit.Event{ID: 2, Type: "incident.updated", At: x.Events[1].At, Data: []byte(`{"n":0}`)})
	d := `{"n":0}`
	x.Events[1].Data, x.Events[1].Hash = &d, &rehashed // edited and re-hashed: the next one no longer follows
	broken(x, 3, "does not follow event 2")

	x = chainOf(5)
	x.Events[3].Hash = nil
	broken(x, 4, "has no hash")

	x = chainOf(3)
	x.Head.Hash = audit.Genesis
	if _, err := verify(t, x); err == nil || !strings.Contains(err.Error(), "head") {
		t.Errorf("a wrong head = %v", err)
	}
}
