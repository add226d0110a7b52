package httpapi

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/andybalholm/brotli"
)

// The web app is served compressed, its files under a version that is cached for good,
// and the rest revalidated with an ETag.
func TestStaticFilesCompressedVersionedAndRevalidated(t *testing.T) {
	js := strings.Repeat("export const x = 'una línea de código que se repite';\n", 200)
	css := strings.Repeat("body { margin: 0; }\n", 100)
	page := `<!doctype html><link rel="stylesheet" href="app.css"><script type="module" src="app.js"></script>` + strings.Repeat(" ", 600)
	s := &Server{
		Static: fstest.MapFS{
			"index.html": {Data: []byte(page)},
			"app.js":     {Data: []byte(js)},
			"app.css":    {Data: []byte(css)},
			"sw.js":      {Data: []byte("self.addEventListener('push', () => {});")},
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h := s.staticFiles()
	get := func(path string, headers ...string) *http.Response {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}

	// The page: brotli when accepted (once compressed in the background, gzip until
	// then), revalidated, its references under one version.
	res := get("/", "Accept-Encoding", "gzip, deflate, br")
	for i := 0; res.Header.Get("Content-Encoding") == "gzip" && i < 200; i++ {
		time.Sleep(50 * time.Millisecond)
		res = get("/", "Accept-Encoding", "gzip, deflate, br")
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Encoding") != "br" {
		t.Fatalf("GET / = %d, Content-Encoding %q; want 200 br", res.StatusCode, res.Header.Get("Content-Encoding"))
	}
	if got := res.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("the page's Cache-Control = %q, want no-cache", got)
	}
	if res.Header.Get("Vary") != "Accept-Encoding" {
		t.Errorf("Vary = %q", res.Header.Get("Vary"))
	}
	html := readAll(t, brotli.NewReader(res.Body))
	m := regexp.MustCompile(`src="v/([0-9a-f]{12})/app\.js"`).FindStringSubmatch(html)
	if m == nil || !strings.Contains(html, `href="v/`+m[1]+`/app.css"`) {
		t.Fatalf("the page does not point at versioned files: %s", html[:120])
	}
	version := m[1]
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("the page has no ETag")
	}
	if res := get("/", "Accept-Encoding", "br", "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("GET / with its ETag = %d, want 304", res.StatusCode)
	}

	// A versioned file: gzip for a browser without brotli, kept for a year.
	res = get("/v/"+version+"/app.js", "Accept-Encoding", "br;q=0, gzip")
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip (br refused with q=0)", res.Header.Get("Content-Encoding"))
	}
	if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("a versioned file's Cache-Control = %q", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, zr); got != js {
		t.Error("the gzip body is not the file")
	}
	if n := res.ContentLength; n <= 0 || n >= int64(len(js))/4 {
		t.Errorf("compressed length %d of %d bytes", n, len(js))
	}

	// No compression accepted: the file as it is.
	res = get("/v/" + version + "/app.css")
	if res.Header.Get("Content-Encoding") != "" || readAll(t, res.Body) != css {
		t.Error("without Accept-Encoding the file must come as it is")
	}

	// Another version (a page loaded before an upgrade): today's file, not kept.
	res = get("/v/000000000000/app.js", "Accept-Encoding", "gzip")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("an old version = %d, Cache-Control %q; want 200 no-cache", res.StatusCode, res.Header.Get("Cache-Control"))
	}

	// The service worker is never versioned: revalidated by ETag, and small files are
	// not compressed.
	res = get("/sw.js", "Accept-Encoding", "br")
	if res.Header.Get("Cache-Control") != "no-cache" || res.Header.Get("ETag") == "" || res.Header.Get("Content-Encoding") != "" {
		t.Errorf("sw.js: Cache-Control %q, ETag %q, Content-Encoding %q", res.Header.Get("Cache-Control"), res.Header.Get("ETag"), res.Header.Get("Content-Encoding"))
	}
	if res.Header.Get("Service-Worker-Allowed") != "/" {
		t.Error("sw.js lost Service-Worker-Allowed")
	}

	if res := get("/nothing.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown file = %d, want 404", res.StatusCode)
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", rec.Code)
	}
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A file is never held back for brotli's best compression, which takes seconds for the
// whole app (far more under the race detector): until it is done, the browser gets gzip.
func TestAFileIsServedWithGzipUntilItsBrotliIsReady(t *testing.T) {
	a := newAsset("app.js", []byte(strings.Repeat("export const x = 'una línea de código que se repite';\n", 200)))
	get := func() *http.Response {
		req := httptest.NewRequest(http.MethodGet, "/app.js", nil)
		req.Header.Set("Accept-Encoding", "gzip, deflate, br")
		rec := httptest.NewRecorder()
		serveAsset(rec, req, a, revalidate)
		return rec.Result()
	}
	if enc := get().Header.Get("Content-Encoding"); enc != "gzip" {
		t.Fatalf("before brotli: Content-Encoding %q, want gzip", enc)
	}
	a.brotli()
	res := get()
	if enc := res.Header.Get("Content-Encoding"); enc != "br" {
		t.Fatalf("after brotli: Content-Encoding %q, want br", enc)
	}
	if body := readAll(t, brotli.NewReader(res.Body)); body != string(a.raw) {
		t.Fatalf("the brotli body is not the file")
	}
}

// Every server of a process serves the same embedded files: their brotli is made once per
// process, not again by each server (a test process starts dozens; each compressed the
// whole app again, ten seconds of CPU under the race detector).
func TestTheSameFileIsCompressedWithBrotliOncePerProcess(t *testing.T) {
	raw := []byte(strings.Repeat("export const y = 'otra línea que se repite, para brotli';\n", 300))
	first, second := newAsset("a/app.js", raw), newAsset("b/app.js", raw)
	first.brotli()
	second.brotli()
	b1, b2 := first.br.Load(), second.br.Load()
	if b1 == nil || b2 == nil {
		t.Fatal("no brotli made")
	}
	if b1 != b2 {
		t.Error("the same content was compressed twice")
	}
	if body := readAll(t, brotli.NewReader(bytes.NewReader(*b2))); body != string(raw) {
		t.Error("the shared brotli is not the file")
	}
}
