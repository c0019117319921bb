//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/observation"
	"knobs.dev/knobs/pkg/observation/report"
)

// BenchmarkReceiverThroughput measures how many observation reports per
// second go through the controller's receiver into the API server: each
// report is a CloudEvent sent by report.Reporter with the trial's token, and
// the receiver answers once it has checked the token against its cache of
// Trials and updated the Trial's status. That request goes through the
// controller's Kubernetes client, whose
// rate limit sharedmain sets (15 QPS, burst 30, for three controllers)
// unless KUBE_API_QPS and KUBE_API_BURST are in the environment, which the
// controller inherits.
//
// The Trials are written by hand, without a runSpec, and report an
// additional metric only: a trial without a workload succeeds as soon as it
// has its objective metric, and an ended trial refuses reports.
//
//	make bench-receiver
func BenchmarkReceiverThroughput(b *testing.B) {
	sink := startController(b, "controller-bench").sink
	// Any answer means the receiver is serving.
	waitFor(b, settle, func() (bool, string) {
		resp, err := http.Get(sink + "/")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return true, ""
	})
	ctx := context.Background()
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	ns := namespace(b)
	tokens, err := observation.LoadTokens(ctx, kube, tuning.SystemNamespace)
	if err != nil {
		b.Fatal(err)
	}
	// Keep-alive connections for every sender at once.
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	senders := make([]*benchSender, 5)
	for i := range senders {
		senders[i] = newBenchSender(b, ns, fmt.Sprintf("bench-%d", i+1), observation.SinkFor(sink, ns), tokens, client)
	}

	b.Run("sequential", func(b *testing.B) { benchReports(b, senders[:1]) })
	b.Run("parallel-4", func(b *testing.B) { benchReports(b, senders[1:]) })
}

// benchSender reports for one trial, with increasing steps.
type benchSender struct {
	r    *report.Reporter
	step int64 // the last step sent
}

// newBenchSender creates the trial and waits until the controller has
// reconciled it, so that its status is not written while reports are.
func newBenchSender(b *testing.B, ns, name, sink string, tokens *observation.Tokens, client *http.Client) *benchSender {
	b.Helper()
	ctx := context.Background()
	trials := env.knobs.TuningV1alpha1().Trials(ns)
	tr, err := trials.Create(ctx, &v1alpha1.Trial{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{tuning.ExperimentLabelKey: "bench"}},
		Spec: v1alpha1.TrialSpec{
			ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "--lr", Value: "0.01"}},
			Objective: &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss",
				AdditionalMetricNames: []string{"accuracy"}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	waitFor(b, settle, func() (bool, string) {
		got, err := trials.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return got.Status.ObservedGeneration == got.Generation && got.Status.Phase() == v1alpha1.TrialReasonPending,
			fmt.Sprintf("trial %s: generation %d observed %d, phase %s", name, got.Generation, got.Status.ObservedGeneration, got.Status.Phase())
	})
	// One attempt: a report the receiver could not record fails the
	// benchmark rather than being retried after a backoff.
	return &benchSender{r: &report.Reporter{Sink: sink, Namespace: ns, Name: name, Token: tokens.For(tr), HTTPClient: client, Attempts: 1}}
}

// benchReports sends b.N reports, shared among the senders, each sending
// its next report as soon as the last one is answered; then it checks that
// every trial's observation counts every report and has the last step.
func benchReports(b *testing.B, senders []*benchSender) {
	ctx := context.Background()
	before := make([]int32, len(senders))
	for i, s := range senders {
		before[i] = benchReportsOf(b, s)
	}
	sent := make([]int32, len(senders))
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(senders))
	b.ResetTimer()
	for i, s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				step := s.step + 1
				if err := s.r.Report(ctx, map[string]float64{"accuracy": float64(step%100) / 100}, &step); err != nil {
					errs <- fmt.Errorf("trial %s, step %d: %w", s.r.Name, step, err)
					return
				}
				s.step = step
				sent[i]++
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Error(err)
	}
	if b.Failed() {
		return
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")

	for i, s := range senders {
		tr, err := env.knobs.TuningV1alpha1().Trials(s.r.Namespace).Get(ctx, s.r.Name, metav1.GetOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if o := tr.Status.Observation; sent[i] > 0 && (o == nil || o.Reports != before[i]+sent[i] || o.Step == nil || *o.Step != s.step) {
			b.Errorf("trial %s: observation %+v after %d reports more, the last at step %d", s.r.Name, o, sent[i], s.step)
		}
	}
}

// benchReportsOf returns how many reports the sender's trial has counted.
func benchReportsOf(b *testing.B, s *benchSender) int32 {
	b.Helper()
	tr, err := env.knobs.TuningV1alpha1().Trials(s.r.Namespace).Get(context.Background(), s.r.Name, metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if tr.Status.Observation == nil {
		return 0
	}
	return tr.Status.Observation.Reports
}
