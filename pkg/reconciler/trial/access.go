package trial

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

// workloadVerbs are what the controller does with a trial's workload, in
// every namespace: watch them through an informer (list, watch), create one
// per trial, read it, and delete it once the trial has ended.
var workloadVerbs = []string{"list", "watch", "create", "get", "delete"}

// accessChecker tells whether the controller may handle workloads of a
// resource, and if not, which verbs it lacks.
type accessChecker interface {
	missing(ctx context.Context, gvr schema.GroupVersionResource) ([]string, error)
}

// selfReview asks the API server with SelfSubjectAccessReviews, as the
// controller: a resource found allowed stays so; one found denied is asked
// again after deniedFor, so that a grant takes effect without a restart
// while a stream of trials of that kind costs one review a resource and
// verb per interval.
type selfReview struct {
	kube      kubernetes.Interface
	deniedFor time.Duration
	now       func() time.Time

	mu      sync.Mutex
	allowed map[schema.GroupVersionResource]bool
	denied  map[schema.GroupVersionResource]denial
}

type denial struct {
	verbs []string
	until time.Time
}

func newSelfReview(kube kubernetes.Interface) *selfReview {
	return &selfReview{kube: kube, deniedFor: 30 * time.Second, now: time.Now,
		allowed: map[schema.GroupVersionResource]bool{}, denied: map[schema.GroupVersionResource]denial{}}
}

func (s *selfReview) missing(ctx context.Context, gvr schema.GroupVersionResource) ([]string, error) {
	s.mu.Lock()
	if s.allowed[gvr] {
		s.mu.Unlock()
		return nil, nil
	}
	if d, ok := s.denied[gvr]; ok && s.now().Before(d.until) {
		s.mu.Unlock()
		return d.verbs, nil
	}
	s.mu.Unlock()

	var lacks []string
	for _, verb := range workloadVerbs {
		review, err := s.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Group: gvr.Group, Version: gvr.Version, Resource: gvr.Resource, Verb: verb,
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("asking whether the controller may %s %s: %w", verb, gvr.GroupResource(), err)
		}
		if !review.Status.Allowed {
			lacks = append(lacks, verb)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(lacks) == 0 {
		s.allowed[gvr] = true
		delete(s.denied, gvr)
	} else {
		s.denied[gvr] = denial{verbs: lacks, until: s.now().Add(s.deniedFor)}
	}
	return lacks, nil
}

// lacking says what the controller lacks, for a condition.
func lacking(gvr schema.GroupVersionResource, verbs []string) string {
	return fmt.Sprintf("the Knobs controller may not %s %s in every namespace: grant them to its ClusterRole knobs-controller (see docs/controller.md), or change the Experiment's trialTemplate",
		strings.Join(verbs, ", "), gvr.GroupResource())
}
