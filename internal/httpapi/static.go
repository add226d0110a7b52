package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/andybalholm/brotli"
)

// versionPrefix starts the address of a file of the web app under its version: the
// page asks for /v/<version>/app.js, which never changes, so a browser keeps it for a
// year and asks nothing on the next load. The version is a hash of every file.
const versionPrefix = "/v/"

// immutable is the caching of a versioned file; revalidate that of the rest (the page,
// the service worker, the manifest), which the browser asks again with If-None-Match.
const (
	immutable  = "public, max-age=31536000, immutable"
	revalidate = "no-cache"
)

// asset is one file of the web app, compressed with gzip on its first request and with
// brotli in the background (precompress). Each representation has its own strong ETag.
type asset struct {
	name  string
	ctype string
	raw   []byte
	etag  string // quoted hash of raw

	once sync.Once
	gz   []byte
	// br is set once brotli's best compression is done (precompress): it takes about a
	// second for the whole app, and ten times that under the race detector, which the first
	// visitor after a restart waited for (issue 16's review: a page that did not load within
	// 15 s). Until then the browser gets gzip.
	br atomic.Pointer[[]byte]
}

func (a *asset) compress() {
	a.once.Do(func() {
		if !a.compressible() {
			return
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(a.raw)
		_ = zw.Close()
		if gz.Len() < len(a.raw) {
			a.gz = gz.Bytes()
		}
	})
}

func (a *asset) compressible() bool { return compressible(a.ctype) && len(a.raw) >= 512 }

// brotli compresses the asset with brotli, once per process for the same content.
func (a *asset) brotli() {
	if a.br.Load() != nil || !a.compressible() {
		return
	}
	if b := brotliOf(a.etag, a.raw); b != nil {
		a.br.Store(b)
	}
}

// brotliDone holds, per content hash (an asset's etag), its brotli compression, made once
// per process: every server of a process serves the same embedded files, and a test
// process starts dozens of servers, each of which compressed them all again (about ten
// seconds of CPU each under the race detector, still running after its server stopped and
// slowing the next ones' start).
var brotliDone sync.Map // etag → *brotliEntry

type brotliEntry struct {
	once sync.Once
	br   *[]byte // nil when brotli does not make it smaller
}

func brotliOf(etag string, raw []byte) *[]byte {
	v, _ := brotliDone.LoadOrStore(etag, &brotliEntry{})
	e := v.(*brotliEntry)
	e.once.Do(func() {
		var br bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		_, _ = bw.Write(raw)
		_ = bw.Close()
		if br.Len() < len(raw) {
			b := br.Bytes()
			e.br = &b
		}
	})
	return e.br
}

// precompress compresses every file of the app with brotli, one after the other, in the
// background of the first requests.
func (app *webApp) precompress() {
	names := make([]string, 0, len(app.files))
	for name := range app.files {
		names = append(names, name)
	}
	// The page and its scripts first: they are what a phone asks for first.
	slices.SortFunc(names, func(a, b string) int {
		rank := func(n string) int {
			switch {
			case n == "index.html":
				return 0
			case strings.HasSuffix(n, ".js") || strings.HasSuffix(n, ".css"):
				return 1
			}
			return 2
		}
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		app.files[name].brotli()
	}
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.Contains(ctype, "javascript") || strings.Contains(ctype, "json") ||
		strings.Contains(ctype, "svg") || strings.Contains(ctype, "manifest")
}

// webApp is the embedded web app as served: its files, their version, and the page
// with its references rewritten under that version.
type webApp struct {
	files   map[string]*asset // by path without the leading slash
	version string
}

// refRE finds the page's references to its own files: href="app.css", src="app.js".
var refRE = regexp.MustCompile(`(href|src)="([a-z0-9-]+\.(?:js|css))"`)

func loadWebApp(fsys fs.FS) (*webApp, error) {
	app := &webApp{files: map[string]*asset{}}
	sum := sha256.New()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum.Write([]byte(p))
		sum.Write(b)
		app.files[p] = newAsset(p, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	app.version = hex.EncodeToString(sum.Sum(nil))[:12]
	if page, ok := app.files["index.html"]; ok {
		html := refRE.ReplaceAll(page.raw, []byte(`$1="v/`+app.version+`/$2"`))
		app.files["index.html"] = newAsset("index.html", html)
	}
	return app, nil
}

func newAsset(name string, b []byte) *asset {
	h := sha256.Sum256(b)
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".webmanifest":
		ctype = "application/manifest+json"
	case ".vcf":
		ctype = "text/vcard; charset=utf-8"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return &asset{name: name, ctype: ctype, raw: b, etag: `"` + hex.EncodeToString(h[:8]) + `"`}
}

// staticFiles serves the embedded web app: precompressed (brotli or gzip, as the
// browser accepts), versioned files cached for good, the rest revalidated by ETag, with
// headers that keep it contained.
func (s *Server) staticFiles() http.Handler {
	files := http.FileServerFS(s.Static)
	var (
		once sync.Once
		app  *webApp
	)
	load := func() {
		var err error
		if app, err = loadWebApp(s.Static); err != nil {
			s.Logger.Error("web app: reading the embedded files", "err", err)
			return
		}
		go app.precompress()
	}
	// Loaded (and compressed) as the server starts, not on the first visit.
	go once.Do(load)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, r, s.Logger, &requestError{status: http.StatusMethodNotAllowed, detail: "Only GET and HEAD are allowed here."})
			return
		}
		once.Do(load)
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == "/sw.js" {
			h.Set("Service-Worker-Allowed", "/")
		}
		name, cache := strings.TrimPrefix(r.URL.Path, "/"), revalidate
		if rest, ok := strings.CutPrefix(r.URL.Path, versionPrefix); ok {
			version, file, _ := strings.Cut(rest, "/")
			name = file
			// A page of an older version asks for files that are no longer there: it gets
			// today's, not to be kept.
			if app != nil && version == app.version {
				cache = immutable
			}
		}
		if name == "" {
			name = "index.html"
		}
		a := (*asset)(nil)
		if app != nil {
			a = app.files[name]
		}
		if a == nil {
			h.Set("Cache-Control", revalidate)
			files.ServeHTTP(w, r)
			return
		}
		serveAsset(w, r, a, cache)
	})
}

// serveAsset answers with the best representation the browser accepts, or 304 when the
// browser already holds it.
func serveAsset(w http.ResponseWriter, r *http.Request, a *asset, cache string) {
	a.compress()
	body, etag, enc := a.raw, a.etag, ""
	accept := r.Header.Get("Accept-Encoding")
	switch {
	case a.br.Load() != nil && accepts(accept, "br"):
		body, etag, enc = *a.br.Load(), strings.TrimSuffix(a.etag, `"`)+`-br"`, "br"
	case a.gz != nil && accepts(accept, "gzip"):
		body, etag, enc = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`, "gzip"
	}
	h := w.Header()
	h.Set("Cache-Control", cache)
	h.Set("ETag", etag)
	h.Set("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.ctype)
	if enc != "" {
		h.Set("Content-Encoding", enc)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// accepts says whether an Accept-Encoding header allows the coding (q=0 refuses it).
func accepts(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// etagMatches compares an If-None-Match list with an ETag (weakly, as RFC 9110 asks for
// If-None-Match).
func etagMatches(list, etag string) bool {
	for _, x := range strings.Split(list, ",") {
		x = strings.TrimPrefix(strings.TrimSpace(x), "W/")
		if x == "*" || x == etag {
			return true
		}
	}
	return false
}
