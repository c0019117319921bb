// Package suggestion reconciles Suggestions: it asks the algorithm's function
// for the assignments still wanted and records them in the status.
package suggestion

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"knative.dev/pkg/controller"
	"knative.dev/pkg/logging"
	pkgreconciler "knative.dev/pkg/reconciler"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	servinglisters "knative.dev/serving/pkg/client/listers/serving/v1"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	suggestionreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/suggestion"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/function"
	"knobs.dev/knobs/pkg/reconciler"
	"knobs.dev/knobs/pkg/reconciler/suggestion/config"
	"knobs.dev/knobs/pkg/reconciler/suggestion/resources"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Reconciler implements suggestionreconciler.Interface.
type Reconciler struct {
	// pace spaces out the passes of a large Experiment; nil in tests,
	// which call ReconcileKind without an Impl.
	pace *reconciler.Pace
	// client reads the Suggestion fresh before a call, so that a status
	// read from a stale cache never decides what is asked for.
	client           versioned.Interface
	experimentLister listers.ExperimentLister
	// trialIndexer is the informer's cache of Trials, indexed by
	// Experiment (reconciler.TrialsOf).
	trialIndexer  cache.Indexer
	serviceLister servinglisters.ServiceLister
	// functions calls the algorithms' functions.
	functions *function.Client
	// rejected remembers the last request a function refused, per
	// Suggestion, so that it is not sent again: only a changed request (a
	// new spec, Experiment or trial) is worth sending.
	rejected reconciler.Keyed[[sha256.Size]byte]
	// histories keeps each Suggestion's last history sent, so that a pass
	// converts and sorts only the Trials that changed. The workqueue hands
	// a key to one worker at a time, so one pass at a time uses one.
	histories reconciler.Keyed[*history]
	// judged remembers the last early-stopping request answered or refused,
	// per Suggestion: the same request gets the same answer, so only a
	// changed one (a new report, trial or setting) is worth sending.
	judged reconciler.Keyed[[sha256.Size]byte]
}

// digest identifies a request to a function by the function's URL and
// revision (a Knative Service's latest ready revision; "" for a URL from
// config-algorithms) and the request's deterministic encoding: a new
// function, or a new revision of it behind the same URL, is worth asking
// again.
func digest(req proto.Message, url, revision string) [sha256.Size]byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	return sha256.Sum256(append([]byte(url+"\x00"+revision+"\x00"), b...))
}

var (
	_ suggestionreconciler.Interface    = (*Reconciler)(nil)
	_ pkgreconciler.OnDeletionInterface = (*Reconciler)(nil)
)

// ObserveDeletion forgets a deleted Suggestion's refused request, so that one
// created again under its name is asked anew.
func (r *Reconciler) ObserveDeletion(_ context.Context, key types.NamespacedName) error {
	r.rejected.Forget(key)
	r.judged.Forget(key)
	r.histories.Forget(key)
	return nil
}

// ReconcileKind implements suggestionreconciler.Interface.
//
// The status is written by reconciler.ReconcileStatus, with the resource
// version read: status.suggestions is a record of what was handed out, not
// state a reconcile can recompute, so it must never be overwritten by a
// status computed from a stale copy. A conflict only requeues: the next
// reconcile reads the latest copy and asks again, and a function gives the
// same reply to the same request.
func (r *Reconciler) ReconcileKind(ctx context.Context, s *v1alpha1.Suggestion) pkgreconciler.Event {
	if r.pace != nil {
		defer r.pace.Passed(types.NamespacedName{Namespace: s.Namespace, Name: s.Name}, time.Now())
	}
	return reconciler.ReconcileStatus(ctx, s, &s.Status, r.reconcile, r.client.TuningV1alpha1().Suggestions(s.Namespace).UpdateStatus)
}

// pass is what one reconcile of a Suggestion has found so far, passed from
// step to step.
type pass struct {
	s   *v1alpha1.Suggestion
	cfg *config.Config
	// url and revision are the function's (revision: a Knative Service's
	// latest ready revision, "" for a URL from config-algorithms).
	url, revision string
	exp           *v1alpha1.Experiment
	space         *searchspace.Space
	// trials are the Trials labelled with the Experiment, listed once a
	// pass; nil when the Experiment is not found.
	trials []*v1alpha1.Trial
	// history is the Suggestion's kept history; waiting, the assignments
	// handed out that have no Trial yet.
	history *history
	waiting []v1alpha1.TrialAssignment
	req     *pb.GetSuggestionsRequest
	// key is the Suggestion's, by which a refused request is remembered.
	key   types.NamespacedName
	reply *pb.GetSuggestionsReply

	// ended stops the steps after the current one, with no event: the
	// conditions say why.
	ended bool
}

