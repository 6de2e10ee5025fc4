// Command syncd puts analysed phone calls from KoeIQ into the customer's CRM.
//
//	syncd migrate            bring the database schema up to date
//	syncd run                run the daemon
//
// Configuration comes from the environment (see the README): DATABASE_URL,
// SYNCD_SCHEMA, LOG_LEVEL, LOG_FORMAT.
package main

import (
	"context"
	"io"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// env is how commands read the environment; tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}
