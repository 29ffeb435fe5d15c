//go:build ignore

// tamper edits one audit event in a Spotcheck SQLite file, dropping the
// append-only trigger first, as an attacker with the file would.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/glebarez/go-sqlite"
)

func main() {
	db, err := sql.Open("sqlite", os.Args[1])
	if err != nil {
		panic(err)
	}
	for _, s := range []string{
		"DROP TRIGGER audit_events_no_update",
		"UPDATE audit_events SET detail = '{\"tampered\":true}' WHERE seq = " + os.Args[2],
	} {
		if _, err := db.Exec(s); err != nil {
			fmt.Fprintln(os.Stderr, s, err)
			os.Exit(1)
		}
	}
}
