// Package plural writes counts in messages: "1 generator", "3 generators".
package plural

import "fmt"

// Count returns "1 one" for n == 1, else "n many".
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// Word returns one for n == 1, else many.
func Word(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
