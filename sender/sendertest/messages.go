package sendertest

// Messages returns the requests that carried a message (a POST to a send
// endpoint), in the order they arrived: what a test counts as sent, apart
// from the GET pregon makes of the base URL before a run (Client.Probe).
func (s *Server) Messages() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Method == "POST" && (r.endpoint == sendV1 || r.endpoint == sendV2) {
			out = append(out, r)
		}
	}
	return out
}
