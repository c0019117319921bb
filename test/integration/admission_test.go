//go:build integration

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	knobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// Whoever may create Experiments but not Jobs in a namespace cannot have
// the controller create Jobs for them: config/'s ValidatingAdmissionPolicy
// refuses the Experiment (and a Trial with a Job for runSpec), naming the
// right that is missing, until the user is given it.
func TestNoBorrowedRights(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t)
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	grant := func(name string, rules ...rbacv1.PolicyRule) {
		t.Helper()
		if _, err := kube.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := kube.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	grant("tuner", rbacv1.PolicyRule{APIGroups: []string{"tuning.knobs.dev"}, Resources: []string{"experiments", "trials"}, Verbs: []string{"create", "get", "update"}})
	cfg := rest.CopyConfig(env.cp.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "alice"}
	alice := knobsclientset.NewForConfigOrDie(cfg)

	refused := func(err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want a refusal saying %q", err, want)
		}
	}
	e := braninExperiment("borrowed", ns, "random", 1, 1, 0, nil)
	_, err := alice.TuningV1alpha1().Experiments(ns).Create(ctx, e, metav1.CreateOptions{})
	refused(err, "creating this Experiment needs the right to create jobs.batch in namespace "+ns+", which alice lacks")

	computed := braninExperiment("computed", ns, "random", 1, 1, 0, nil)
	computed.Spec.TrialTemplate.GoTemplate.RawTemplate = strings.Replace(branin, "kind: Job", `kind: {{"Job"}}`, 1)
	_, err = alice.TuningV1alpha1().Experiments(ns).Create(ctx, computed, metav1.CreateOptions{})
	refused(err, "write the workload's apiVersion and kind out literally")

	trial := NewTrial("by-alice", ns, "borrowed", []string{"--x1", "1", "--x2", "2"}, WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"by-alice"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}`)}
	}))
	_, err = alice.TuningV1alpha1().Trials(ns).Create(ctx, trial, metav1.CreateOptions{})
	refused(err, "creating this Trial needs the right to create jobs.batch")

	// Without a workload there is nothing to borrow.
	byHand := braninExperiment("by-hand", ns, "random", 1, 1, 0, nil)
	byHand.Spec.TrialTemplate = nil
	if _, err := alice.TuningV1alpha1().Experiments(ns).Create(ctx, byHand, metav1.CreateOptions{}); err != nil {
		t.Errorf("an Experiment without a trial template: %v", err)
	}

	grant("jobs", rbacv1.PolicyRule{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create"}})
	waitFor(t, settle, func() (bool, string) {
		_, err := alice.TuningV1alpha1().Experiments(ns).Create(ctx, e, metav1.CreateOptions{})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := alice.TuningV1alpha1().Trials(ns).Create(ctx, trial, metav1.CreateOptions{}); err != nil {
		t.Errorf("a Trial with a Job, by a user who may create Jobs: %v", err)
	}
}

// A Trial whose workload is of a kind the controller may not list, watch
// and create stays Pending, saying which grant is missing, and no informer
// is started for that kind.
func TestWorkloadKindTheControllerMayNotHandle(t *testing.T) {
	startController(t, "controller-forbidden-kind")
	ns := namespace(t)
	tr := NewTrial("configmap", ns, "none", []string{"--x1", "1"}, WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}}`)}
	}))
	if _, err := env.knobs.TuningV1alpha1().Trials(ns).Create(context.Background(), tr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const want = "the Knobs controller may not list, watch, create, get, delete configmaps in every namespace: grant them to its ClusterRole knobs-controller"
	waitFor(t, settle, func() (bool, string) {
		c := getTrial(t, ns, "configmap").Status.GetCondition(v1alpha1.TrialConditionSucceeded)
		return c != nil && c.IsUnknown() && c.Reason == v1alpha1.TrialReasonPending && strings.HasPrefix(c.Message, want), fmt.Sprintf("%+v", c)
	})
}
