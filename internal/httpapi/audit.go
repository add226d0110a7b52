package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/internal/audit"
)

// AuditLog is the event log's hash chain as the API exports it (store.DB).
type AuditLog interface {
	AuditExport(ctx context.Context, from, to time.Time, head func(audit.Export) error, fn func(audit.ExportedEvent) error) (audit.Export, error)
}

// auditExport handles GET /api/v1/audit/export?from=…&to=… (admin): the events of the
// period [from, to) with the chain's anchors, for an auditor to check offline
// (docs/audit.md). from and to are RFC 3339 times or dates (YYYY-MM-DD, UTC midnight).
// The answer is streamed: a year of events is never held in memory.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) error {
	var p queryProblems
	q := r.URL.Query()
	for k := range q {
		if k != "from" && k != "to" {
			p.add(k, "is not a parameter of the audit export (from, to)")
		}
	}
	when := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			p.add(name, "is required: an RFC 3339 time or a date (YYYY-MM-DD)")
			return time.Time{}
		}
		for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
			if t, err := time.Parse(layout, v); err == nil {
				return t.UTC()
			}
		}
		p.add(name, "must be an RFC 3339 time or a date (YYYY-MM-DD)")
		return time.Time{}
	}
	from, to := when("from"), when("to")
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		p.add("to", "must be after from")
	}
	if err := p.err("The audit export query has errors."); err != nil {
		return err
	}
	if s.Audit == nil {
		return optimum.Errorf(optimum.EUNAVAILABLE, "The audit export is not available on this server.")
	}
	var (
		enc     *json.Encoder
		started bool
		n       int
	)
	x, err := s.Audit.AuditExport(r.Context(), from, to, func(x audit.Export) error {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Disposition", `attachment; filename="optimum-audit-`+from.Format("20060102T150405Z")+`-`+to.Format("20060102T150405Z")+`.json"`)
		w.WriteHeader(http.StatusOK)
		started = true
		enc = json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		head := struct {
			Algorithm     string     `json:"algorithm"`
			From          time.Time  `json:"from"`
			To            time.Time  `json:"to"`
			ChainStartsAt int64      `json:"chain_starts_at"`
			Anchor        audit.Link `json:"anchor"`
		}{x.Algorithm, x.From, x.To, x.ChainStartsAt, x.Anchor}
		b, err := json.Marshal(head)
		if err != nil {
			return err
		}
		_, err = w.Write(append(b[:len(b)-1], `,"events":[`...))
		return err
	}, func(e audit.ExportedEvent) error {
		if n > 0 {
			if _, err := w.Write([]byte{','}); err != nil {
				return err
			}
		}
		n++
		return enc.Encode(e)
	})
	if err != nil {
		if !started {
			return err
		}
		// The status is sent: cut the document short, so that it does not parse.
		s.Logger.Error("audit export: cut short", "err", err)
		_, _ = w.Write([]byte(`"error"`))
		return nil
	}
	head, _ := json.Marshal(x.Head)
	_, _ = w.Write(append(append([]byte(`],"head":`), head...), "}\n"...))
	return nil
}
