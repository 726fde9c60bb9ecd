//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "pregon-bench: the bench runs on Linux")
	os.Exit(1)
}
