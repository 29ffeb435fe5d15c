package i18n

import "fmt"

// addMessages merges an area's part of the catalog into the one catalog;
// a key defined twice is a programming error found at start-up.
func addMessages(part map[string][2]string) {
	for k, v := range part {
		if _, dup := messages[k]; dup {
			panic(fmt.Sprintf("i18n: message %q defined twice", k))
		}
		messages[k] = v
	}
}
