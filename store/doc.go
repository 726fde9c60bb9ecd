// Package store is pregon's ledger: one SQLite file that records, per
// campaign, every contact's message, its state and every attempt's outcome,
// so that a run can be resumed after any interruption without sending a
// message twice or skipping one.
//
// It is the only package with SQL in it. Writes share durable transactions
// (group commit: a committer takes everything queued in one transaction; a
// failure at BEGIN or COMMIT fails that whole batch at once, and a write
// whose caller gave up while it waited is dropped unwritten), so an attempt
// is on disk before its request is made, at thousands of messages per
// second. It never logs and never makes network
// calls.
package store
