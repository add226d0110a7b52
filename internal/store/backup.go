package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/optimum-bcp/optimum"
)

// A backup is one SQLite file: a consistent copy of the database (VACUUM INTO, taken in
// one read transaction, so it is a snapshot of the last commit before it began, while
// writers go on) plus a table optimum_backup that marks it as a backup and carries the
// few files of the data folder the database needs beside it (the generated VAPID keys).
// A restore checks the file, copies it into an empty data folder as the database, drops
// that table and writes the files back.

// backupFormat names the layout of optimum_backup; a restore refuses any other.
const backupFormat = "optimum-backup-1"

// sqliteMagic starts every SQLite database file.
var sqliteMagic = []byte("SQLite format 3\x00")

// BackupInfo describes a backup just written or about to be restored.
type BackupInfo struct {
	Schema      string    // the newest migration recorded in it
	Events      int64     // events in its log
	LastEventID int64     // the newest event id, 0 for an empty log
	CreatedAt   time.Time // when the copy began (its snapshot is of that moment or later)
	Bytes       int64     // size of the backup file
	Files       []string  // data-folder files carried in it
}

// BackupSQLite writes to dest a consistent copy of the SQLite database at dbPath, which
// running servers may be writing to, with files (name → content, names without folders)
// carried along. dest must not exist: a backup never overwrites a file. The copy is
// written beside dest and renamed once complete and synced, so dest is either a whole
// backup or absent.
func BackupSQLite(ctx context.Context, dbPath, dest string, files map[string][]byte) (BackupInfo, error) {
	if _, err := os.Stat(dbPath); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: no database at %s: %w", dbPath, err)
	}
	if _, err := os.Lstat(dest); err == nil {
		return BackupInfo{}, fmt.Errorf("backup: %s already exists; a backup never overwrites a file, choose another name", dest)
	}
	for name := range files {
		if err := checkCarriedName(name); err != nil {
			return BackupInfo{}, fmt.Errorf("backup: %w", err)
		}
	}
	src, err := sql.Open("sqlite", "file:"+filepath.ToSlash(dbPath)+"?"+url.Values{"mode": {"rw"}, "_pragma": {"busy_timeout(10000)"}}.Encode())
	if err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	defer src.Close()
	if err := isOptimumDB(ctx, src); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %s: %w", dbPath, err)
	}
	tmp := filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-"+randomSuffix())
	defer os.Remove(tmp)
	began := time.Now().UTC()
	if _, err := src.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(tmp, "'", "''")+"'"); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: copy the database: %w", err)
	}
	if err := markBackup(ctx, tmp, began, files); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	if err := publish(tmp, dest); err != nil {
		return BackupInfo{}, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(dest))
	return InspectBackup(ctx, dest)
}

// markBackup adds the optimum_backup table to the fresh copy at path.
func markBackup(ctx context.Context, path string, began time.Time, files map[string][]byte) error {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+url.Values{"mode": {"rw"}, "_pragma": {"journal_mode(DELETE)", "synchronous(FULL)"}}.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE optimum_backup (key TEXT PRIMARY KEY, value BLOB NOT NULL)"); err != nil {
		return fmt.Errorf("mark the copy: %w", err)
	}
	rows := map[string][]byte{"format": []byte(backupFormat), "created_at": []byte(began.Format(time.RFC3339Nano))}
	for name, content := range files {
		rows["file:"+name] = content
	}
	for k, v := range rows {
		if _, err := tx.ExecContext(ctx, "INSERT INTO optimum_backup (key, value) VALUES ($1, $2)", k, v); err != nil {
			return fmt.Errorf("mark the copy: %w", err)
		}
	}
	return tx.Commit()
}

// InspectBackup checks that path is a backup this binary can restore and describes it.
// It refuses, with an EINVALID error that says why, a file that is not a backup (not
// SQLite, damaged, or a database that is not a backup) and one from a newer schema.
func InspectBackup(ctx context.Context, path string) (BackupInfo, error) {
	info, _, err := inspectBackup(ctx, path)
	return info, err
}

