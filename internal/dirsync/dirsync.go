// Package dirsync is the scheduled "replace" import of the directory from a CSV at an
// HTTPS URL (an HR system's export): whoever the file lists is created or updated, every
// active person it no longer lists is deactivated (never deleted), all or nothing
// (contacts.Directory.ReplaceImport). A sync that would deactivate more than the allowed
// share of the active people is refused, changing nothing: the refusal is an event in the
// log, /readyz shows it, and the admins are alerted.
package dirsync

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/contacts"
	"github.com/optimum-bcp/optimum/internal/netguard"
)

// MaxFile is the largest CSV a sync downloads.
const MaxFile = 32 << 20

// Actor is who the changes of a sync are recorded as.
var Actor = optimum.Actor{ID: "system:directory-sync", Name: "OPTIMUM (sincronización del directorio)", Role: optimum.RoleAdmin}

// Statuses of a sync.
const (
	StatusOK      = "ok"
	StatusRefused = "refused" // it would have deactivated too many people
	StatusFailed  = "failed"  // the file could not be fetched or read, or had errors
)

// Result is what one sync did.
type Result struct {
	At     time.Time               `json:"at"`
	Status string                  `json:"status"`
	Detail string                  `json:"detail"`
	Report *contacts.ReplaceReport `json:"report,omitempty"`
}

// Store keeps the syncs, so that several nodes run each scheduled sync once and every node
// shows the last one (internal/store).
type Store interface {
	// Claim records a new sync for its slot; false when another node has that slot.
	Claim(ctx context.Context, id string, slot time.Time, owner string, at time.Time) (bool, error)
	// Finish records how a claimed sync went.
	Finish(ctx context.Context, id string, r Result) error
	// Last returns the newest finished sync, nil before the first.
	Last(ctx context.Context) (*Result, error)
}

// Options configure a Syncer.
type Options struct {
	// Authorization, when set, is the download's Authorization header.
	Authorization string
	// Store keeps the syncs; nil keeps the last one in memory (one node).
	Store Store
	// Owner names this node in the store.
	Owner      string
	URL        string
	MaxPercent float64
	// Client fetches the URL; it must be the outbound guard's (netguard.Policy.Client).
	Client *http.Client
	// Alert tells the admins that a sync was refused or failed; key is the same for the
	// same refusal (the same file), so a repeated one pages once.
	Alert  func(ctx context.Context, title, detail, key string)
	Logger *slog.Logger
	Now    func() time.Time
}

// Syncer runs syncs and remembers the last one.
type Syncer struct {
	dir *contacts.Directory
	opt Options

	mu   sync.Mutex
	last *Result
}

// New returns a Syncer.
func New(dir *contacts.Directory, opt Options) *Syncer {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Alert == nil {
		opt.Alert = func(context.Context, string, string, string) {}
	}
	return &Syncer{dir: dir, opt: opt}
}

// Tick runs the sync scheduled at slot, unless another node claimed it.
func (s *Syncer) Tick(ctx context.Context, slot time.Time) {
	s.claimAndRun(ctx, slot)
}

// Run downloads the file and syncs the directory with it now (with dryRun, it only
// reports what it would do, and is not recorded).
func (s *Syncer) Run(ctx context.Context, dryRun bool) Result {
	if dryRun {
		res := s.run(optimum.WithActor(ctx, Actor), true)
		res.At = s.opt.Now().UTC()
		return res
	}
	res, _ := s.claimAndRun(ctx, s.opt.Now())
	return res
}

// claimAndRun claims slot, runs the sync and records it; ran is false when another node
// has the slot.
func (s *Syncer) claimAndRun(ctx context.Context, slot time.Time) (res Result, ran bool) {
	ctx = optimum.WithActor(ctx, Actor)
	id := optimum.NewID("dsy")
	if s.opt.Store != nil {
		ok, err := s.opt.Store.Claim(ctx, id, slot.UTC().Truncate(time.Millisecond), s.opt.Owner, s.opt.Now().UTC())
		if err != nil {
			s.opt.Logger.Error("directory sync: claim", "err", err)
			return Result{At: s.opt.Now().UTC(), Status: StatusFailed, Detail: "the sync could not be recorded"}, false
		}
		if !ok {
			return Result{}, false
		}
	}
	res = s.run(ctx, false)
	res.At = s.opt.Now().UTC()
	if s.opt.Store != nil {
		if err := s.opt.Store.Finish(context.WithoutCancel(ctx), id, res); err != nil {
			s.opt.Logger.Error("directory sync: record", "err", err)
		}
	}
	s.mu.Lock()
	s.last = &res
	s.mu.Unlock()
	return res, true
}

