//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/observation"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	"knobs.dev/knobs/test/node"
)

const branin = `apiVersion: batch/v1
kind: Job
metadata:
  name: {{.Trial}}
  namespace: {{.NameSpace}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: trial
          image: registry.example.com/knobs/trial
          args:
            - --task=branin
{{- range .HyperParameters}}
            - "{{.Name}}={{.Value}}"
{{- end}}
`

// braninExperiment minimises the Branin function over its usual domain.
func braninExperiment(name, ns, algorithm string, parallel, maxTrials, maxFailed int32, goal *float64) *v1alpha1.Experiment {
	return NewExperiment(name, ns, WithExperimentAlgorithm(algorithm), WithCounts(parallel, maxTrials, maxFailed), func(e *v1alpha1.Experiment) {
		e.Spec.Objective = v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, Goal: goal, ObjectiveMetricName: "loss"}
		e.Spec.Parameters = []v1alpha1.ParameterSpec{
			{Name: "--x1", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "-5", Max: "10"}},
			{Name: "--x2", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0", Max: "15"}},
		}
		e.Spec.TrialTemplate = &v1alpha1.TrialTemplate{GoTemplate: &v1alpha1.GoTemplate{RawTemplate: branin}}
	})
}

func create(t *testing.T, e *v1alpha1.Experiment) {
	t.Helper()
	if _, err := env.knobs.TuningV1alpha1().Experiments(e.Namespace).Create(context.Background(), e, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func getExperiment(t *testing.T, ns, name string) *v1alpha1.Experiment {
	t.Helper()
	e, err := env.knobs.TuningV1alpha1().Experiments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func succeeded(e *v1alpha1.Experiment) string {
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("%s/%s: %s", c.Status, c.Reason, c.Message)
}

// waitEnded waits until the Experiment's Succeeded condition is True or
// False, and its status is of its latest generation.
func waitEnded(t *testing.T, ns, name string, timeout time.Duration) *v1alpha1.Experiment {
	t.Helper()
	var e *v1alpha1.Experiment
	waitFor(t, timeout, func() (bool, string) {
		e = getExperiment(t, ns, name)
		c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
		return c != nil && !c.IsUnknown() && e.Status.ObservedGeneration == e.Generation,
			fmt.Sprintf("%s; trials %d, running %d, succeeded %d, failed %d", succeeded(e), e.Status.Trials, e.Status.TrialsRunning, e.Status.TrialsSucceeded, e.Status.TrialsFailed)
	})
	return e
}

func listTrials(t *testing.T, ns, name string) []v1alpha1.Trial {
	t.Helper()
	l, err := env.knobs.TuningV1alpha1().Trials(ns).List(context.Background(), metav1.ListOptions{LabelSelector: tuning.ExperimentLabelKey + "=" + name})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(l.Items, func(i, j int) bool { return l.Items[i].CreationTimestamp.Before(&l.Items[j].CreationTimestamp) })
	return l.Items
}

// checkExperiment checks what every ended Experiment must satisfy: unless
// its trialsOnEnd is Finish, no trial runs on; its counts are those of its
// Trials; every assignment handed out has exactly one Trial, each owned by
// the Experiment; every ended Trial keeps its Job, owned by it, when the
// trial template says retain, and none otherwise; no assignment twice; the
// best trial is the best feasible succeeded or early-stopped one, and the
// others are counted infeasible.
func checkExperiment(t *testing.T, e *v1alpha1.Experiment) []v1alpha1.Trial {
	t.Helper()
	ctx := context.Background()
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	retain := e.Spec.TrialTemplate != nil && e.Spec.TrialTemplate.Retain
	var trials []v1alpha1.Trial
	// The trials under way are stopped and their Jobs deleted after the
	// Experiment ends; its counts follow.
	waitFor(t, settle, func() (bool, string) {
		e = getExperiment(t, e.Namespace, e.Name)
		trials = listTrials(t, e.Namespace, e.Name)
		done := 0
		for _, tr := range trials {
			if tr.Status.IsDone() {
				done++
			}
		}
		if e.Spec.TrialsOnEnd != v1alpha1.TrialsOnEndFinish && done < len(trials) {
			return false, fmt.Sprintf("%d of %d trials ended", done, len(trials))
		}
		if int(e.Status.TrialsPending+e.Status.TrialsRunning) != len(trials)-done {
			return false, fmt.Sprintf("%d pending and %d running counted, %d trials not ended", e.Status.TrialsPending, e.Status.TrialsRunning, len(trials)-done)
		}
		jobs, err := kube.BatchV1().Jobs(e.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		if e.Spec.TrialTemplate != nil && !retain && len(jobs.Items) > len(trials)-done {
			return false, fmt.Sprintf("%d jobs for %d trials not ended, retain being false", len(jobs.Items), len(trials)-done)
		}
		return true, ""
	})
	s := getSuggestion(t, e.Namespace, e.Name)
	checkSuggestions(t, s)
	if !metav1.IsControlledBy(s, e) {
		t.Errorf("Suggestion %s is not controlled by its Experiment", s.Name)
	}
	// An experiment that ends early (its goal reached, too many failures)
	// runs no assignment handed out after; otherwise every one has its Trial.
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	early := c != nil && (c.Reason == v1alpha1.ExperimentReasonGoalReached || c.IsFalse())
	if int(e.Status.Trials) != len(trials) || int(s.Status.SuggestionCount) < len(trials) || (!early && int(s.Status.SuggestionCount) != len(trials)) {
		t.Errorf("%d suggestions, %d trials counted, %d trials exist (%s)", s.Status.SuggestionCount, e.Status.Trials, len(trials), succeeded(e))
	}
	handed := map[string]bool{}
	for _, a := range handedOut(t, s) {
		handed[a.Name] = true
	}
	for _, tr := range trials {
		if !handed[tr.Name] {
			t.Errorf("trial %s runs no assignment handed out", tr.Name)
		}
	}
	phases := map[string]int32{}
	started := 0
	var best *v1alpha1.Trial
	var bestValue float64
	var infeasible int32
	for i := range trials {
		tr := &trials[i]
		phases[tr.Status.Phase()]++
		if tr.Status.StartTime != nil {
			started++
		}
		if !metav1.IsControlledBy(tr, e) {
			t.Errorf("trial %s is not controlled by the Experiment", tr.Name)
		}
		if e.Spec.TrialTemplate != nil && (retain || !tr.Status.IsDone()) && tr.Status.StartTime != nil {
			job, err := kube.BatchV1().Jobs(e.Namespace).Get(ctx, tr.Name, metav1.GetOptions{})
			if err != nil {
				t.Errorf("trial %s: %v", tr.Name, err)
			} else if !metav1.IsControlledBy(job, tr) {
				t.Errorf("job %s is not controlled by its trial", job.Name)
			}
		}
		completed := tr.Status.Phase() == v1alpha1.TrialReasonSucceeded || tr.Status.Phase() == v1alpha1.TrialReasonEarlyStopped
		if completed && e.Spec.Objective.Violation(tr.Status.Observation) > 0 {
			infeasible++
			continue
		}
		if m := tr.Status.Observation.Metric(e.Spec.Objective.ObjectiveMetricName); m != nil && completed {
			v, err := strconv.ParseFloat(m.Value, 64)
			if err != nil {
				t.Errorf("trial %s: %v", tr.Name, err)
			}
			if best == nil || e.Spec.Objective.Better(v, bestValue) {
				best, bestValue = tr, v
			}
		}
	}
	if jobs, err := kube.BatchV1().Jobs(e.Namespace).List(ctx, metav1.ListOptions{}); err != nil {
		t.Error(err)
	} else if retain && len(jobs.Items) != started {
		t.Errorf("%d jobs for %d trials that started one, retain being true", len(jobs.Items), started)
	} else if e.Spec.TrialTemplate != nil && !retain && len(jobs.Items) != len(trials)-int(phases[v1alpha1.TrialReasonSucceeded]+phases[v1alpha1.TrialReasonFailed]+
		phases[v1alpha1.TrialReasonMetricsUnavailable]+phases[v1alpha1.TrialReasonKilled]+phases[v1alpha1.TrialReasonEarlyStopped]) {
		t.Errorf("%d jobs left for %d trials, %d of them not ended; retain being false, an ended trial's Job is deleted", len(jobs.Items), len(trials), phases[v1alpha1.TrialReasonPending]+phases[v1alpha1.TrialReasonRunning])
	}
	st := e.Status
	got := []int32{st.TrialsPending, st.TrialsRunning, st.TrialsSucceeded, st.TrialsFailed, st.TrialsMetricsUnavailable, st.TrialsKilled, st.TrialsEarlyStopped}
	want := []int32{phases[v1alpha1.TrialReasonPending], phases[v1alpha1.TrialReasonRunning], phases[v1alpha1.TrialReasonSucceeded],
		phases[v1alpha1.TrialReasonFailed], phases[v1alpha1.TrialReasonMetricsUnavailable], phases[v1alpha1.TrialReasonKilled], phases[v1alpha1.TrialReasonEarlyStopped]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts pending/running/succeeded/failed/metricsUnavailable/killed/earlyStopped = %v, the trials say %v", got, want)
	}
	if st.TrialsInfeasible != infeasible {
		t.Errorf("%d trials counted infeasible, the trials say %d", st.TrialsInfeasible, infeasible)
	}
	switch {
	case best == nil && st.CurrentOptimalTrial != nil:
		t.Errorf("best trial %s, but no trial succeeded", st.CurrentOptimalTrial.BestTrialName)
	case best != nil && (st.CurrentOptimalTrial == nil || st.CurrentOptimalTrial.BestTrialName != best.Name):
		t.Errorf("best trial %+v, want %s (%v)", st.CurrentOptimalTrial, best.Name, bestValue)
	}
	return trials
}

// The main case: TPE on Branin, 30 trials at most, 3 at a time,
// every trial a Job whose program reports through K_SINK.
func TestExperimentTPEOnBranin(t *testing.T) {
	startController(t, "controller-tpe")
	ns := namespace(t)
	fn := startFunction(t, "tpe")
	createService(t, ns, "tpe", "tpe", fn.url)
	n := startNode(t, ns, nil)

	create(t, braninExperiment("branin", ns, "tpe", 3, 30, 0, ptr.To(0.40)))
	e := waitEnded(t, ns, "branin", 3*time.Minute)
	trials := checkExperiment(t, e)
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	best := e.Status.CurrentOptimalTrial
	switch {
	case !c.IsTrue():
		t.Fatalf("Succeeded = %s", succeeded(e))
	case c.Reason == v1alpha1.ExperimentReasonGoalReached:
		v, _ := strconv.ParseFloat(best.Observation.Metric("loss").Value, 64)
		if v > 0.40 {
			t.Errorf("goal reached with loss %v", v)
		}
	case c.Reason == v1alpha1.ExperimentReasonMaxTrialsReached:
		if len(trials) != 30 || e.Status.TrialsSucceeded != 30 {
			t.Errorf("max trials reached with %d trials, %d succeeded", len(trials), e.Status.TrialsSucceeded)
		}
	default:
		t.Errorf("Succeeded = %s", succeeded(e))
	}
	if max := n.MaxConcurrent(); max > 3 {
		t.Errorf("%d trials ran at once, parallelTrialCount being 3", max)
	}
	// Every trial ran once, as one Job. Once the goal is reached the trials
	// under way are stopped: one stopped before its Job was created has none,
	// and one whose Job was deleted within a poll of the node was not seen.
	ran, ended := 0, 0
	for _, tr := range trials {
		if tr.Status.StartTime != nil {
			ran++
		}
		if tr.Status.IsDone() && tr.Status.Phase() != v1alpha1.TrialReasonKilled {
			ended++
		}
	}
	if n.Started() > ran || n.Started() < ended || (c.Reason == v1alpha1.ExperimentReasonMaxTrialsReached && n.Started() != len(trials)) {
		t.Errorf("%d jobs ran for %d trials, %d of which started a Job and %d ran to their end", n.Started(), len(trials), ran, ended)
	}
	t.Logf("%s after %d trials; best %s: %v", c.Reason, len(trials), best.BestTrialName, best.Observation.Metrics)
}

// Failures up to maxFailedTrialCount leave the experiment running; one more
// fails it, and no trial is created after.
func TestExperimentFailures(t *testing.T) {
	startController(t, "controller-failures")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)

	// Up to: trials 1 and 3 crash, maxFailedTrialCount 2.
	startNode(t, ns, func(j *batchv1.Job) node.Outcome {
		if strings.HasSuffix(j.Name, "-1") || strings.HasSuffix(j.Name, "-3") {
			return node.Crash
		}
		return node.Execute
	})
	create(t, braninExperiment("upto", ns, "random", 2, 6, 2, nil))
	e := waitEnded(t, ns, "upto", 2*time.Minute)
	checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached ||
		e.Status.TrialsFailed != 2 || e.Status.TrialsSucceeded != 4 {
		t.Errorf("%s with %d failed, %d succeeded; want MaxTrialsReached with 2 and 4", succeeded(e), e.Status.TrialsFailed, e.Status.TrialsSucceeded)
	}
	for _, tr := range listTrials(t, ns, "upto") {
		if tr.Status.Phase() == v1alpha1.TrialReasonFailed {
			if c := tr.Status.GetCondition(v1alpha1.TrialConditionSucceeded); !strings.Contains(c.Message, "crashed on purpose") {
				t.Errorf("trial %s failed with %q, want the Job's message", tr.Name, c.Message)
			}
		}
	}

	// Past: every trial fails, one of them by succeeding without metrics.
	ns2 := namespace(t)
	createService(t, ns2, "random", "random", fn.url)
	startNode(t, ns2, func(j *batchv1.Job) node.Outcome {
		if strings.HasSuffix(j.Name, "-2") {
			return node.Silent
		}
		return node.Crash
	})
	create(t, braninExperiment("past", ns2, "random", 2, 20, 2, nil))
	e = waitEnded(t, ns2, "past", 2*time.Minute)
	time.Sleep(2 * time.Second) // a trial created after the end would show now
	e = getExperiment(t, ns2, "past")
	trials := checkExperiment(t, e)
	c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
	if !c.IsFalse() || c.Reason != v1alpha1.ExperimentReasonMaxFailedTrialsReached {
		t.Errorf("Succeeded = %s, want False/MaxFailedTrialsReached", succeeded(e))
	}
	if failures := e.Status.TrialsFailed + e.Status.TrialsMetricsUnavailable; failures < 3 || len(trials) > 4 {
		t.Errorf("%d failures in %d trials; want 3 or 4 failures (2 in flight when the third failed) and no trial after", failures, len(trials))
	}
	for _, tr := range trials {
		if tr.CreationTimestamp.After(c.LastTransitionTime.Inner.Time) {
			t.Errorf("trial %s created at %s, after the experiment failed at %s", tr.Name, tr.CreationTimestamp, c.LastTransitionTime.Inner)
		}
	}
	if e.Status.TrialsMetricsUnavailable != 1 {
		t.Errorf("%d trials without metrics, want 1", e.Status.TrialsMetricsUnavailable)
	}
}

// Observations with a wrong or missing token, or malformed, are refused with
// a status that says why, and change nothing; the right token, sent with the
// cloudevents CLI, is recorded.
func TestObservationTokens(t *testing.T) {
	c := startController(t, "controller-tokens")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	create(t, braninExperiment("tokens", ns, "random", 2, 2, 0, nil))
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	var job *batchv1.Job
	waitFor(t, settle, func() (bool, string) {
		j, err := kube.BatchV1().Jobs(ns).Get(context.Background(), "tokens-1", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if _, err := kube.BatchV1().Jobs(ns).Get(context.Background(), "tokens-2", metav1.GetOptions{}); err != nil {
			return false, err.Error()
		}
		job = j
		return true, ""
	})
	jobEnv := map[string]string{}
	for _, e := range job.Spec.Template.Spec.Containers[0].Env {
		jobEnv[e.Name] = e.Value
	}
	sink, token := jobEnv[observation.EnvSink], jobEnv[observation.EnvToken]
	if sink != observation.SinkFor(c.sink, ns) || token == "" || jobEnv[observation.EnvTrialName] != "tokens-1" {
		t.Fatalf("job environment %v; want K_SINK %s and a token", jobEnv, observation.SinkFor(c.sink, ns))
	}
	waitFor(t, settle, func() (bool, string) {
		tr := getTrial(t, ns, "tokens-1")
		return tr.Status.Phase() == v1alpha1.TrialReasonRunning, tr.Status.Phase()
	})
	before := getTrial(t, ns, "tokens-1")

	post := func(auth, typ, subject, data string) int {
		req, _ := http.NewRequest(http.MethodPost, sink, strings.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Ce-Specversion", "1.0")
		req.Header.Set("Ce-Id", "1")
		req.Header.Set("Ce-Source", "test")
		req.Header.Set("Ce-Type", typ)
		req.Header.Set("Ce-Subject", subject)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, auth, typ, subject, data string
		want                           int
	}{
		{"no token", "", observation.EventType, "tokens-1", `{"loss": 1}`, http.StatusUnauthorized},
		{"wrong token", token + "x", observation.EventType, "tokens-1", `{"loss": 1}`, http.StatusForbidden},
		{"another trial's token", token, observation.EventType, "tokens-2", `{"loss": 1}`, http.StatusForbidden},
		{"no such trial", token, observation.EventType, "tokens-3", `{"loss": 1}`, http.StatusForbidden},
		{"wrong type", token, "dev.knobs.other", "tokens-1", `{"loss": 1}`, http.StatusBadRequest},
		{"not numbers", token, observation.EventType, "tokens-1", `{"loss": "low"}`, http.StatusBadRequest},
		{"no metric of the experiment", token, observation.EventType, "tokens-1", `{"accuracy": 0.5}`, http.StatusBadRequest},
	} {
		if got := post(tc.auth, tc.typ, tc.subject, tc.data); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if after := getTrial(t, ns, "tokens-1"); after.ResourceVersion != before.ResourceVersion {
		t.Errorf("refused observations changed the trial: %+v", after.Status)
	}
	if other := getTrial(t, ns, "tokens-2"); other.Status.Observation != nil {
		t.Errorf("another trial's token wrote %+v", other.Status.Observation)
	}

	// The right token, from the cloudevents CLI as a user would.
	cli := exec.Command(filepath.Join(env.root, ".bin", "cloudevents"), "send", sink,
		"--id", "cli-1", "--source", "cli", "--type", observation.EventType, "--subject", "tokens-1",
		"--datacontenttype", "application/json", "--data", `{"loss": 2.5}`,
		"--extension", observation.TokenExtension+"="+token, "--extension", "step=3")
	var out bytes.Buffer
	cli.Stdout, cli.Stderr = &out, &out
	if err := cli.Run(); err != nil {
		t.Fatalf("cloudevents send: %v\n%s", err, out.String())
	}
	tr := getTrial(t, ns, "tokens-1")
	if m := tr.Status.Observation.Metric("loss"); m == nil || m.Value != "2.5" || tr.Status.Observation.Step == nil || *tr.Status.Observation.Step != 3 {
		t.Errorf("observation %+v after the CLI sent loss 2.5 at step 3", tr.Status.Observation)
	}
}

func getTrial(t testing.TB, ns, name string) *v1alpha1.Trial {
	t.Helper()
	tr, err := env.knobs.TuningV1alpha1().Trials(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// Without a trial template, a user writes each observation with kubectl
// patch --subresource=status, and the experiment runs on that. The first
// reaches the goal: with trialsOnEnd Finish, the experiment waits for the
// other two, then succeeds.
func TestObservationsByHand(t *testing.T) {
	startController(t, "controller-by-hand")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	e := braninExperiment("by-hand", ns, "random", 3, 3, 0, ptr.To(2.0))
	e.Spec.TrialTemplate = nil
	e.Spec.TrialsOnEnd = v1alpha1.TrialsOnEndFinish
	create(t, e)
	patch := func(name, value string) {
		t.Helper()
		waitFor(t, settle, func() (bool, string) {
			_, err := env.knobs.TuningV1alpha1().Trials(ns).Get(context.Background(), name, metav1.GetOptions{})
			return err == nil, fmt.Sprint(err)
		})
		p := fmt.Sprintf(`{"status":{"observation":{"metrics":[{"name":"loss","value":%q}]}}}`, value)
		if _, err := env.cp.Kubectl(context.Background(), nil, "patch", "trial", name, "-n", ns, "--subresource=status", "--type=merge", "-p", p); err != nil {
			t.Fatal(err)
		}
	}
	patch("by-hand-1", "1.5")
	waitFor(t, settle, func() (bool, string) {
		c := succeeded(getExperiment(t, ns, "by-hand"))
		return strings.HasPrefix(c, "Unknown/Finishing") && strings.Contains(c, "trial by-hand-1 reached loss=1.5") && strings.Contains(c, "waiting for 2"), c
	})
	patch("by-hand-2", "3.5")
	patch("by-hand-3", "2.5")
	e = waitEnded(t, ns, "by-hand", settle)
	checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonGoalReached ||
		e.Status.TrialsSucceeded != 3 || e.Status.CurrentOptimalTrial.BestTrialName != "by-hand-1" {
		t.Errorf("%s, %d succeeded, best %+v; want GoalReached after 3, by-hand-1 the best", succeeded(e), e.Status.TrialsSucceeded, e.Status.CurrentOptimalTrial)
	}
}

// The controller killed and started again mid-experiment loses and
// duplicates nothing: every assignment runs once, as one Job.
func TestExperimentSurvivesControllerRestart(t *testing.T) {
	port := freePort(t)
	c := startControllerAt(t, "controller-restart-1", port)
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	n := startNode(t, ns, nil)
	create(t, braninExperiment("restart", ns, "random", 3, 15, 0, nil))
	for round := 0; round < 2; round++ {
		target := 4 + 5*round
		waitFor(t, settle, func() (bool, string) { return n.Started() >= target, fmt.Sprintf("%d jobs started", n.Started()) })
		c.stop(syscall.SIGKILL)
		c = startControllerAt(t, fmt.Sprintf("controller-restart-%d", round+2), port)
	}
	e := waitEnded(t, ns, "restart", 2*time.Minute)
	trials := checkExperiment(t, e)
	if cond := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !cond.IsTrue() || cond.Reason != v1alpha1.ExperimentReasonMaxTrialsReached ||
		len(trials) != 15 || e.Status.TrialsSucceeded != 15 || n.Started() != 15 {
		t.Errorf("%s with %d trials, %d succeeded, %d jobs run; want 15 of each", succeeded(e), len(trials), e.Status.TrialsSucceeded, n.Started())
	}
}

// An exhausted grid ends the experiment cleanly, before maxTrialCount.
func TestExperimentExhaustsGrid(t *testing.T) {
	startController(t, "controller-grid")
	ns := namespace(t)
	fn := startFunction(t, "grid")
	createService(t, ns, "grid", "grid", fn.url)
	startNode(t, ns, nil)
	e := braninExperiment("grid", ns, "grid", 2, 20, 0, nil)
	e.Spec.Parameters = []v1alpha1.ParameterSpec{
		{Name: "--x1", ParameterType: v1alpha1.ParameterTypeDiscrete, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"-3", "3", "9"}}},
		{Name: "--x2", ParameterType: v1alpha1.ParameterTypeDiscrete, FeasibleSpace: v1alpha1.FeasibleSpace{List: []string{"2", "12"}}},
	}
	create(t, e)
	e = waitEnded(t, ns, "grid", 2*time.Minute)
	trials := checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonSearchSpaceExhausted ||
		len(trials) != 6 || e.Status.TrialsSucceeded != 6 {
		t.Errorf("%s with %d trials, %d succeeded; want SearchSpaceExhausted after 6", succeeded(e), len(trials), e.Status.TrialsSucceeded)
	}
	// The best of the six grid points of Branin: (-3, 12), loss 0.498.
	if b := e.Status.CurrentOptimalTrial; b == nil || fmt.Sprint(b.ParameterAssignments) != "[{--x1 -3} {--x2 12}]" ||
		!strings.HasPrefix(b.Observation.Metric("loss").Value, "0.4979") {
		t.Errorf("best trial %+v, want --x1=-3 --x2=12 with loss 0.4979...", b)
	}
}

// A broken trial template fails the experiment with the line to fix and
// creates nothing; fixing it resumes the experiment.
func TestExperimentBadTemplate(t *testing.T) {
	startController(t, "controller-template")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	startNode(t, ns, nil)
	e := braninExperiment("template", ns, "random", 2, 2, 0, nil)
	e.Spec.TrialTemplate.GoTemplate.RawTemplate = strings.Replace(branin, "{{- end}}", "{{- end", 1)
	create(t, e)
	waitFor(t, settle, func() (bool, string) {
		c := succeeded(getExperiment(t, ns, "template"))
		return strings.HasPrefix(c, "False/InvalidTrialTemplate") && strings.Contains(c, "line 18"), c
	})
	if trials := listTrials(t, ns, "template"); len(trials) != 0 {
		t.Errorf("%d trials created from a broken template", len(trials))
	}
	patch := fmt.Sprintf(`{"spec":{"trialTemplate":{"goTemplate":{"rawTemplate":%q}}}}`, branin)
	if _, err := env.knobs.TuningV1alpha1().Experiments(ns).Patch(context.Background(), "template", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e = waitEnded(t, ns, "template", 2*time.Minute)
	checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || e.Status.TrialsSucceeded != 2 {
		t.Errorf("%s with %d succeeded after the fix; want 2", succeeded(e), e.Status.TrialsSucceeded)
	}
}

// The Hyperband example as shipped, its trialSpec form rendered for every
// trial: each trial trains for the epochs Hyperband gives it, reporting the
// loss at every epoch, so its observation is the loss at its budget (the
// latest, as the example's metric strategy says) at the step of its budget.
func TestExampleHyperbandReportsEveryEpoch(t *testing.T) {
	startController(t, "controller-hyperband")
	ns := namespace(t)
	fn := startFunction(t, "hyperband")
	createService(t, ns, "hyperband", "hyperband", fn.url)
	startNode(t, ns, nil)
	e := readExperiment(t, "examples/experiment-hyperband.yaml")
	e.Namespace = ns
	create(t, e)
	e = waitEnded(t, ns, e.Name, 3*time.Minute)
	trials := checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || e.Status.TrialsSucceeded != int32(len(trials)) {
		t.Errorf("%s with %d of %d trials succeeded", succeeded(e), e.Status.TrialsSucceeded, len(trials))
	}
	budgets := map[string]int{}
	for _, tr := range trials {
		epochs := -1
		for _, a := range tr.Spec.ParameterAssignments {
			if a.Name == "epochs" {
				epochs, _ = strconv.Atoi(a.Value)
			}
		}
		budgets[strconv.Itoa(epochs)]++
		obs := tr.Status.Observation
		if obs == nil || obs.Step == nil || int(*obs.Step) != epochs || int(obs.Reports) != epochs {
			t.Errorf("trial %s ran %d epochs; observation %+v, want step %d after %d reports", tr.Name, epochs, obs, epochs, epochs)
			continue
		}
		if m := obs.Metric("loss"); m == nil || m.Value != m.Latest {
			t.Errorf("trial %s: loss %+v, want the latest value", tr.Name, m)
		}
	}
	t.Logf("%s: %d trials, by budget (epochs) %v", succeeded(e), len(trials), budgets)
}

func readExperiment(t *testing.T, file string) *v1alpha1.Experiment {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.root, file))
	if err != nil {
		t.Fatal(err)
	}
	e := &v1alpha1.Experiment{}
	if err := yaml.UnmarshalStrict(data, e); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return e
}

// Deleting an Experiment deletes what it owns, and what they own, through
// the garbage collector: its Suggestion, its Trials and their Jobs.
func TestDeletingAnExperimentDeletesWhatItOwns(t *testing.T) {
	startController(t, "controller-delete")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	startNode(t, ns, func(*batchv1.Job) node.Outcome { return node.Hold })
	create(t, braninExperiment("doomed", ns, "random", 3, 6, 0, nil))
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	ctx := context.Background()
	waitFor(t, settle, func() (bool, string) {
		jobs, err := kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(jobs.Items) == 3, fmt.Sprintf("%d jobs", len(jobs.Items))
	})
	if err := env.knobs.TuningV1alpha1().Experiments(ns).Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// The garbage collector finds new kinds (our CRDs) within 30 s.
	waitFor(t, 2*settle, func() (bool, string) {
		jobs, err := kube.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		trials, err := env.knobs.TuningV1alpha1().Trials(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		suggestions, err := env.knobs.TuningV1alpha1().Suggestions(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		left := len(jobs.Items) + len(trials.Items) + len(suggestions.Items)
		return left == 0, fmt.Sprintf("%d jobs, %d trials, %d suggestions left", len(jobs.Items), len(trials.Items), len(suggestions.Items))
	})
}

// A Trial of an assignment's name that the Experiment does not control is
// reported, and deleting it, as the condition says, moves the Experiment on.
func TestForeignTrialInTheWay(t *testing.T) {
	startController(t, "controller-foreign")
	ns := namespace(t)
	fn := startFunction(t, "random")
	createService(t, ns, "random", "random", fn.url)
	startNode(t, ns, nil)
	ctx := context.Background()
	foreign := NewTrial("clash-1", ns, "clash", []string{"--x1", "0", "--x2", "0"})
	if _, err := env.knobs.TuningV1alpha1().Trials(ns).Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create(t, braninExperiment("clash", ns, "random", 2, 2, 0, nil))
	waitFor(t, settle, func() (bool, string) {
		c := succeeded(getExperiment(t, ns, "clash"))
		return strings.HasPrefix(c, "Unknown/TrialNotOwned") && strings.Contains(c, "clash-1"), c
	})
	if err := env.knobs.TuningV1alpha1().Trials(ns).Delete(ctx, "clash-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e := waitEnded(t, ns, "clash", settle)
	checkExperiment(t, e)
	if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); !c.IsTrue() || e.Status.TrialsSucceeded != 2 {
		t.Errorf("%s with %d succeeded; want MaxTrialsReached with 2", succeeded(e), e.Status.TrialsSucceeded)
	}
}
