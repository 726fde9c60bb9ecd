package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/campaign"
	"github.com/pregon/pregon/internal/testfs"
	"github.com/pregon/pregon/sender/sendertest"
)

// Ctrl-C stops a send gracefully: the requests in flight finish and are
// recorded, nothing is left unknown. A second Ctrl-C quits at once. On
// Windows a Ctrl-C is a console event rather than a signal; CI runs this
// test there too, under Wine (see ctrlc_windows_test.go).
func TestCtrlCStopsGracefullyThenAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name    string
		presses int
		latency time.Duration // long enough that a graceful stop is still waiting at the second press
		say     string
	}{
		{"once", 1, 200 * time.Millisecond, "stopping: letting the requests in flight finish"},
		{"twice", 2, time.Second, "pregon: quit at once: contacts in flight will show as unknown on the next run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 150
			fake := sendertest.NewServer(t, sendertest.Config{Latency: tc.latency})
			dir := testfs.TempDir(t) // CI runs this under Wine
			camp := writeTemp(t, dir, "c.json", `{"name":"proceso","api":"v2","message":{"type":"text","text":"Hola {{nombre}}"}}`)
			var b strings.Builder
			b.WriteString("id,nombre\n")
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&b, "%d,Cliente %d\n", i, i)
			}
			csv := writeTemp(t, dir, "c.csv", b.String())
			ledger := filepath.Join(dir, "pregon.db")

			p, press := startInterruptible(t, "send", "-campaign", camp, "-contacts", csv, "-ledger", ledger, "-base-url", fake.URL, "-rate", "40")
			waitFor(t, "10 requests", func() bool { return len(fake.Messages()) >= 10 })
			press()
			if tc.presses == 2 {
				// Signals sent together may arrive as one: press again
				// once pregon says it is stopping, as a user would.
				waitFor(t, "the stopping message", func() bool { return strings.Contains(p.errOut.String(), "pregon: stopping") })
				press()
			}
			code := p.wait(t)
			out, errOut := p.out.String(), p.errOut.String()
			if code != exitStopped || !strings.Contains(errOut, tc.say) {
				t.Fatalf("exit %d, want %d, saying %q\n%s%s", code, exitStopped, tc.say, out, errOut)
			}
			if tc.presses > 1 {
				return
			}
			if strings.Contains(errOut, "pregon: quit at once") {
				t.Errorf("one Ctrl-C quit at once:\n%s", errOut)
			}
			accepted := fake.ByContact()
			sent := 0
			for _, c := range ledgerContacts(t, ledger) {
				switch {
				case c.State == campaign.Sent && accepted[c.Contact] == 1:
					sent++
				case c.State == campaign.Pending && accepted[c.Contact] == 0:
				default:
					t.Errorf("%s is %s in the ledger, accepted %d times", c.Contact, c.State, accepted[c.Contact])
				}
			}
			if sent == 0 || sent == n {
				t.Errorf("sent %d of %d: the stop did not land mid-run", sent, n)
			}
		})
	}
}
