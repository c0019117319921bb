//go:build integration

package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	"knobs.dev/knobs/test/node"
)

// An Experiment that reaches its goal stops the trials still running: they
// end Killed, are not counted as succeeded, and none is the best. Their Jobs
// are deleted, or, with trialTemplate.retain, suspended and kept with the
// finished Job.
func TestEndingAnExperimentStopsItsTrials(t *testing.T) {
	startController(t, "controller-stop")
	fn := startFunction(t, "random")
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	for _, retain := range []bool{false, true} {
		t.Run(fmt.Sprintf("retain %v", retain), func(t *testing.T) {
			ns := namespace(t)
			createService(t, ns, "random", "random", fn.url)
			// The first trial runs once the other two have their Jobs; those
			// are held running, as pods that take long.
			startNode(t, ns, func(j *batchv1.Job) node.Outcome {
				if !strings.HasSuffix(j.Name, "-1") {
					return node.Hold
				}
				for deadline := time.Now().Add(settle); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
					if jobs, err := kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{}); err == nil && len(jobs.Items) == 3 {
						break
					}
				}
				return node.Execute
			})
			// Branin stays below 400 over its domain: the first trial reaches
			// the goal.
			e := braninExperiment("stop", ns, "random", 3, 6, 0, ptr.To(400.0))
			e.Spec.TrialTemplate.Retain = retain
			create(t, e)
			e = waitEnded(t, ns, "stop", 2*time.Minute)
			trials := checkExperiment(t, e)
			e = getExperiment(t, ns, "stop")
			if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonGoalReached ||
				len(trials) != 3 || e.Status.TrialsSucceeded != 1 || e.Status.TrialsKilled != 2 || e.Status.TrialsRunning != 0 ||
				e.Status.CurrentOptimalTrial == nil || e.Status.CurrentOptimalTrial.BestTrialName != "stop-1" {
				t.Errorf("%s with %d trials, %d succeeded, %d killed, %d running, best %+v; want GoalReached by stop-1, the other two killed",
					succeeded(e), len(trials), e.Status.TrialsSucceeded, e.Status.TrialsKilled, e.Status.TrialsRunning, e.Status.CurrentOptimalTrial)
			}
			jobs, err := kube.BatchV1().Jobs(ns).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !retain {
				if len(jobs.Items) != 0 {
					t.Errorf("%d jobs left, retain being false", len(jobs.Items))
				}
				return
			}
			if len(jobs.Items) != 3 {
				t.Fatalf("%d jobs, want the 3 kept", len(jobs.Items))
			}
			for _, j := range jobs.Items {
				suspended := j.Spec.Suspend != nil && *j.Spec.Suspend
				if suspended != (j.Name != "stop-1") {
					t.Errorf("job %s suspended %v; want the stopped trials' Jobs suspended, the finished one not", j.Name, suspended)
				}
			}
		})
	}
}