func inspectBackup(ctx context.Context, path string) (BackupInfo, map[string][]byte, error) {
	notBackup := func(why string, args ...any) error {
		return optimum.Errorf(optimum.EINVALID, "%s is not an OPTIMUM backup: %s", path, fmt.Sprintf(why, args...))
	}
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, nil, fmt.Errorf("restore: %w", err)
	}
	if !st.Mode().IsRegular() {
		return BackupInfo{}, nil, notBackup("not a regular file")
	}
	head := make([]byte, len(sqliteMagic))
	f, err := os.Open(path)
	if err != nil {
		return BackupInfo{}, nil, fmt.Errorf("restore: %w", err)
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || !bytes.Equal(head, sqliteMagic) {
		return BackupInfo{}, nil, notBackup("not a SQLite database (make one with `optimum backup FILE`)")
	}
	// immutable=1: read the file as it is, without creating -wal/-shm files beside it or
	// taking locks, so inspecting never changes anything.
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+url.Values{"mode": {"ro"}, "immutable": {"1"}}.Encode())
	if err != nil {
		return BackupInfo{}, nil, fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil || check != "ok" {
		if err != nil {
			check = err.Error()
		}
		return BackupInfo{}, nil, notBackup("the file is damaged (%s)", check)
	}
	var marked int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'optimum_backup'").Scan(&marked); err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	if marked == 0 {
		return BackupInfo{}, nil, notBackup("a SQLite database without the mark of `optimum backup` (a live database folder is copied with `optimum backup`, not by hand)")
	}
	meta := map[string][]byte{}
	rows, err := db.QueryContext(ctx, "SELECT key, value FROM optimum_backup")
	if err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return BackupInfo{}, nil, notBackup("%v", err)
		}
		meta[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	if f := string(meta["format"]); f != backupFormat {
		return BackupInfo{}, nil, optimum.Errorf(optimum.EINVALID, "%s is a backup in format %q, which this binary (format %q) does not know: restore it with a newer optimum", path, f, backupFormat)
	}
	if err := isOptimumDB(ctx, db); err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	versions, err := recordedMigrations(ctx, db)
	if err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	known, err := knownMigrations("sqlite")
	if err != nil {
		return BackupInfo{}, nil, err
	}
	var unknown []string
	for _, v := range versions {
		if !known[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		return BackupInfo{}, nil, optimum.Errorf(optimum.EINVALID, "%s comes from a newer schema than this binary knows (migrations %s): restore it with the optimum version that made it, or a newer one", path, strings.Join(unknown, ", "))
	}
	info := BackupInfo{Bytes: st.Size()}
	if len(versions) > 0 {
		info.Schema = versions[len(versions)-1]
	}
	info.CreatedAt, _ = time.Parse(time.RFC3339Nano, string(meta["created_at"]))
	if err := db.QueryRowContext(ctx, "SELECT count(*), COALESCE(max(id), 0) FROM events").Scan(&info.Events, &info.LastEventID); err != nil {
		return BackupInfo{}, nil, notBackup("%v", err)
	}
	files := map[string][]byte{}
	for k, v := range meta {
		if name, ok := strings.CutPrefix(k, "file:"); ok {
			if err := checkCarriedName(name); err != nil {
				return BackupInfo{}, nil, notBackup("%v", err)
			}
			files[name] = v
			info.Files = append(info.Files, name)
		}
	}
	sort.Strings(info.Files)
	return info, files, nil
}

// RestoreSQLite restores the backup at path into dataDir, which must be empty or absent:
// the database becomes dataDir/dbName and the carried files are written beside it. It
// checks everything before writing; on any error it removes what it wrote, so the folder
// is left as it was.
func RestoreSQLite(ctx context.Context, path, dataDir, dbName string) (info BackupInfo, err error) {
	info, files, err := inspectBackup(ctx, path)
	if err != nil {
		return BackupInfo{}, err
	}
	created := false
	switch entries, derr := os.ReadDir(dataDir); {
	case errors.Is(derr, fs.ErrNotExist):
		created = true
	case derr != nil:
		return BackupInfo{}, fmt.Errorf("restore: data folder %s: %w", dataDir, derr)
	case len(entries) > 0:
		names := make([]string, 0, 3)
		for _, e := range entries[:min(3, len(entries))] {
			names = append(names, e.Name())
		}
		return BackupInfo{}, optimum.Errorf(optimum.ECONFLICT, "restore: the data folder %s is not empty (it holds %d: %s…); a restore writes only into an empty folder, so nothing is overwritten", dataDir, len(entries), strings.Join(names, ", "))
	}
	for name := range files {
		if name == dbName {
			return BackupInfo{}, optimum.Errorf(optimum.EINVALID, "%s is not an OPTIMUM backup: it carries a file named like the database", path)
		}
	}
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	var written []string
	defer func() {
		if err == nil {
			return
		}
		for _, p := range written {
			os.Remove(p)
		}
		if created {
			os.RemoveAll(dataDir)
		}
	}()
	tmp := filepath.Join(dataDir, "."+dbName+".restoring")
	written = append(written, tmp)
	if err := copyFile(path, tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	if err := unmarkBackup(ctx, tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	for name, content := range files {
		p := filepath.Join(dataDir, name)
		written = append(written, p)
		if err := writeSynced(p, content); err != nil {
			return BackupInfo{}, fmt.Errorf("restore: %w", err)
		}
	}
	dbPath := filepath.Join(dataDir, dbName)
	written = append(written, dbPath)
	if err := publish(tmp, dbPath); err != nil {
		return BackupInfo{}, fmt.Errorf("restore: %w", err)
	}
	syncDir(dataDir)
	return info, nil
}

// unmarkBackup drops the optimum_backup table from the copy being restored.
func unmarkBackup(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?"+url.Values{"mode": {"rw"}, "_pragma": {"journal_mode(DELETE)", "synchronous(FULL)"}}.Encode())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "DROP TABLE optimum_backup"); err != nil {
		return err
	}
	return db.Close()
}

// isOptimumDB reports, as an error, that db has no migrations table or event log.
func isOptimumDB(ctx context.Context, db *sql.DB) error {
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'events')").Scan(&n); err != nil {
		return err
	}
	if n != 2 {
		return errors.New("not an OPTIMUM database (no schema_migrations or events table)")
	}
	return nil
}

