// Package sender delivers a campaign's messages through the Messages API:
// one HTTP request per contact, paced so the platform never sees more than
// the allowed requests in any one-second window, run concurrently in a
// bounded pipeline, each answer classified (sent, failed, unknown, retry,
// stop) and handed to a Queue to record.
//
// It knows nothing of CSV files or SQL: the ledger is whatever implements
// Queue. It never logs message contents and never logs or stores the token.
package sender
