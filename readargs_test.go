package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/sender/sendertest"
)

// track and reconcile take the campaign's file as status does, and a
// name the ledger lacks is answered with the names it has, before the
// platform is asked anything.
func TestTrackAndReconcileTakeTheCampaignFile(t *testing.T) {
	t.Setenv(tokenEnv, "t0ken")
	fake := sendertest.NewServer(t, sendertest.Config{Delivery: sendertest.Delivery{After: -1, ReadAfter: -1}})
	ledger := filepath.Join(t.TempDir(), "l.db")
	if code, _, errOut := pregon(t, "send", "-campaign", sample("pedido-en-camino.json"), "-contacts", sample("pedido-en-camino.csv"),
		"-ledger", ledger, "-base-url", fake.URL, "-rate", "0"); code != 0 {
		t.Fatalf("send: exit %d\n%s", code, errOut)
	}
	for _, cmd := range []string{"track", "reconcile"} {
		code, out, errOut := pregon(t, cmd, "-ledger", ledger, "-campaign", sample("pedido-en-camino.json"), "-rate", "1000")
		if code != 0 || !strings.Contains(out, `"pedido-en-camino"`) {
			t.Errorf("%s -campaign file: exit %d\n%s%s", cmd, code, out, errOut)
		}
		before := len(fake.Requests())
		code, _, errOut = pregon(t, "-lang", "es", cmd, "-ledger", ledger, "-campaign", "pedido")
		if code != exitUsage || !strings.Contains(errOut, `no hay una campaña "pedido"`) || !strings.Contains(errOut, `tiene "pedido-en-camino"`) {
			t.Errorf("%s -campaign unknown: exit %d\n%s", cmd, code, errOut)
		}
		if n := len(fake.Requests()) - before; n != 0 {
			t.Errorf("%s asked the platform %d times about a campaign the ledger lacks", cmd, n)
		}
	}
}
