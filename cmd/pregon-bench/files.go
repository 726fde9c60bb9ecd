//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// benchCampaign is a v2 WhatsApp template with per-row parameters, the
// users' most common campaign; %q is its name.
const benchCampaign = `{"name":%q,"api":"v2","channelId":4242,"message":{"type":"whatsapp_template","template":{
 "name":"delivery_order","languageCode":"es","components":[
  {"type":"header","format":"image","parameters":[{"type":"image","image":{"link":"{{foto}}"}}]},
  {"type":"body","text":"Hola, {{1}} tu pedido {{2}} está en camino.","parameters":[{"type":"text","text":"{{nombre}}"},{"type":"text","text":"{{pedido}}"}]},
  {"type":"footer","text":"Gracias por tu compra"}]}}}`

// contactPrefix begins every contact's identity, as pregon puts it in the
// request's path; the rest is the contact's number.
const contactPrefix = "phone:+59399"

// files writes the benchmark campaign, named name, and a CSV of n
// distinct contacts numbered from first: runs that share a fake are told
// apart by their contacts' numbers.
func (b *bencher) files(name string, n, first int) (camp, csv string, err error) {
	camp = filepath.Join(b.dir, name+".json")
	if err := os.WriteFile(camp, fmt.Appendf(nil, benchCampaign, name), 0o600); err != nil {
		return "", "", err
	}
	csv = filepath.Join(b.dir, name+".csv")
	f, err := os.Create(csv)
	if err != nil {
		return "", "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "phone,nombre,pedido,foto")
	for i := first; i < first+n; i++ {
		fmt.Fprintf(w, "+59399%07d,Cliente Núñez %d,PED-%d,https://cdn.example-brand.com/pedidos/PED-%d.jpg\n", i, i, 100000+i, 100000+i)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", "", err
	}
	return camp, csv, f.Close()
}
