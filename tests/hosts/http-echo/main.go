// Command http-echo is a test fixture that stands in for the
// hashicorp/http-echo image: the test hosts reach no container registry, so
// tests/hosts/build-image.sh builds this program into an image of that name and
// seeds it into the registry mirror inside each host (see docs/hosts.md).
//
// It takes the flags of the original that jobs use (-listen, -text, -version)
// and answers every request with the text and a newline. Standard library
// only, so it builds offline into a static binary.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is what -version prints; it names the fixture, not an upstream
// release, so nobody mistakes it for the real image.
const version = "0.0.0-nomadops-standin"

func main() {
	listen := flag.String("listen", ":5678", "address and port to listen on")
	text := flag.String("text", "", "text to put on the webpage")
	showVersion := flag.Bool("version", false, "display version information")
	flag.Parse()

	if *showVersion {
		fmt.Println(version)
		return
	}
	if *text == "" {
		fmt.Fprintln(os.Stderr, "Missing -text option!")
		os.Exit(127)
	}
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "Too many arguments! (%d)\n", flag.NArg())
		os.Exit(127)
	}

	body := []byte(*text + "\n")
	srv := &http.Server{
		Addr: *listen,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-App-Name", "http-echo")
			w.Header().Set("X-App-Version", version)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// As PID 1 of a container the process gets no default signal handling, so
	// handle SIGTERM itself: `docker stop` and Nomad then stop it at once
	// instead of waiting for their kill timeout.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("[INFO] server is listening on %s", *listen)

	select {
	case err := <-errc:
		log.Fatalf("[ERR] %s", err)
	case sig := <-stop:
		log.Printf("[INFO] received %s, shutting down", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			log.Fatalf("[ERR] shutdown: %s", err)
		}
	}
}
