// Package ui is the page for the people who send: a small web app that
// `pregon ui` serves on their own machine, to prepare a campaign (check a
// campaign file and a contacts CSV, see the first messages as the
// customer will), rehearse it against the built-in sandbox, send it with
// live progress and a Stop button, and see how it went.
//
// It runs nothing of its own: checks and sends go through package engine,
// exactly as the command line's do, under the same campaign lock; the
// ledger is only read, through package store's queries; the report, the
// export and init's starter campaign are the command line's own code,
// handed in as Tools. So a campaign sent from the page leaves the ledger
// a campaign sent from the command line would.
//
// It serves one person's browser on one machine and guards that as a
// local server must: every request needs the key the start-up URL
// carries (kept in an HttpOnly, SameSite=Strict cookie), the Host header
// must name the address it serves (against DNS rebinding), and every
// state-changing request is a POST with a CSRF token and a same-origin
// Origin. The API token stays in the server: no page, download or event
// ever carries it.
package ui