// recordedMigrations lists, in order, the migrations recorded in db.
func recordedMigrations(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// knownMigrations is the set of migration versions of a dialect embedded in this binary.
func knownMigrations(dialect string) (map[string]bool, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+dialect)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, e := range entries {
		if v, ok := strings.CutSuffix(e.Name(), ".sql"); ok {
			known[v] = true
		}
	}
	return known, nil
}

// checkCarriedName accepts a plain file name for a file carried in a backup.
func checkCarriedName(name string) error {
	if name == "" || name == "." || name == ".." || filepath.Base(name) != name || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("carried file name %q is not a plain file name", name)
	}
	return nil
}

// publish gives the complete file tmp its name dest, never replacing a file that
// appeared there meanwhile: a hard link fails if dest exists (where the file system has
// no hard links, a rename after a last check).
func publish(tmp, dest string) error {
	err := os.Link(tmp, dest)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; nothing was replaced", dest)
	}
	if err != nil {
		if _, serr := os.Lstat(dest); serr == nil {
			return fmt.Errorf("%s already exists; nothing was replaced", dest)
		}
		if rerr := os.Rename(tmp, dest); rerr != nil {
			return rerr
		}
		return nil
	}
	return os.Remove(tmp)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeSynced(path string, content []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a new name in dir durable; where a folder cannot be synced it is a no-op.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
