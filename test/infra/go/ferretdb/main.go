// Command ferretdb runs FerretDB's embeddable server with the PostgreSQL backend.
//
// FerretDB's own cmd/ferretdb panics unless its repository's build step generated
// build/version/version.txt, which a build from the module proxy never has; the embeddable
// package skips that check when it is not the main module, and serves the same handler.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL URL of the database FerretDB keeps its collections in")
	flag.Parse()
	if *postgresqlURL == "" {
		log.Fatal("--postgresql-url is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	server, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr},
		Handler:       "postgresql",
		PostgreSQLURL: *postgresqlURL,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := server.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