// reconcile runs the steps of a reconcile in order until one ends it. A step
// ends it with an error or an event (returned), or without (pass.ended).
func (r *Reconciler) reconcile(ctx context.Context, s *v1alpha1.Suggestion) pkgreconciler.Event {
	s.Status.InitializeConditions()
	p := &pass{s: s, cfg: config.FromContext(ctx), key: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}}
	var err error
	for _, step := range []func(context.Context, *pass) error{
		r.prune,
		r.resolveFunction,
		r.findExperiment,
		r.stopIfFulfilled,
		r.makeRequest,
		r.call,
		r.record,
	} {
		if err = step(ctx, p); err != nil || p.ended {
			break
		}
	}
	// Early stopping judges the trials whatever became of the request for
	// assignments: a fulfilled Suggestion still has trials running.
	if esErr := r.earlyStop(ctx, p); esErr != nil {
		if err == nil {
			return esErr
		}
		return errors.Join(err, esErr)
	}
	return err
}

// prune lists the Experiment's Trials and drops from status.suggestions the
// assignments whose Trials the Experiment has created. A Trial is the
// durable record of its assignment (its name, its values, its outcome), so
// the Suggestion keeps only the assignments still waiting for one: its size
// is bounded by the trials in flight, not by the trials run. Names stay
// stable, the next assignment's number being suggestionCount + 1, and the
// history sent to the function is the Trials and the assignments kept.
//
// Only a Trial the Experiment controls counts: the assignment of a name
// taken by a foreign Trial is kept, and the Experiment reports the clash.
func (r *Reconciler) prune(_ context.Context, p *pass) error {
	s := p.s
	exp, err := r.experimentLister.Experiments(s.Namespace).Get(s.Name)
	if apierrs.IsNotFound(err) {
		return nil // findExperiment says so
	}
	if err != nil {
		return err
	}
	if p.trials, err = reconciler.TrialsOf(r.trialIndexer, s.Namespace, exp.Name); err != nil {
		return err
	}
	if len(s.Status.Suggestions) == 0 {
		return nil
	}
	kept := reconciler.Waiting(s.Status.Suggestions, p.trials, func(t *v1alpha1.Trial) bool {
		c := metav1.GetControllerOfNoCopy(t)
		return c != nil && c.UID == exp.UID
	})
	if len(kept) < len(s.Status.Suggestions) {
		s.Status.Suggestions = kept
	}
	return nil
}

// findExperiment finds the Experiment of the Suggestion's name.
func (r *Reconciler) findExperiment(_ context.Context, p *pass) error {
	s := p.s
	exp, err := r.experimentLister.Experiments(s.Namespace).Get(s.Name)
	if apierrs.IsNotFound(err) {
		s.Status.MarkRequestFailed(v1alpha1.ReasonExperimentNotFound,
			"no Experiment %q in namespace %q: a Suggestion hands out assignments for the Experiment of the same name", s.Name, s.Namespace)
		p.ended = true
		return nil
	}
	p.exp = exp
	return err
}

// stopIfFulfilled ends the reconcile when nothing is wanted: every request
// is handed out, or the search space has no unseen point left.
func (r *Reconciler) stopIfFulfilled(_ context.Context, p *pass) error {
	if c := p.exp.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil && !c.IsUnknown() {
		// An Experiment that has ended asks for nothing more, unless it
		// resumes: its kept history is let go until then.
		r.histories.Forget(p.key)
	}
	switch s := p.s; {
	case s.Status.SearchSpaceExhausted:
		s.Status.MarkExhausted()
		p.ended = true
	case s.Spec.Requests-s.Status.SuggestionCount <= 0:
		s.Status.MarkFulfilled()
		p.ended = true
	}
	return nil
}

// makeRequest builds the request from the Experiment, its Trials and the
// Suggestion, when the Suggestion read is the latest; a request refused
// before, and unchanged since, is not made again.
func (r *Reconciler) makeRequest(ctx context.Context, p *pass) error {
	s, exp := p.s, p.exp
	space, err := resources.ParseSpace(exp)
	if err != nil {
		s.Status.MarkRequestFailed(v1alpha1.ReasonInvalidExperiment, "Experiment %q: %v", exp.Name, err)
		return pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonInvalidExperiment, "Experiment %q: %v", exp.Name, err)
	}
	// The informer's copy may lag behind this controller's own last status
	// update (a reconcile queued again at once by a spec change): asking
	// from it would hand out again, under the same names, what is already
	// handed out. Only a copy that is the latest is acted on.
	latest, err := r.client.TuningV1alpha1().Suggestions(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if latest.ResourceVersion != s.ResourceVersion {
		return controller.NewRequeueImmediately()
	}

	p.history = r.histories.GetOrSet(p.key, func() *history { return &history{} })
	p.waiting = reconciler.Waiting(s.Status.Suggestions, p.trials, nil)
	p.space, p.req = space, resources.MakeRequestOf(s, exp, p.history.update(exp, space, p.trials), p.waiting)
	if p.req.GetRequestNumber() == 0 {
		// status.suggestions is full of assignments waiting for their
		// Trials: each Trial created frees room, and requeues.
		s.Status.MarkRequestRetrying(v1alpha1.ReasonSuggestionsHandedOut, "%d of %d assignments handed out; %d wait for their Trials before more are asked for",
			s.Status.SuggestionCount, s.Spec.Requests, len(s.Status.Suggestions))
		p.ended = true
		return nil
	}
	// Refused before, and nothing has changed; the condition says why. The
	// digest, a pass over the whole request, is taken only then.
	if refused, ok := r.rejected.Get(p.key); ok {
		p.ended = refused == digest(p.req, p.url, p.revision)
	}
	return nil
}

