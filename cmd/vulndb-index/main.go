// Command vulndb-index lays out a Go vulnerability database in the v1
// format that `govulncheck -db file:///DIR` reads, from the OSV files of
// the golang.org/x/vulndb module (its data/osv/*.json), so that
// govulncheck runs without reaching vuln.go.dev:
//
//	DIR/index/db.json       {"modified": T}
//	DIR/index/modules.json  [{"path": M, "vulns": [{"id": ID, "modified": T}]}]
//	DIR/index/vulns.json    [{"id": ID, "modified": T, "aliases": [...]}]
//	DIR/ID/<ID>.json        the OSV entry, byte for byte as in the module
//
// The module's OSV files carry a zero "modified" (the published database
// sets it from the repository's history, which a module zip lacks), so
// -modified names the snapshot's time (the module version's commit time);
// it is used wherever an entry's own time is zero.
//
// modules.json leaves out the optional "fixed" field: without it
// govulncheck reads the full entry of every advisory of a module in the
// build, which is always correct (the field is only a shortcut to skip
// entries that a version is past).
//
// Usage: vulndb-index -osv $VULNDB/data/osv -out DIR -modified 2026-11-05T23:49:57Z
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// entry is the part of an OSV entry the indexes need.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"`
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

// idPattern is what a Go advisory ID looks like; anything else in the
// folder is not an entry and is refused rather than served under a
// name that could escape ID/.
var idPattern = regexp.MustCompile(`^GO-\d{4}-\d{4,}$`)

func main() {
	osvDir := flag.String("osv", "", "folder of OSV JSON files (x/vulndb's data/osv)")
	out := flag.String("out", "", "folder to write the v1 database to (created if absent)")
	modified := flag.String("modified", "", "RFC 3339 time of the snapshot, used for entries whose modified time is zero")
	flag.Parse()
	if *osvDir == "" || *out == "" || *modified == "" {
		flag.Usage()
		os.Exit(2)
	}
	snap, err := time.Parse(time.RFC3339, *modified)
	if err != nil {
		fatal(fmt.Errorf("-modified: %w", err))
	}
	n, err := build(*osvDir, *out, snap.UTC())
	if err != nil {
		fatal(err)
	}
	fmt.Printf("vulndb-index: %d entries written to %s\n", n, *out)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "vulndb-index:", err)
	os.Exit(1)
}

// build writes the database and returns how many entries it holds.
func build(osvDir, out string, snap time.Time) (int, error) {
	files, err := filepath.Glob(filepath.Join(osvDir, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(files) == 0 {
		return 0, fmt.Errorf("no OSV files in %s", osvDir)
	}
	if err := os.MkdirAll(filepath.Join(out, "index"), 0o750); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(out, "ID"), 0o750); err != nil {
		return 0, err
	}
	modules := map[string]*module{}
	var vulns []vuln
	latest := time.Time{}
	for _, f := range files {
		b, err := os.ReadFile(f) // #nosec G304 -- the files of the folder named on the command line
		if err != nil {
			return 0, err
		}
		var e entry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", f, err)
		}
		if !idPattern.MatchString(e.ID) || e.ID+".json" != filepath.Base(f) {
			return 0, fmt.Errorf("%s: entry ID %q does not match its file name", f, e.ID)
		}
		if e.Modified.IsZero() {
			e.Modified = snap
		}
		if e.Modified.After(latest) {
			latest = e.Modified
		}
		vulns = append(vulns, vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		seen := map[string]bool{}
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" || seen[path] {
				continue
			}
			seen[path] = true
			m := modules[path]
			if m == nil {
				m = &module{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified})
		}
		if err := os.WriteFile(filepath.Join(out, "ID", e.ID+".json"), b, 0o600); err != nil { // #nosec G703 -- e.ID matched idPattern (GO-YYYY-NNNN) and its file name above, so it names a file inside out/ID
			return 0, err
		}
	}
	mods := make([]*module, 0, len(modules))
	for _, m := range modules {
		slices.SortFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
		mods = append(mods, m)
	}
	slices.SortFunc(mods, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })
	slices.SortFunc(vulns, func(a, b vuln) int { return strings.Compare(a.ID, b.ID) })
	err = errors.Join(
		writeJSON(filepath.Join(out, "index", "db.json"), struct {
			Modified time.Time `json:"modified"`
		}{latest}),
		writeJSON(filepath.Join(out, "index", "modules.json"), mods),
		writeJSON(filepath.Join(out, "index", "vulns.json"), vulns),
	)
	return len(vulns), err
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}
