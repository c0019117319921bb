package suggestion

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgotesting "k8s.io/client-go/testing"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	rtesting "knative.dev/pkg/reconciler/testing"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclient "knobs.dev/knobs/pkg/client/injection/client/fake"
	suggestionreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/suggestion"
	"knobs.dev/knobs/pkg/earlystopping/medianstop"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler/suggestion/config"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

func TestReconcileEarlyStopping(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("/medianstop", function.NewEarlyStoppingHandler(&function.EarlyStoppingService{Name: "medianstop", Algorithm: medianstop.MedianStop{}}, function.Options{Logger: quiet}))
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	url := func(path string) string { return srv.URL + path }
	key := ns + "/" + name
	metric := "Validation-accuracy"

	one := []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}
	// A grid Suggestion with nothing left to ask for: only early stopping
	// calls a function.
	suggestion := func(opts ...SuggestionOption) *v1alpha1.Suggestion {
		base := []SuggestionOption{WithAlgorithm("grid"), WithRequests(1), WithAssignments(one), WithInitConditions,
			WithFunctionReady(v1alpha1.ReasonConfigMapURL, url("/grid"), fmt.Sprintf("config-algorithms maps algorithm %q to %s", "grid", url("/grid"))),
			WithFulfilled}
		return NewSuggestion(name, ns, append(base, opts...)...)
	}
	withMedianStop := WithSuggestionEarlyStopping("medianstop", "min_trials_required", "2", "start_step", "2")
	experiment := NewExperiment(name, ns, WithExperimentAlgorithm("grid"), WithEarlyStopping("medianstop", "min_trials_required", "2", "start_step", "2"))
	trial := func(n string, opts ...TrialOption) *v1alpha1.Trial {
		return NewTrial(n, ns, name, one, opts...)
	}
	running := func(n string, curve ...string) *v1alpha1.Trial {
		return trial(n, WithTrialRunning, WithTrialCurve(metric, curve...))
	}
	succeeded := func(n string, curve ...string) *v1alpha1.Trial {
		return trial(n, WithTrialCurve(metric, curve...), WithTrialStatus(func(s *v1alpha1.TrialStatus) { s.MarkSucceeded("done") }))
	}
	// Succeeded trials' mean accuracies 0.6 and 0.8: the median is 0.7.
	done := []runtime.Object{succeeded("s1", "0.5", "0.7"), succeeded("s2", "0.7", "0.9")}
	stopped := func(t *v1alpha1.Trial, why string) *v1alpha1.Trial {
		t = t.DeepCopy()
		t.Spec.Stop, t.Spec.StopReason, t.Spec.StopMessage = true, v1alpha1.TrialReasonEarlyStopped, "stopped early by medianstop: "+why
		return t
	}
	judged := func(s *v1alpha1.Suggestion) {
		s.Status.MarkEarlyStoppingJudged("the running trials are judged by medianstop at %s", url("/medianstop"))
	}
	objects := func(objs ...runtime.Object) []runtime.Object {
		return append(append([]runtime.Object{}, done...), objs...)
	}
	row := func(r rtesting.TableRow, paths map[string]string) rtesting.TableRow {
		algorithms := &config.Algorithms{URLs: map[string]string{"grid": url("/grid")}, RequestTimeout: 5 * time.Second}
		for alg, path := range paths {
			algorithms.URLs[alg] = url(path)
		}
		r.Ctx = config.ToContext(context.Background(), &config.Config{Algorithms: algorithms})
		return r
	}
	medianstopAt := map[string]string{"medianstop": "/medianstop"}
	losing := running("losing", "0.3", "0.4")
	winning := running("winning", "0.8", "0.9")
	whyLosing := "Validation-accuracy 0.4 at step 2 is worse than 0.7, the median of the mean Validation-accuracy of 2 succeeded trials"

	table := rtesting.TableTest{
		row(rtesting.TableRow{
			Name:              "a losing trial is stopped, a winning one goes on",
			Key:               key,
			Objects:           append(objects(suggestion(withMedianStop), experiment), losing, winning),
			WantUpdates:       []clientgotesting.UpdateActionImpl{{Object: stopped(losing, whyLosing)}},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(withMedianStop, judged)}},
			WantEvents:        []string{rtesting.Eventf(corev1.EventTypeNormal, "TrialEarlyStopped", "trial losing: stopped early by medianstop: %s", whyLosing)},
		}, medianstopAt),
		row(rtesting.TableRow{
			Name:    "a trial already stopped is not stopped again",
			Key:     key,
			Objects: append(objects(suggestion(withMedianStop, judged), experiment), stopped(losing, whyLosing)),
		}, medianstopAt),
		row(rtesting.TableRow{
			Name:              "before start_step nothing is stopped",
			Key:               key,
			Objects:           append(objects(suggestion(withMedianStop), experiment), running("young", "0.1")),
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(withMedianStop, judged)}},
		}, medianstopAt),
		row(rtesting.TableRow{
			Name:    "no running trial has reported: the function is not called",
			Key:     key,
			Objects: append(objects(suggestion(withMedianStop), experiment), trial("quiet", WithTrialRunning)),
		}, map[string]string{"medianstop": "/unavailable"}),
		row(rtesting.TableRow{
			Name: "an ended Experiment's trials are not judged",
			Key:  key,
			Objects: append(objects(suggestion(withMedianStop),
				NewExperiment(name, ns, WithExperimentAlgorithm("grid"), WithExperimentStatus(func(s *v1alpha1.ExperimentStatus) {
					s.MarkSucceeded(v1alpha1.ExperimentReasonGoalReached, "done")
				}))), losing),
		}, medianstopAt),
		row(rtesting.TableRow{
			Name:    "no function for the early-stopping algorithm: the condition says so, trials run on",
			Key:     key,
			Objects: append(objects(suggestion(withMedianStop), experiment), losing),
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(withMedianStop, func(s *v1alpha1.Suggestion) {
				s.Status.MarkEarlyStoppingFailed(v1alpha1.ReasonFunctionNotFound, "%s", fmt.Sprintf(
					`no function for algorithm "medianstop": add its URL to ConfigMap knobs-system/config-algorithms, or deploy a Knative Service labelled %s=medianstop in namespace %s or knobs-system`,
					tuning.AlgorithmLabelKey, ns))
			})}},
		}, nil),
		row(rtesting.TableRow{
			Name:    "the function refuses the settings: terminal, with its message",
			Key:     key,
			Objects: append(objects(suggestion(WithSuggestionEarlyStopping("medianstop", "start_step", "0")), experiment), losing),
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(WithSuggestionEarlyStopping("medianstop", "start_step", "0"), func(s *v1alpha1.Suggestion) {
				s.Status.MarkEarlyStoppingFailed(v1alpha1.ReasonFunctionRejected, "%s",
					`the early-stopping function for "medianstop" refused the request: earlyStopping.algorithmSettings[0]: start_step: "0" is not an integer of at least 1`)
			})}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "FunctionRejected",
				`the early-stopping function for "medianstop" refused the request: earlyStopping.algorithmSettings[0]: start_step: "0" is not an integer of at least 1`)},
		}, medianstopAt),
		row(rtesting.TableRow{
			Name:    "the function fails (5xx): retried with backoff",
			Key:     key,
			Objects: append(objects(suggestion(withMedianStop), experiment), losing),
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion(withMedianStop, func(s *v1alpha1.Suggestion) {
				s.Status.MarkEarlyStoppingRetrying(v1alpha1.ReasonFunctionUnavailable, "calling %s: function replied 503: overloaded", url("/unavailable"))
			})}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "FunctionUnavailable", "early stopping: calling %s: function replied 503: overloaded", url("/unavailable"))},
		}, map[string]string{"medianstop": "/unavailable"}),
		row(rtesting.TableRow{
			Name:              "early stopping removed: its condition goes",
			Key:               key,
			Objects:           append(objects(suggestion(judged), experiment), losing),
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: suggestion()}},
		}, medianstopAt),
	}
	table.Test(t, MakeFactory(func(ctx context.Context, listers *Listers, _ configmap.Watcher) controller.Reconciler {
		r := &Reconciler{
			client:           fakeknobsclient.Get(ctx),
			experimentLister: listers.GetExperimentLister(),
			trialIndexer:     listers.IndexerFor(&v1alpha1.Trial{}),
			serviceLister:    listers.GetServiceLister(),
			functions:        &function.Client{Source: "test"},
		}
		return suggestionreconciler.NewReconciler(ctx, logging.FromContext(ctx), fakeknobsclient.Get(ctx),
			listers.GetSuggestionLister(), controller.GetEventRecorder(ctx), r,
			controller.Options{ConfigStore: &testConfigStore{config: config.FromContext(ctx)}, SkipStatusUpdates: true})
	}))
}
