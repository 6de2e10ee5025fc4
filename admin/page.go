package admin

import (
	"embed"
	"io/fs"
	"net/http"
)

// ui holds the Salesforce Integration page: plain HTML, CSS and JavaScript,
// no build step and nothing fetched from elsewhere.
//
//go:embed ui
var ui embed.FS

// pageCSP lets the page load only its own files and talk only to this
// listener. The page reads the Admin's token from the URL fragment (which
// browsers never send) into sessionStorage and sends it as a Bearer header;
// there are no cookies, so no other site can act as the Admin.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// page serves the Salesforce Integration page under /admin/. It needs no
// token: it holds no data, and asks the API for everything with the
// Admin's.
func page() http.Handler {
	files, err := fs.Sub(ui, "ui")
	if err != nil {
		panic(err) // the embedded directory is there, or this does not compile
	}
	static := http.StripPrefix("/admin/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		static.ServeHTTP(w, r)
	})
}
