package observation

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TestSlowReportIsCut: a client that trickles a report is cut off once the
// read timeout passes, and the receiver serves on.
func TestSlowReportIsCut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 4)
	srv := newHTTPServer(context.Background(), "", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestTimeout)
		}
	}), 300*time.Millisecond)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const size = 200
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	cut := false
	for i := 0; i < size && !cut; i++ {
		select {
		case err := <-read:
			if err == nil {
				t.Fatal("the handler read the whole body")
			}
			cut = true
		case <-time.After(100 * time.Millisecond):
			if _, err := conn.Write([]byte{' '}); err != nil {
				cut = true
			}
		}
	}
	if !cut {
		t.Fatalf("a body of %d bytes trickled at one byte per 100ms went through; want it cut off after 300ms", size)
	}

	// The receiver serves on.
	resp, err := http.Post("http://"+ln.Addr().String(), "application/json", bufio.NewReader(io.LimitReader(zeros{}, 10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("after the slow client, a report answered %d", resp.StatusCode)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