// Raising maxTrialCount of an Experiment that ended with MaxTrialsReached
// resumes it: the extra trials run, no assignment repeated, the first ones
// untouched. With resumePolicy Never, its end is final.
func TestExtendingAnExperiment(t *testing.T) {
	startController(t, "controller-extend")
	fn := startFunction(t, "random")
	raise := func(t *testing.T, ns, name string, max int32) {
		t.Helper()
		patch := fmt.Sprintf(`{"spec":{"maxTrialCount":%d}}`, max)
		if _, err := env.knobs.TuningV1alpha1().Experiments(ns).Patch(context.Background(), name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("resumes", func(t *testing.T) {
		t.Parallel()
		ns := namespace(t)
		createService(t, ns, "random", "random", fn.url)
		n := startNode(t, ns, nil)
		create(t, braninExperiment("more", ns, "random", 2, 2, 0, nil))
		e := waitEnded(t, ns, "more", 2*time.Minute)
		if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached || e.Status.TrialsSucceeded != 2 {
			t.Fatalf("%s with %d succeeded; want MaxTrialsReached with 2", succeeded(e), e.Status.TrialsSucceeded)
		}
		first := handedOut(t, getSuggestion(t, ns, "more"))
		raise(t, ns, "more", 5)
		waitFor(t, 2*time.Minute, func() (bool, string) {
			e = getExperiment(t, ns, "more")
			c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
			return c.IsTrue() && c.Reason == v1alpha1.ExperimentReasonMaxTrialsReached && e.Status.TrialsSucceeded == 5 && e.Status.ObservedGeneration == e.Generation,
				fmt.Sprintf("%s, %d succeeded", succeeded(e), e.Status.TrialsSucceeded)
		})
		trials := checkExperiment(t, e)
		handed := handedOut(t, getSuggestion(t, ns, "more"))
		if len(trials) != 5 || n.Started() != 5 || len(handed) != 5 ||
			fmt.Sprint(handed[:2]) != fmt.Sprint(first) {
			t.Errorf("%d trials, %d jobs, suggestions %v; want 5 of each, the first two %v unchanged", len(trials), n.Started(), handed, first)
		}
	})

	t.Run("Never", func(t *testing.T) {
		t.Parallel()
		ns := namespace(t)
		createService(t, ns, "random", "random", fn.url)
		n := startNode(t, ns, nil)
		e := braninExperiment("final", ns, "random", 1, 1, 0, nil)
		e.Spec.ResumePolicy = v1alpha1.NeverResume
		create(t, e)
		waitEnded(t, ns, "final", 2*time.Minute)
		raise(t, ns, "final", 3)
		e = waitEnded(t, ns, "final", settle)
		time.Sleep(2 * time.Second) // a trial started after would show now
		e = getExperiment(t, ns, "final")
		checkExperiment(t, e)
		if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached ||
			e.Status.Trials != 1 || getSuggestion(t, ns, "final").Status.SuggestionCount != 1 || n.Started() != 1 {
			t.Errorf("%s with %d trials, %d jobs; want it ended with 1, resumePolicy being Never", succeeded(e), e.Status.Trials, n.Started())
		}
	})
}

// Trials written by hand, labelled with an Experiment and holding an
// assignment and an observation, warm-start it: the algorithm gets them as
// history. Grid search over four points, two of them given by hand with
// their results, hands out the other two and ends with its space
// exhausted; the Experiment runs no assignment twice.
func TestWarmStartFromTrialsByHand(t *testing.T) {
	startController(t, "controller-warm")
	ns := namespace(t)
	fn := startFunction(t, "grid")
	createService(t, ns, "grid", "grid", fn.url)
	startNode(t, ns, nil)
	ctx := context.Background()
	for i, x := range [][2]string{{"-3", "2"}, {"-3", "12"}} {
		name := fmt.Sprintf("earlier-%d", i+1)
		tr := NewTrial(name, ns, "warm", []string{"--x1", x[0], "--x2", x[1]}, WithTrialSpec(func(s *v1alpha1.TrialSpec) {
			s.Objective = &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"}
		}))
		if _, err := env.knobs.TuningV1alpha1().Trials(ns).Create(ctx, tr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprintf(`{"status":{"observation":{"metrics":[{"name":"loss","value":"%d"}]}}}`, 10+i)
		if _, err := env.knobs.TuningV1alpha1().Trials(ns).Patch(ctx, name, types.MergePatchType, []byte(p), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, settle, func() (bool, string) {
			tr := getTrial(t, ns, name)
			return tr.Status.Phase() == v1alpha1.TrialReasonSucceeded, tr.Status.Phase()
		})
	}
	e := braninExperiment("warm", ns, "grid", 2, 20, 0, nil)
	e.Spec.Parameters = []v1alpha1.ParameterSpec{
		{Name: "--x1", ParameterType: v1alpha1.ParameterTypeDiscrete, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"-3", "3"}}},
		{Name: "--x2", ParameterType: v1alpha1.ParameterTypeDiscrete, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"2", "12"}}},
	}
	create(t, e)
	e = waitEnded(t, ns, "warm", 2*time.Minute)
	var handed []string
	for _, a := range handedOut(t, getSuggestion(t, ns, "warm")) {
		handed = append(handed, fmt.Sprint(a.ParameterAssignments))
	}
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonSearchSpaceExhausted ||
		fmt.Sprint(handed) != "[[{--x1 3} {--x2 2}] [{--x1 3} {--x2 12}]]" {
		t.Errorf("%s, handed out %v; want the two points not given by hand, then SearchSpaceExhausted", succeeded(e), handed)
	}
	for _, name := range []string{"warm-1", "warm-2"} {
		if tr := getTrial(t, ns, name); tr.Status.Phase() != v1alpha1.TrialReasonSucceeded || !metav1.IsControlledBy(tr, e) {
			t.Errorf("trial %s: %s, controlled by the Experiment %v", name, tr.Status.Phase(), metav1.IsControlledBy(tr, e))
		}
	}
}
