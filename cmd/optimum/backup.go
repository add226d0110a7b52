package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/optimum-bcp/optimum"
	"github.com/optimum-bcp/optimum/broadcast/webpush"
	"github.com/optimum-bcp/optimum/internal/config"
	"github.com/optimum-bcp/optimum/internal/store"
)

// backupCmd writes a consistent copy of the SQLite database, while servers serve, to
// FILE (see docs/operations.md). On PostgreSQL it points to pg_dump instead.
func backupCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := sqliteFileCommand(args, getenv, "usage: optimum backup FILE",
		"backup: the database is PostgreSQL; back it up with pg_dump (see docs/operations.md, \"Backups\")")
	if err != nil {
		return err
	}
	// The files of the data folder the database needs beside it: the generated VAPID keys,
	// without which every browser's push subscription would have to be made again.
	files := map[string][]byte{}
	keys, err := os.ReadFile(filepath.Join(cfg.Server.DataDir, webpush.KeysFile))
	switch {
	case err == nil:
		files[webpush.KeysFile] = keys
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("backup: %w", err)
	}
	info, err := store.BackupSQLite(ctx, cfg.SQLitePath(), args[0], files)
	if err != nil {
		return plainError(err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %s\n", storeName(cfg), args[0], describeBackup(info))
	return nil
}

// restoreCmd restores a backup made by backupCmd into the configured data folder, which
// must be empty (or absent).
func restoreCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cfg, err := sqliteFileCommand(args, getenv, "usage: optimum restore FILE   (into the data folder OPTIMUM_DATA, which must be empty)",
		"restore: the database is PostgreSQL; restore a pg_dump archive with pg_restore (see docs/operations.md, \"Backups\")")
	if err != nil {
		return err
	}
	info, err := store.RestoreSQLite(ctx, args[0], cfg.Server.DataDir, filepath.Base(cfg.SQLitePath()))
	if err != nil {
		return plainError(err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %s; start the server on it\n", args[0], cfg.Server.DataDir, describeBackup(info))
	return nil
}

// sqliteFileCommand checks what backup and restore both take, one FILE argument and an
// SQLite store, and returns the configuration; usage and onPostgres are its refusals.
func sqliteFileCommand(args []string, getenv func(string) string, usage, onPostgres string) (config.Config, error) {
	if len(args) != 1 || args[0] == "" || strings.HasPrefix(args[0], "-") {
		return config.Config{}, errors.New(usage)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, err
	}
	if cfg.Database.URL != "" {
		return cfg, errors.New(onPostgres)
	}
	return cfg, nil
}

func describeBackup(info store.BackupInfo) string {
	s := fmt.Sprintf("%d events (last id %d), schema %s, %d KiB, taken at %s", info.Events, info.LastEventID, info.Schema,
		(info.Bytes+1023)/1024, info.CreatedAt.Format("2006-01-02 15:04:05Z"))
	if len(info.Files) > 0 {
		s += ", with " + strings.Join(info.Files, ", ")
	}
	return s
}

// plainError turns an application error into its message alone, for the command line.
func plainError(err error) error {
	if c := optimum.ErrorCode(err); c != optimum.EINTERNAL && c != "" {
		return errors.New(optimum.ErrorMessage(err))
	}
	return err
}
