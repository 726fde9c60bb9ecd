// Package campaign turns a campaign file and a contacts CSV into one
// validated message per contact: who it goes to (the URL path of the
// Messages API call) and the exact JSON payload to send.
//
// It also holds the few domain types that the ledger (store) and the HTTP
// pipeline (sender) share, so that those two packages never import each
// other. It does no I/O beyond reading the two input files; it never sends,
// stores or logs anything.
package campaign