func (s *Syncer) run(ctx context.Context, dryRun bool) Result {
	data, err := s.fetch(ctx)
	if err != nil {
		return s.failed(ctx, dryRun, "the file could not be downloaded: "+err.Error(), "")
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:8])
	rows, err := contacts.ParseCSV(bytesReader(data))
	if err != nil {
		return s.failed(ctx, dryRun, "the file is not a directory CSV: "+err.Error(), key)
	}
	rep, err := s.dir.ReplaceImport(ctx, rows, s.opt.MaxPercent, dryRun, "directory_sync")
	var refused *contacts.SyncRefusedError
	switch {
	case errors.As(err, &refused):
		detail := refused.Error()
		s.opt.Logger.Error("directory sync refused", "would_deactivate", refused.WouldDeactivate, "active", refused.Active, "percent", refused.Percent, "max_percent", refused.MaxPercent)
		if !dryRun {
			s.opt.Alert(ctx, "Sincronización del directorio rechazada",
				fmt.Sprintf("La sincronización programada del directorio desactivaría a %d de %d personas activas (%.1f %%, más del %.1f %% permitido); no se cambió nada. Revisa el archivo de origen. "+
					"The scheduled directory sync would deactivate %d of %d active people; nothing was changed. Check the source file.",
					refused.WouldDeactivate, refused.Active, refused.Percent, refused.MaxPercent, refused.WouldDeactivate, refused.Active),
				"directory-sync-refused:"+key)
		}
		return Result{Status: StatusRefused, Detail: detail}
	case err != nil:
		detail := optimum.ErrorMessage(err)
		if n := len(rep.Errors); n > 0 {
			e := rep.Errors[0]
			detail += fmt.Sprintf(" First: line %d, %s: %s", e.Line, e.Field, e.Message)
		}
		return s.failed(ctx, dryRun, detail, key)
	}
	s.opt.Logger.Info("directory sync", "dry_run", dryRun, "created", rep.Created, "updated", rep.Updated, "deactivated", rep.Deactivated, "unchanged", rep.Unchanged)
	return Result{Status: StatusOK, Detail: fmt.Sprintf("%d created, %d updated, %d deactivated, %d unchanged", rep.Created, rep.Updated, rep.Deactivated, rep.Unchanged), Report: &rep}
}

func (s *Syncer) failed(ctx context.Context, dryRun bool, detail, key string) Result {
	s.opt.Logger.Error("directory sync failed", "err", detail)
	if !dryRun {
		if key == "" {
			key = s.opt.Now().UTC().Format("2006-01-02")
		}
		s.opt.Alert(ctx, "Falló la sincronización del directorio",
			"La sincronización programada del directorio falló; no se cambió nada. The scheduled directory sync failed; nothing was changed: "+detail,
			"directory-sync-failed:"+key)
	}
	return Result{Status: StatusFailed, Detail: detail}
}

func (s *Syncer) fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opt.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/csv")
	if s.opt.Authorization != "" {
		req.Header.Set("Authorization", s.opt.Authorization)
	}
	resp, err := s.opt.Client.Do(req)
	if err != nil {
		return nil, netguard.Public(err) // says what failed, not the addresses it tried
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFile {
		return nil, fmt.Errorf("the file is larger than %d MiB", MaxFile>>20)
	}
	return data, nil
}

// Last returns the last sync that was not a dry run (of any node, with a Store), nil
// before the first.
func (s *Syncer) Last(ctx context.Context) (*Result, error) {
	if s.opt.Store != nil {
		return s.opt.Store.Last(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		return nil, nil
	}
	r := *s.last
	return &r, nil
}

// Concerns are the reasons /readyz shows while the last sync was refused or failed.
func (s *Syncer) Concerns(ctx context.Context) []string {
	last, err := s.Last(ctx)
	if err != nil {
		return nil
	}
	if last == nil || last.Status == StatusOK {
		return nil
	}
	return []string{"the last directory sync (" + last.At.Format(time.RFC3339) + ") was " + last.Status + "; nothing was changed"}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
