// Package engine runs a campaign: it brings the contacts file into the
// ledger, recovers what an earlier run left in flight, sends through the
// sender at the platform's pace, and says how the run ended. It is the one
// place that decides how a run goes; the command line (and any other front
// end) chooses the options and shows what the engine reports through
// Events and Result. It prints nothing and parses no flags.
package engine
