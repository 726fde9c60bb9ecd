// Package store is pregon's ledger: one SQLite file that records, per
// campaign, every contact's message, its state and every attempt's outcome,
// so that a run can be resumed after any interruption without sending a
// message twice or skipping one.
//
// It is the only package with SQL in it. Writes share durable transactions
// (group commit: whoever finds no commit in progress commits everything
// queued), so an attempt is on disk before its request is made, at
// thousands of messages per second. It never logs and never makes network
// calls.
package store
