package trial

import (
	"context"
	"slices"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clientgotesting "k8s.io/client-go/testing"
)

func TestSelfReview(t *testing.T) {
	ctx := context.Background()
	kube := kubefake.NewSimpleClientset()
	reviews := 0
	// The controller may do anything with jobs; with cronjobs, only get
	// and create, until granted the rest.
	granted := map[string][]string{"jobs": workloadVerbs, "cronjobs": {"get", "create"}}
	kube.PrependReactor("create", "selfsubjectaccessreviews", func(a clientgotesting.Action) (bool, runtime.Object, error) {
		reviews++
		r := a.(clientgotesting.CreateAction).GetObject().(*authorizationv1.SelfSubjectAccessReview)
		attrs := r.Spec.ResourceAttributes
		r.Status.Allowed = attrs.Group == "batch" && slices.Contains(granted[attrs.Resource], attrs.Verb)
		return true, r, nil
	})
	now := time.Unix(0, 0)
	s := newSelfReview(kube)
	s.now = func() time.Time { return now }
	jobs := schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	cronjobs := schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}

	check := func(gvr schema.GroupVersionResource, want []string, wantReviews int) {
		t.Helper()
		got, err := s.missing(ctx, gvr)
		if err != nil || !slices.Equal(got, want) || reviews != wantReviews {
			t.Errorf("%s: missing %v, %v after %d reviews; want %v after %d", gvr.Resource, got, err, reviews, want, wantReviews)
		}
	}
	check(jobs, nil, len(workloadVerbs))
	check(jobs, nil, len(workloadVerbs)) // allowed once, allowed for good
	check(cronjobs, []string{"list", "watch", "delete"}, 2*len(workloadVerbs))
	check(cronjobs, []string{"list", "watch", "delete"}, 2*len(workloadVerbs)) // a denial is kept a while
	granted["cronjobs"] = workloadVerbs
	now = now.Add(s.deniedFor)
	check(cronjobs, nil, 3*len(workloadVerbs)) // then asked again
}
