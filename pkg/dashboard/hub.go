package dashboard

import "sync"

// hub tells the pages being watched that something they show has changed.
// A page watches one experiment (its key, "namespace/name") or all of them
// (the key ""). A subscriber's channel holds one pending change at most:
// changes that come while one is pending merge into it, so a slow browser
// costs the informers nothing.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func newHub() *hub { return &hub{subs: map[string]map[chan struct{}]struct{}{}} }

// subscribe returns a channel that receives when the experiment of key (or
// any, for "") changes, and the function that ends the subscription.
func (h *hub) subscribe(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[key] == nil {
		h.subs[key] = map[chan struct{}]struct{}{}
	}
	h.subs[key][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[key], ch)
		if len(h.subs[key]) == 0 {
			delete(h.subs, key)
		}
		h.mu.Unlock()
	}
}

// notify tells the watchers of the experiment of key, and those of every
// experiment, that it changed.
func (h *hub) notify(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, k := range []string{key, ""} {
		for ch := range h.subs[k] {
			select {
			case ch <- struct{}{}:
			default: // one is pending already
			}
		}
	}
}

// watchers is the number of subscriptions, for tests.
func (h *hub) watchers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.subs {
		n += len(s)
	}
	return n
}
