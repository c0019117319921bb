package suggestion

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	clientgotesting "k8s.io/client-go/testing"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	rtesting "knative.dev/pkg/reconciler/testing"

	"knobs.dev/knobs/pkg/algorithm/grid"
	"knobs.dev/knobs/pkg/algorithm/random"
	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclient "knobs.dev/knobs/pkg/client/injection/client/fake"
	suggestionreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/suggestion"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler/suggestion/config"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

const (
	ns   = "tuning"
	name = "mnist"
)

// functions serves, on a real socket, the real random and grid functions and
// scripted functions that misbehave in the ways a foreign function might.
func functions(t *testing.T) *httptest.Server {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	mux.Handle("/random", function.NewHandler(&function.Service{Name: "random", Algorithm: random.Random{}}, function.Options{Logger: quiet}))
	mux.Handle("/grid", function.NewHandler(&function.Service{Name: "grid", Algorithm: grid.Grid{}}, function.Options{Logger: quiet}))
	mux.HandleFunc("/unavailable", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so that the server notices the caller leave
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	lr := func(v string) []*pb.ParameterAssignment {
		return []*pb.ParameterAssignment{{Name: "--lr", Value: v}, {Name: "--num-layers", Value: "2"}, {Name: "--optimizer", Value: "sgd"}}
	}
	script := func(path string, reply func(*pb.GetSuggestionsRequest) *pb.GetSuggestionsReply) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			ev, err := binding.ToEvent(r.Context(), cehttp.NewMessageFromHttpRequest(r))
			req := &pb.GetSuggestionsRequest{}
			if err != nil || proto.Unmarshal(ev.Data(), req) != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			out := event.New()
			out.SetID("reply")
			out.SetSource("test")
			out.SetType(function.TypeSuggestionReply)
			data, _ := proto.Marshal(reply(req))
			out.DataEncoded = data
			out.SetDataContentType(function.ContentTypeProtobuf)
			_ = cehttp.WriteResponseWriter(r.Context(), binding.ToMessage(&out), http.StatusOK, w)
		})
	}
	script("/short", func(*pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
		return &pb.GetSuggestionsReply{ParameterAssignments: []*pb.GetSuggestionsReply_ParameterAssignments{{Assignments: lr("0.01")}}}
	})
	script("/outside", func(req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
		return &pb.GetSuggestionsReply{ParameterAssignments: []*pb.GetSuggestionsReply_ParameterAssignments{{Assignments: lr("0.5")}}}
	})
	script("/duplicate", func(req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
		return &pb.GetSuggestionsReply{ParameterAssignments: []*pb.GetSuggestionsReply_ParameterAssignments{{Assignments: lr("0.02")}, {Assignments: lr("0.02")}}}
	})
	script("/repeat", func(req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
		return &pb.GetSuggestionsReply{ParameterAssignments: []*pb.GetSuggestionsReply_ParameterAssignments{{Assignments: lr("0.01")}}}
	})
	// /echo hands out points and returns, as state, the settings and the
	// trials it was sent, so a row can see what the reconciler sent.
	script("/echo", func(req *pb.GetSuggestionsRequest) *pb.GetSuggestionsReply {
		reply := &pb.GetSuggestionsReply{Algorithm: &pb.AlgorithmSpec{AlgorithmName: "echo"}}
		for i := int32(0); i < req.GetRequestNumber(); i++ {
			reply.ParameterAssignments = append(reply.ParameterAssignments,
				&pb.GetSuggestionsReply_ParameterAssignments{Assignments: lr(fmt.Sprintf("0.0%d", 2+i))})
		}
		var settings, trials []string
		for _, s := range req.GetExperiment().GetExperimentSpec().GetAlgorithm().GetAlgorithmSettings() {
			settings = append(settings, s.GetName()+"="+s.GetValue())
		}
		for _, tr := range req.GetTrials() {
			var metrics []string
			for _, m := range tr.GetStatus().GetObservation().GetMetrics() {
				metrics = append(metrics, m.GetName()+"="+m.GetValue())
			}
			trials = append(trials, fmt.Sprintf("%s:%s%v", tr.GetName(), tr.GetStatus().GetCondition(), metrics))
		}
		reply.Algorithm.AlgorithmSettings = []*pb.AlgorithmSetting{
			{Name: "sent-settings", Value: strings.Join(settings, ",")},
			{Name: "sent-trials", Value: strings.Join(trials, ",")},
		}
		return reply
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestReconcile(t *testing.T) {
	srv := functions(t)
	url := func(path string) string { return srv.URL + path }
	key := ns + "/" + name

	grid1 := []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}
	grid2 := []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "adam"}
	grid3 := []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "ftrl"}
	grid4 := []string{"--lr", "0.01", "--num-layers", "3", "--optimizer", "sgd"}
	grid5 := []string{"--lr", "0.01", "--num-layers", "3", "--optimizer", "adam"}

	cmReady := func(path string) SuggestionOption {
		return WithFunctionReady(v1alpha1.ReasonConfigMapURL, url(path),
			fmt.Sprintf("config-algorithms maps algorithm %q to %s", "grid", url(path)))
	}
	svcReady := func(svcNS, svcName, path string) SuggestionOption {
		return WithFunctionReady(v1alpha1.ReasonKnativeService, url(path),
			fmt.Sprintf("Knative Service %s/%s serves algorithm %q at %s", svcNS, svcName, "grid", url(path)))
	}
	gridSuggestion := func(opts ...SuggestionOption) *v1alpha1.Suggestion {
		return NewSuggestion(name, ns, append([]SuggestionOption{WithAlgorithm("grid")}, opts...)...)
	}
	gridExperiment := NewExperiment(name, ns, WithExperimentAlgorithm("grid"))

	// The random function's reply is whatever it answers the request; ask
	// it directly, as the reconciler will.
	randomSuggestion := NewSuggestion(name, ns, WithRequests(3))
	randomExperiment := NewExperiment(name, ns, WithExperimentAlgorithm("random", "random_state", "7"))
	randomReply, err := (&function.Service{Name: "random", Algorithm: random.Random{}}).GetSuggestions(context.Background(),
		resources.MakeRequest(randomSuggestion, randomExperiment, nil))
	if err != nil {
		t.Fatal(err)
	}
	var randomWant [][]string
	for _, a := range randomReply.GetParameterAssignments() {
		var nv []string
		for _, pa := range a.GetAssignments() {
			nv = append(nv, pa.GetName(), pa.GetValue())
		}
		randomWant = append(randomWant, nv)
	}

	// row configures config-algorithms for a row: algorithm → path on the
	// test's function server. The configuration travels in the row's context.
	row := func(r rtesting.TableRow, paths map[string]string, timeout ...time.Duration) rtesting.TableRow {
		algorithms := &config.Algorithms{URLs: map[string]string{}, RequestTimeout: 5 * time.Second}
		for alg, path := range paths {
			algorithms.URLs[alg] = url(path)
		}
		if len(timeout) > 0 {
			algorithms.RequestTimeout = timeout[0]
		}
		r.Ctx = config.ToContext(context.Background(), &config.Config{Algorithms: algorithms})
		return r
	}

	// full has as many assignments waiting for their Trials as its status
	// has room for.
	full := func(opts ...SuggestionOption) *v1alpha1.Suggestion {
		s := gridSuggestion(WithRequests(1 << 20))
		for resources.Room(s, gridExperiment.Spec.Parameters) > 0 {
			WithAssignments(grid1)(s)
		}
		for _, o := range opts {
			o(s)
		}
		return s
	}
	waitingFor := func(s *v1alpha1.Suggestion) {
		s.Status.MarkRequestRetrying(v1alpha1.ReasonSuggestionsHandedOut, "%d of %d assignments handed out; %d wait for their Trials before more are asked for",
			s.Status.SuggestionCount, s.Spec.Requests, len(s.Status.Suggestions))
	}

	table := rtesting.TableTest{
		row(rtesting.TableRow{
			Name:              "status.suggestions full of assignments waiting for their Trials: nothing more is asked",
			Key:               key,
			Objects:           []runtime.Object{full(), gridExperiment},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: full(WithInitConditions, cmReady("/grid"), waitingFor)}},
		}, map[string]string{"grid": "/grid"}),
		{
			Name: "bad workqueue key",
			Key:  "too/many/parts",
		},
		{
			Name: "key not found",
			Key:  "foo/not-found",
		},
		row(rtesting.TableRow{
			Name:    "no function for the algorithm",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions,
				WithFunctionNotReady(v1alpha1.ReasonFunctionNotFound, fmt.Sprintf(
					`no function for algorithm "grid": add its URL to ConfigMap knobs-system/config-algorithms, or deploy a Knative Service labelled %s=grid in namespace %s or knobs-system`,
					tuning.AlgorithmLabelKey, ns)))}},
		}, nil),
		row(rtesting.TableRow{
			Name: "function not ready",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment,
				NewService("grid", ns, "grid", WithServiceNotReady("RevisionFailed", "image pull failed")),
				NewService("grid", tuning.SystemNamespace, "grid", WithServiceReady(url("/grid")))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions,
				WithFunctionNotReady(v1alpha1.ReasonFunctionNotReady, fmt.Sprintf(`Knative Service %s/grid for algorithm "grid" is not Ready: image pull failed`, ns)))}},
		}, nil),
		row(rtesting.TableRow{
			Name: "success through a Knative Service in the system namespace",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment,
				NewService("grid", tuning.SystemNamespace, "grid", WithServiceReady(url("/grid")))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions,
				svcReady(tuning.SystemNamespace, "grid", "/grid"), WithAssignments(grid1, grid2, grid3), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "3 new assignments from %s", url("/grid"))},
		}, nil),
		row(rtesting.TableRow{
			Name: "the namespace's Knative Service comes before the system's",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(1)), gridExperiment,
				NewService("grid", ns, "grid", WithServiceReady(url("/grid"))),
				NewService("grid", tuning.SystemNamespace, "grid", WithServiceReady(url("/unavailable")))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(1), WithInitConditions,
				svcReady(ns, "grid", "/grid"), WithAssignments(grid1), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "1 new assignments from %s", url("/grid"))},
		}, nil),
		row(rtesting.TableRow{
			Name: "a config-algorithms URL comes before Knative Services",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(1)), gridExperiment,
				NewService("grid", ns, "grid", WithServiceReady(url("/unavailable")))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(1), WithInitConditions,
				cmReady("/grid"), WithAssignments(grid1), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "1 new assignments from %s", url("/grid"))},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name:    "the cached copy is stale: no call; reconciled again from the latest",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3), withResourceVersion("1")), gridExperiment},
			WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
				if action.GetVerb() != "get" || action.GetResource().Resource != "suggestions" {
					return false, nil, nil
				}
				return true, gridSuggestion(WithRequests(3), withResourceVersion("2"), WithAssignments(grid1, grid2, grid3)), nil
			}},
			WantErr: true, // a requeue
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), withResourceVersion("1"),
				WithInitConditions, cmReady("/unavailable"))}},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name:    "a status update that conflicts is not forced over the latest",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(1)), gridExperiment},
			WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
				if action.GetVerb() == "update" && action.GetSubresource() == "status" {
					return true, nil, apierrs.NewConflict(v1alpha1.Resource("suggestions"), name, errors.New("the object has been modified"))
				}
				return false, nil, nil
			}},
			WantErr: true,
			// One attempt, then a requeue: no second write from a refetched copy.
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(1), WithInitConditions,
				cmReady("/grid"), WithAssignments(grid1), WithFulfilled)}},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name:    "no Experiment",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/grid"),
				WithRequestFailed(v1alpha1.ReasonExperimentNotFound, fmt.Sprintf(
					`no Experiment %q in namespace %q: a Suggestion hands out assignments for the Experiment of the same name`, name, ns)))}},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name:    "partial requests: only the missing assignments are asked for",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(5), WithAssignments(grid1, grid2, grid3)), gridExperiment},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(5), WithInitConditions,
				cmReady("/grid"), WithAssignments(grid1, grid2, grid3, grid4, grid5), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "2 new assignments from %s", url("/grid"))},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name: "assignments whose Trials the Experiment created are dropped, and stay counted",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3), WithAssignments(grid1, grid2, grid3), WithInitConditions,
				cmReady("/unavailable"), WithFulfilled), gridExperiment,
				NewTrial(name+"-1", ns, name, grid1, WithTrialOwner(gridExperiment), WithTrialSucceeded("Validation-accuracy", "0.9")),
				NewTrial(name+"-2", ns, name, grid2, WithTrialOwner(gridExperiment))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithAssignments(grid1, grid2, grid3), WithTrialsCreated(2),
				WithInitConditions, cmReady("/unavailable"), WithFulfilled)}},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name: "the assignment of a name a foreign Trial holds is kept",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(1), WithAssignments(grid1), WithInitConditions,
				cmReady("/unavailable"), WithFulfilled), gridExperiment,
				NewTrial(name+"-1", ns, name, grid2)},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name: "names go on from suggestionCount; the function is sent the Trials and what waits for one",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(5), WithAssignments(grid1, grid2, grid3), WithTrialsCreated(2)), gridExperiment,
				NewTrial(name+"-1", ns, name, grid1, WithTrialOwner(gridExperiment), WithTrialSucceeded("Validation-accuracy", "0.9")),
				NewTrial(name+"-2", ns, name, grid2, WithTrialOwner(gridExperiment))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(5), WithInitConditions,
				cmReady("/grid"), WithAssignments(grid1, grid2, grid3, grid4, grid5), WithTrialsCreated(2), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "2 new assignments from %s", url("/grid"))},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name: "nothing wanted: the function is not called",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(2), WithAssignments(grid1, grid2), WithInitConditions,
				cmReady("/unavailable"), WithFulfilled), gridExperiment},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name: "the function refuses the request (4xx): terminal, with its message",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)),
				NewExperiment(name, ns, WithExperimentAlgorithm("grid", "random_state", "1"))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/grid"),
				WithRequestFailed(v1alpha1.ReasonFunctionRejected,
					`experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "random_state": this algorithm takes no settings`))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "FunctionRejected",
				`the function for "grid" refused the request: experiment.experimentSpec.algorithm.algorithmSettings[0]: unknown setting "random_state": this algorithm takes no settings`)},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name:    "the function fails (5xx): retried with backoff",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/unavailable"),
				WithRequestRetrying(v1alpha1.ReasonFunctionUnavailable, fmt.Sprintf("calling %s: function replied 503: overloaded", url("/unavailable"))))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "FunctionUnavailable", "calling %s: function replied 503: overloaded", url("/unavailable"))},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name:    "the function times out: retried with backoff",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/slow"),
				WithRequestRetrying(v1alpha1.ReasonFunctionUnavailable, fmt.Sprintf(`calling %s: Post "%s": context deadline exceeded`, url("/slow"), url("/slow"))))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "FunctionUnavailable", `calling %s: Post "%s": context deadline exceeded`, url("/slow"), url("/slow"))},
		}, map[string]string{"grid": "/slow"}, 100*time.Millisecond),
		row(rtesting.TableRow{
			Name:    "bad reply: fewer assignments than asked without exhaustion",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/short"),
				WithRequestRetrying(v1alpha1.ReasonInvalidReply, url("/short")+": the reply has 1 assignments for 3 asked, without saying the search space is exhausted"))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidReply", "%s: the reply has 1 assignments for 3 asked, without saying the search space is exhausted", url("/short"))},
		}, map[string]string{"grid": "/short"}),
		row(rtesting.TableRow{
			Name:    "bad reply: a value outside the feasible space",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(1)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(1), WithInitConditions, cmReady("/outside"),
				WithRequestRetrying(v1alpha1.ReasonInvalidReply, url("/outside")+`: assignment 0 of the reply: parameter "--lr": 0.5 is outside its feasible space`))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidReply", `%s: assignment 0 of the reply: parameter "--lr": 0.5 is outside its feasible space`, url("/outside"))},
		}, map[string]string{"grid": "/outside"}),
		row(rtesting.TableRow{
			Name:    "bad reply: one assignment twice",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(2)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(2), WithInitConditions, cmReady("/duplicate"),
				WithRequestRetrying(v1alpha1.ReasonInvalidReply, url("/duplicate")+`: assignment 1 of the reply: repeats assignment 0 of the reply: --lr=0.02 --num-layers=2 --optimizer=sgd`))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidReply", `%s: assignment 1 of the reply: repeats assignment 0 of the reply: --lr=0.02 --num-layers=2 --optimizer=sgd`, url("/duplicate"))},
		}, map[string]string{"grid": "/duplicate"}),
		row(rtesting.TableRow{
			Name:    "bad reply: an assignment handed out before",
			Key:     key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(2), WithAssignments(grid1)), gridExperiment},
			WantErr: true,
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(2), WithAssignments(grid1), WithInitConditions, cmReady("/repeat"),
				WithRequestRetrying(v1alpha1.ReasonInvalidReply, url("/repeat")+`: assignment 0 of the reply: repeats one handed out before: --lr=0.01 --num-layers=2 --optimizer=sgd`))}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidReply", `%s: assignment 0 of the reply: repeats one handed out before: --lr=0.01 --num-layers=2 --optimizer=sgd`, url("/repeat"))},
		}, map[string]string{"grid": "/repeat"}),
		row(rtesting.TableRow{
			Name: "search space exhausted",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(3)), NewExperiment(name, ns, WithExperimentAlgorithm("grid"),
				WithParameters(v1alpha1.ParameterSpec{Name: "n", ParameterType: v1alpha1.ParameterTypeInt, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "1", Max: "2"}}))},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(3), WithInitConditions, cmReady("/grid"),
				WithAssignments([]string{"n", "1"}, []string{"n", "2"}), WithExhausted)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SearchSpaceExhausted", "2 new assignments; the search space has no unseen point left")},
		}, map[string]string{"grid": "/grid"}),
		row(rtesting.TableRow{
			Name: "exhausted before: the function is not called again",
			Key:  key,
			Objects: []runtime.Object{gridSuggestion(WithRequests(4), WithAssignments([]string{"n", "1"}, []string{"n", "2"}),
				WithInitConditions, cmReady("/unavailable"), WithExhausted), gridExperiment},
		}, map[string]string{"grid": "/unavailable"}),
		row(rtesting.TableRow{
			Name: "state round trip, and the trials sent with their conditions and observations",
			Key:  key,
			Objects: []runtime.Object{
				gridSuggestion(WithRequests(4), WithAssignments(grid1, grid2, grid3), WithAlgorithmSettings("bracket", "2", "sent-trials", "old")),
				NewExperiment(name, ns, WithExperimentAlgorithm("grid", "eta", "3", "bracket", "0")),
				NewTrial(name+"-1", ns, name, grid1, WithTrialSucceeded("Validation-accuracy", "0.91")),
				NewTrial(name+"-2", ns, name, grid2, WithTrialRunning),
				NewTrial("other-experiment-1", ns, "other", grid3, WithTrialFailed),
			},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: gridSuggestion(WithRequests(4), WithInitConditions, cmReady("/echo"),
				WithAssignments(grid1, grid2, grid3, []string{"--lr", "0.02", "--num-layers", "2", "--optimizer", "sgd"}),
				WithAlgorithmSettings(
					"sent-settings", "eta=3,bracket=2,sent-trials=old",
					"sent-trials", name+"-1:SUCCEEDED[Validation-accuracy=0.91],"+name+"-2:RUNNING[],"+name+"-3:PENDING[]"),
				WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "1 new assignments from %s", url("/echo"))},
		}, map[string]string{"grid": "/echo"}),
		row(rtesting.TableRow{
			Name:    "random search: the function's reply, reproducibly",
			Key:     key,
			Objects: []runtime.Object{randomSuggestion, randomExperiment},
			WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: NewSuggestion(name, ns, WithRequests(3), WithInitConditions,
				WithFunctionReady(v1alpha1.ReasonConfigMapURL, url("/random"), fmt.Sprintf("config-algorithms maps algorithm %q to %s", "random", url("/random"))),
				WithAssignments(randomWant...), WithFulfilled)}},
			WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "SuggestionsHandedOut", "3 new assignments from %s", url("/random"))},
		}, map[string]string{"random": "/random"}),
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

func withResourceVersion(rv string) SuggestionOption {
	return func(s *v1alpha1.Suggestion) { s.ResourceVersion = rv }
}

type testConfigStore struct{ config *config.Config }

func (s *testConfigStore) ToContext(ctx context.Context) context.Context {
	return config.ToContext(ctx, s.config)
}