// call asks the function, and checks its reply against the request. A
// function that refuses the request is not asked it again.
func (r *Reconciler) call(ctx context.Context, p *pass) error {
	s, url := p.s, p.url
	callCtx, cancel := context.WithTimeout(ctx, p.cfg.Algorithms.RequestTimeout)
	defer cancel()
	reply, err := r.functions.GetSuggestions(callCtx, url, p.req)
	if err != nil {
		var ce *function.CallError
		if errors.As(err, &ce) && ce.Permanent() {
			// The function refused the request: asking again cannot help
			// until the Experiment or the Suggestion changes.
			r.rejected.Set(p.key, digest(p.req, p.url, p.revision))
			s.Status.MarkRequestFailed(v1alpha1.ReasonFunctionRejected, "%s", ce.Message)
			return pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonFunctionRejected, "the function for %q refused the request: %s", s.Spec.Algorithm.AlgorithmName, ce.Message)
		}
		s.Status.MarkRequestRetrying(v1alpha1.ReasonFunctionUnavailable, "calling %s: %v", url, err)
		// Wrapped, the event is recorded and the key requeued with backoff.
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonFunctionUnavailable, "calling %s: %v", url, err))
	}
	r.rejected.Forget(p.key)
	p.reply = reply
	return nil
}

// record checks the reply against the reply contract and records the new
// assignments; everything lands in one status update (ReconcileKind).
func (r *Reconciler) record(ctx context.Context, p *pass) error {
	s, url, reply := p.s, p.url, p.reply
	assignments, err := resources.CheckReplyWith(p.space, p.history.handed, p.waiting, reply, p.req.GetRequestNumber())
	if err != nil {
		s.Status.MarkRequestRetrying(v1alpha1.ReasonInvalidReply, "%s: %v", url, err)
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonInvalidReply, "%s: %v", url, err))
	}
	if n := resources.StateSize(resources.FromProtoSettings(reply.GetAlgorithm().GetAlgorithmSettings())); n > resources.StateBudget {
		err := fmt.Errorf("the algorithm's state (algorithm settings) takes %d bytes, more than the %d a Suggestion keeps", n, resources.StateBudget)
		s.Status.MarkRequestRetrying(v1alpha1.ReasonInvalidReply, "%s: %v", url, err)
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonInvalidReply, "%s: %v", url, err))
	}
	waiting := append([]v1alpha1.TrialAssignment(nil), s.Status.Suggestions...)
	for i, a := range assignments {
		waiting = append(waiting, v1alpha1.TrialAssignment{
			Name:                 resources.TrialName(s, int(s.Status.SuggestionCount)+i+1),
			ParameterAssignments: a,
		})
	}
	if n := resources.WaitingSize(waiting); n > resources.WaitingBudget {
		// Room leaves space for numbers of 32 characters: these are longer.
		err := fmt.Errorf("the assignments waiting for their Trials would take %d bytes, more than the %d a Suggestion keeps: values written with fewer digits fit", n, resources.WaitingBudget)
		s.Status.MarkRequestRetrying(v1alpha1.ReasonInvalidReply, "%s: %v", url, err)
		return fmt.Errorf("%w", pkgreconciler.NewEvent(corev1.EventTypeWarning, v1alpha1.ReasonInvalidReply, "%s: %v", url, err))
	}
	s.Status.Suggestions = waiting
	s.Status.SuggestionCount += int32(len(assignments))
	s.Status.AlgorithmSettings = resources.FromProtoSettings(reply.GetAlgorithm().GetAlgorithmSettings())
	logging.FromContext(ctx).Infow("suggestions handed out", "new", len(assignments), "total", s.Status.SuggestionCount, "function", url)
	if reply.GetSearchSpaceExhausted() {
		s.Status.MarkExhausted()
		return pkgreconciler.NewEvent(corev1.EventTypeNormal, v1alpha1.ReasonSearchSpaceExhausted,
			"%d new assignments; the search space has no unseen point left", len(assignments))
	}
	if s.Status.SuggestionCount < s.Spec.Requests {
		// More than one request holds: the status update brings the next.
		s.Status.MarkRequestRetrying(v1alpha1.ReasonSuggestionsHandedOut, "%d of %d assignments handed out; asking for the rest", s.Status.SuggestionCount, s.Spec.Requests)
	} else {
		s.Status.MarkFulfilled()
	}
	return pkgreconciler.NewEvent(corev1.EventTypeNormal, v1alpha1.ReasonSuggestionsHandedOut, "%d new assignments from %s", len(assignments), url)
}

