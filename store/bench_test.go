package store

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pregon/pregon/campaign"
)

func benchLedger(b *testing.B, n int) (*Ledger, CampaignID, int64) {
	b.Helper()
	l, _ := openTemp(b)
	ctx := context.Background()
	id, err := l.Register(ctx, "bench", "fp", platform, false)
	if err != nil {
		b.Fatal(err)
	}
	im, err := l.Import(ctx, id, "bench.csv", []string{"phone", "nombre"})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"channelId":4242,"message":{"type":"whatsapp_template","template":{"name":"delivery_order","languageCode":"es","components":[{"type":"body","text":"Hola, {{1}} tu pedido {{2}} está en camino.","parameters":[{"type":"text","text":"Cliente"},{"type":"text","text":"PED-1"}]}]}}}`)
	for i := range n {
		c := fmt.Sprintf("phone:+59399%07d", i)
		m := campaign.Message{Line: i + 2, Contact: c, Path: "/v2/contact/" + c + "/message", Payload: payload, Cells: []string{c, "Cliente"}}
		if err := im.Add(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := im.Finish(ctx); err != nil {
		b.Fatal(err)
	}
	return l, id, im.Generation()
}

// BenchmarkImport imports b.N new contacts in batched transactions.
func BenchmarkImport(b *testing.B) {
	benchLedger(b, b.N)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkAttemptRecord records an attempt and an outcome for b.N
// contacts from 64 goroutines, as a run does: group commit at
// synchronous=FULL.
func BenchmarkAttemptRecord(b *testing.B) {
	l, id, gen := benchLedger(b, b.N)
	ctx := context.Background()
	q := l.Queue(id, gen, Eligible{})
	jobs, err := q.Next(ctx, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	work := make(chan campaign.Job)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for j := range work {
				if err := q.Attempt(ctx, j.ID); err != nil {
					b.Error(err)
				}
				if err := q.Record(ctx, j.ID, campaign.Outcome{State: campaign.Sent, HTTPStatus: 200}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "contacts/s")
}
