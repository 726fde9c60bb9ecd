// Package rateshare shares one API's rate limit between the pregon runs on
// one machine. The platform counts its limit per organization, so two
// nightly campaigns started together, or a send beside a tracking run,
// must hold 25 requests per second together, not each.
//
// The runs meet in a small file per API (its host) in the user's cache directory: the recent
// send times of all of them, read and updated under an exclusive file
// lock at each request's admission (exact for any number of runs; a dead
// run's sends simply age out), and the live runs, each refreshing its own
// entry twenty times a second (a run that ends is seen gone within 0.05 s, a killed one within two
// seconds). It does not coordinate runs on different machines, nor other
// programs spending the same quota: the pacer reads those from the
// platform's X-RateLimit-Remaining.
package rateshare
