// Command pregon-bench measures pregon's performance targets on this
// machine and prints them as a Markdown table, for the README's
// Performance section. It is a maintainer's tool, not part of the product:
// it builds the pregon binary from this repository (or takes -pregon),
// serves the fake Messages API (sender/sendertest) in its own process, and
// runs each measured `pregon send` as a child process, so that rates and
// windows are measured where the platform would see them, at the fake, and
// CPU time and peak memory are the child's own (getrusage).
//
// It runs on Linux only: the fake's arrival stamps and the children's
// resource usage are read through Linux system calls.
//
// Usage, from the repository:
//
//	go run ./cmd/pregon-bench            # every row, full size (minutes)
//	go run ./cmd/pregon-bench -quick     # tiny sizes: the bench still works (CI)
//	go run ./cmd/pregon-bench -only rate # the rows whose name contains "rate"
package main