// resolveFunction finds the function of the Suggestion's algorithm: a URL in
// config-algorithms, else a Knative Service labelled with the algorithm in
// the Suggestion's namespace, else in knobs-system. It marks FunctionReady
// with what it found, and reports false when nothing can be called. The
// revision is a Knative Service's latest ready revision, "" for a URL.
func (r *Reconciler) resolveFunction(_ context.Context, p *pass) error {
	url, revision, ok, err := r.findFunction(p.s, p.cfg.Algorithms)
	p.url, p.revision, p.ended = url, revision, !ok
	return err // the condition says why; a change to the function requeues
}

// findFunction finds the function of the Suggestion's algorithm (see
// resolveFunction); ok is false when nothing can be called.
func (r *Reconciler) findFunction(s *v1alpha1.Suggestion, cfg *config.Algorithms) (url, revision string, ok bool, err error) {
	f, err := r.lookupFunction(s.Namespace, s.Spec.Algorithm.AlgorithmName, cfg)
	if err != nil {
		return "", "", false, err
	}
	if !f.ok {
		s.Status.MarkFunctionNotReady(f.reason, "%s", f.message)
		return "", "", false, nil
	}
	s.Status.MarkFunctionReady(f.reason, f.url, "%s", f.message)
	return f.url, f.revision, true, nil
}

// found is the function of an algorithm, or why there is none to call.
type found struct {
	ok            bool
	url, revision string
	// reason and message say how it was found, or why it was not.
	reason, message string
}

// lookupFunction finds the function of the named algorithm, search or early
// stopping alike: a URL in config-algorithms, else a Ready Knative Service
// labelled with the algorithm in namespace, else in knobs-system.
func (r *Reconciler) lookupFunction(namespace, name string, cfg *config.Algorithms) (found, error) {
	if u, ok := cfg.URLs[name]; ok {
		return found{ok: true, url: u, reason: v1alpha1.ReasonConfigMapURL, message: fmt.Sprintf("%s maps algorithm %q to %s", config.AlgorithmsConfigName, name, u)}, nil
	}
	selector := labels.SelectorFromSet(labels.Set{tuning.AlgorithmLabelKey: name})
	namespaces := []string{namespace}
	if namespace != tuning.SystemNamespace {
		namespaces = append(namespaces, tuning.SystemNamespace)
	}
	for _, ns := range namespaces {
		svcs, err := r.serviceLister.Services(ns).List(selector)
		if err != nil {
			return found{}, err
		}
		if len(svcs) == 0 {
			continue
		}
		sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
		for _, svc := range svcs {
			if u := readyAddress(svc); u != "" {
				return found{ok: true, url: u, revision: svc.Status.LatestReadyRevisionName, reason: v1alpha1.ReasonKnativeService,
					message: fmt.Sprintf("Knative Service %s/%s serves algorithm %q at %s", ns, svc.Name, name, u)}, nil
			}
		}
		svc := svcs[0]
		why := "it has no Ready condition yet"
		if c := svc.Status.GetCondition(servingv1.ServiceConditionReady); c != nil && c.Message != "" {
			why = c.Message
		} else if c != nil {
			why = fmt.Sprintf("Ready is %s", c.Status)
		}
		return found{reason: v1alpha1.ReasonFunctionNotReady, message: fmt.Sprintf("Knative Service %s/%s for algorithm %q is not Ready: %s", ns, svc.Name, name, why)}, nil
	}
	return found{reason: v1alpha1.ReasonFunctionNotFound, message: fmt.Sprintf(
		"no function for algorithm %q: add its URL to ConfigMap %s/%s, or deploy a Knative Service labelled %s=%s in namespace %s or %s",
		name, tuning.SystemNamespace, config.AlgorithmsConfigName, tuning.AlgorithmLabelKey, name, namespace, tuning.SystemNamespace)}, nil
}

// readyAddress returns the cluster-local address of a Ready Knative Service,
// or "" when it is not Ready or has no address.
func readyAddress(svc *servingv1.Service) string {
	if !svc.IsReady() {
		return ""
	}
	if svc.Status.Address != nil && svc.Status.Address.URL != nil {
		return svc.Status.Address.URL.String()
	}
	return ""
}
