package collector

import "sync"

// Sample is the metrics one line, JSON object or event carried.
type Sample struct {
	// Step is the step the sample was measured at, when HasStep.
	Step    int64
	HasStep bool
	Metrics []Metric
}

// sampleOf returns the sample of a line's metrics: its step is the
// value of its "step" metric, else of its "epoch" metric, when whole and
// not negative. The metrics are copied; "step" and "epoch" stay only
// when filter collects them by name.
func sampleOf(ms []Metric, filter Filter) Sample {
	var s Sample
	var epoch int64
	var hasEpoch bool
	n := 0
	for _, m := range ms {
		switch m.Name {
		case stepMetric:
			s.Step, s.HasStep = stepOf(m.Value)
		case epochMetric:
			epoch, hasEpoch = stepOf(m.Value)
		}
		if filter.collects(m.Name) {
			n++
		}
	}
	if !s.HasStep && hasEpoch {
		s.Step, s.HasStep = epoch, true
	}
	if n > 0 {
		s.Metrics = make([]Metric, 0, n)
		for _, m := range ms {
			if filter.collects(m.Name) {
				s.Metrics = append(s.Metrics, m)
			}
		}
	}
	return s
}

// Batcher turns samples into reports, one per step: the samples of a
// step that arrive one after the other make one report, sent when a
// sample of another step arrives or at Flush. A step holds until another
// is given, so a program that prints `epoch=3` on a line of its own and its
// metrics on the lines after has them reported at step 3. Before any step,
// a sample is given the count of samples so far and is reported at once.
// It is safe for concurrent use.
type Batcher struct {
	mu      sync.Mutex
	emit    func(Report)
	samples int64
	pending *Report
	// step is the step under way, once a sample has given one.
	step    int64
	hasStep bool
}

// NewBatcher returns a batcher that hands each report to emit, in order.
func NewBatcher(emit func(Report)) *Batcher { return &Batcher{emit: emit} }

// Add adds a sample. One without metrics reports nothing, but its step, if
// it gives one, becomes the step under way.
func (b *Batcher) Add(s Sample) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case s.HasStep:
		b.step, b.hasStep = s.Step, true
	case b.hasStep:
		s.Step, s.HasStep = b.step, true
	}
	if len(s.Metrics) == 0 {
		return
	}
	b.samples++
	if !s.HasStep {
		b.flushLocked()
		b.emit(Report{Step: b.samples, Metrics: merge(nil, s.Metrics)})
		return
	}
	if b.pending != nil && b.pending.Step != s.Step {
		b.flushLocked()
	}
	if b.pending == nil {
		b.pending = &Report{Step: s.Step}
	}
	b.pending.Metrics = merge(b.pending.Metrics, s.Metrics)
}

// Flush sends the report of the step under way, if any.
func (b *Batcher) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
}

func (b *Batcher) flushLocked() {
	if b.pending != nil {
		b.emit(*b.pending)
		b.pending = nil
	}
}

// merge adds ms to into; a metric seen again keeps its latest value.
func merge(into, ms []Metric) []Metric {
next:
	for _, m := range ms {
		for i := range into {
			if into[i].Name == m.Name {
				into[i].Value = m.Value
				continue next
			}
		}
		into = append(into, m)
	}
	return into
}
