// Command vulngate reads `govulncheck -format json` on its standard input
// and fails (exit 1) when the code calls a vulnerable symbol whose
// advisory is not in the exceptions file with the reason it does not
// apply or how it is mitigated. Findings the code only imports or
// requires, without calling, are listed and do not fail (govulncheck's
// own exit status works the same way). An exception that no longer
// matches a finding is reported so that it can be removed.
//
// The exceptions file has one advisory a line, "GO-YYYY-NNNN reason…";
// blank lines and lines starting with # are ignored. An entry without a
// reason is an error.
//
// Usage: govulncheck -db file:///DB -format json ./... | vulngate -exceptions .ci/vuln-exceptions.txt
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// message is one object of govulncheck's JSON stream (the parts used).
type message struct {
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
	Finding *struct {
		OSV   string `json:"osv"`
		Fixed string `json:"fixed_version"`
		Trace []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
			Receiver string `json:"receiver"`
		} `json:"trace"`
	} `json:"finding"`
}

var idPattern = regexp.MustCompile(`^GO-\d{4}-\d{4,}$`)

func main() {
	exceptions := flag.String("exceptions", "", "file of excepted advisories, one \"ID reason\" a line")
	flag.Parse()
	if *exceptions == "" {
		flag.Usage()
		os.Exit(2)
	}
	f, err := os.Open(*exceptions)
	if err != nil {
		fatal(err)
	}
	excepted, err := readExceptions(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fatal(fmt.Errorf("%s: %w", *exceptions, err))
	}
	failed, err := gate(os.Stdin, os.Stdout, excepted)
	if err != nil {
		fatal(err)
	}
	if failed {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "vulngate:", err)
	os.Exit(1)
}

// readExceptions parses the exceptions file into ID → reason.
func readExceptions(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		reason = strings.TrimSpace(reason)
		switch {
		case !idPattern.MatchString(id):
			return nil, fmt.Errorf("line %d: %q is not an advisory ID", n, id)
		case reason == "":
			return nil, fmt.Errorf("line %d: %s has no reason", n, id)
		case out[id] != "":
			return nil, fmt.Errorf("line %d: %s is listed twice", n, id)
		}
		out[id] = reason
	}
	return out, sc.Err()
}

// gate reads the stream, writes a summary and reports whether it fails.
func gate(in io.Reader, w io.Writer, excepted map[string]string) (bool, error) {
	summaries := map[string]string{}
	called := map[string]string{}   // ID → an example call
	imported := map[string]string{} // ID → the package or module
	dec := json.NewDecoder(in)
	seen := false
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return false, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		seen = true
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		top := m.Finding.Trace[0]
		switch {
		case top.Function != "":
			if _, ok := called[m.Finding.OSV]; !ok {
				sym := top.Function
				if top.Receiver != "" {
					sym = strings.TrimPrefix(top.Receiver, "*") + "." + sym
				}
				called[m.Finding.OSV] = fmt.Sprintf("%s@%s: %s.%s", top.Module, top.Version, top.Package, sym)
			}
		case top.Package != "":
			imported[m.Finding.OSV] = top.Package
		default:
			if _, ok := imported[m.Finding.OSV]; !ok {
				imported[m.Finding.OSV] = top.Module + "@" + top.Version
			}
		}
	}
	if !seen {
		return false, errors.New("no govulncheck output on standard input")
	}
	var out strings.Builder
	failed := false
	for _, id := range sortedKeys(called) {
		if reason, ok := excepted[id]; ok {
			fmt.Fprintf(&out, "excepted  %s (%s) %s\n          reason: %s\n", id, summaries[id], called[id], reason)
			continue
		}
		failed = true
		fmt.Fprintf(&out, "CALLED    %s (%s) %s\n          not in the exceptions file: upgrade, or add it with its mitigation\n", id, summaries[id], called[id])
	}
	for _, id := range sortedKeys(imported) {
		if _, ok := called[id]; !ok {
			fmt.Fprintf(&out, "imported  %s (%s) in %s, not called\n", id, summaries[id], imported[id])
		}
	}
	for _, id := range sortedKeys(excepted) {
		if _, ok := called[id]; !ok {
			fmt.Fprintf(&out, "stale     %s is excepted but no longer found: remove it from the exceptions file\n", id)
		}
	}
	fmt.Fprintf(&out, "vulngate: %d called (%d excepted), %d imported only\n", len(called), countIn(called, excepted), len(imported))
	_, err := io.WriteString(w, out.String())
	return failed, err
}

// countIn counts the keys of m that are also keys of in.
func countIn(m map[string]string, in map[string]string) int {
	n := 0
	for k := range m {
		if _, ok := in[k]; ok {
			n++
		}
	}
	return n
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
