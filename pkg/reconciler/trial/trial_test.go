package trial

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrs "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientgotesting "k8s.io/client-go/testing"
	"knative.dev/pkg/configmap"
	"knative.dev/pkg/controller"
	fakedynamicclient "knative.dev/pkg/injection/clients/dynamicclient/fake"
	"knative.dev/pkg/kmeta"
	"knative.dev/pkg/logging"
	rtesting "knative.dev/pkg/reconciler/testing"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclient "knobs.dev/knobs/pkg/client/injection/client/fake"
	trialreconciler "knobs.dev/knobs/pkg/client/injection/reconciler/tuning/v1alpha1/trial"
	"knobs.dev/knobs/pkg/observation"
	. "knobs.dev/knobs/pkg/reconciler/testing"
	"knobs.dev/knobs/pkg/reconciler/trial/resources"
)

const (
	ns   = "tuning"
	name = "mnist-1"
	key  = ns + "/" + name
	sink = "http://receiver.example"
)

var (
	now    = time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	start  = metav1.NewTime(now)
	tokens = observation.NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	a1     = []string{"--lr", "0.01"}
)

const jobSpec = `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"mnist-1"},"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"trial","image":"trial","args":["--lr=0.01"]}]}}}}`

// commandJobSpec is a Job whose container gives its command, which a
// metrics collector wraps; twoContainers one with a sidecar besides.
const (
	commandJobSpec = `{"apiVersion":"batch/v1","kind":"Job","spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"trial","image":"trial","command":["python3","train.py"],"args":["--lr=0.01"]}]}}}}`
	twoContainers  = `{"apiVersion":"batch/v1","kind":"Job","spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"proxy","image":"envoy"},{"name":"trial","image":"trial","command":["train"]}]}}}}`
	collectorImage = "registry.example.com/knobs/knobs-collector@sha256:0123"
)

// collecting is a Trial of runSpec whose metrics collector is of kind.
func collecting(kind v1alpha1.CollectorKind, runSpec string) TrialOption {
	return WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(runSpec)}
		s.MetricsCollector = &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: kind}}
	})
}

func objective() *v1alpha1.ObjectiveSpec {
	return &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"}
}

// trial is a Trial whose workload is a Job, judged by Job conditions.
func trial(opts ...TrialOption) *v1alpha1.Trial {
	return NewTrial(name, ns, "mnist", a1, append([]TrialOption{WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(jobSpec)}
		s.Objective = objective()
		s.SuccessCondition = `status.conditions.#(type=="Complete")#|#(status=="True")#`
		s.FailureCondition = `status.conditions.#(type=="Failed")#|#(status=="True")#`
	})}, opts...)...)
}

// byHand is a Trial without a workload.
func byHand(opts ...TrialOption) *v1alpha1.Trial {
	return NewTrial(name, ns, "mnist", a1, append([]TrialOption{WithTrialSpec(func(s *v1alpha1.TrialSpec) { s.Objective = objective() })}, opts...)...)
}

func status(f func(*v1alpha1.TrialStatus)) TrialOption {
	return WithTrialStatus(func(st *v1alpha1.TrialStatus) {
		st.InitializeConditions()
		f(st)
	})
}

func observed(metrics ...string) TrialOption {
	return WithTrialStatus(func(st *v1alpha1.TrialStatus) {
		st.Observation = &v1alpha1.Observation{}
		for i := 0; i+1 < len(metrics); i += 2 {
			st.Observation.Metrics = append(st.Observation.Metrics, v1alpha1.Metric{Name: metrics[i], Value: metrics[i+1]})
		}
	})
}

func started(st *v1alpha1.TrialStatus) { st.StartTime = &start }

// job is the trial's Job as the API server holds it, owned by the trial
// unless owned is false, with conditions (type, status, message...).
func job(owned bool, conds ...string) *batchv1.Job {
	j := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
	}
	if owned {
		j.OwnerReferences = []metav1.OwnerReference{*kmeta.NewControllerRef(trial())}
	}
	for i := 0; i+2 < len(conds)+1; i += 3 {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: batchv1.JobConditionType(conds[i]), Status: corev1.ConditionStatus(conds[i+1]), Message: conds[i+2]})
	}
	return j
}

// retained is a Trial that keeps its workload once it has ended.
func retained(tr *v1alpha1.Trial) { tr.Spec.RetainRun = true }

// stop is a Trial asked to stop.
func stop(tr *v1alpha1.Trial) { tr.Spec.Stop = true }

// stopEarly is a Trial its early-stopping algorithm judged to be losing.
func stopEarly(tr *v1alpha1.Trial) {
	tr.Spec.Stop, tr.Spec.StopReason = true, v1alpha1.TrialReasonEarlyStopped
	tr.Spec.StopMessage = "stopped early by medianstop: loss 0.5 at step 4 is worse than 0.3"
}

var jobs = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}

func deleted() clientgotesting.DeleteActionImpl {
	return clientgotesting.NewDeleteAction(jobs, ns, name)
}

func workload(t *testing.T, tr *v1alpha1.Trial) runtime.Object {
	t.Helper()
	w, err := resources.MakeWorkload(tr, observation.SinkFor(sink, ns), tokens.For(tr))
	if err != nil {
		t.Fatal(err)
	}
	if err := resources.AddMetricsCollector(w, tr, collectorImage); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestReconcile(t *testing.T) {
	noContainers := trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(`{"apiVersion":"batch/v1","kind":"Job","spec":{}}`)}
	}))
	_, noContainersErr := resources.MakeWorkload(noContainers, sink, "t")
	unknownKind := trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		raw, _ := json.Marshal(map[string]any{"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob", "spec": map[string]any{}})
		s.RunSpec = &runtime.RawExtension{Raw: raw}
	}))

	// The controller may not handle CronJobs (see the reconciler below).
	forbiddenKind := trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.RunSpec = &runtime.RawExtension{Raw: []byte(`{"apiVersion":"batch/v1","kind":"CronJob","spec":{}}`)}
	}))
	const forbidden = "the Knobs controller may not list, watch, create cronjobs.batch in every namespace: grant them to its ClusterRole knobs-controller (see docs/controller.md), or change the Experiment's trialTemplate"

	withPath := WithTrialSpec(func(s *v1alpha1.TrialSpec) {
		s.MetricsCollector.Source = &v1alpha1.SourceSpec{FileSystemPath: &v1alpha1.FileSystemPath{Path: "/var/log/katib/metrics.log"}}
	})
	const ambiguous = "spec.runSpec.spec.template.spec.containers has 2 containers (proxy, trial) and the trial no primaryContainerName: " +
		"set the Experiment's trialTemplate.primaryContainerName to the one that runs the training program, for the StdOut metrics collector to wrap"
	const noCommand = "spec.runSpec.spec.template.spec.containers[0].command is missing: the File metrics collector runs the program of container trial as " +
		"/knobs/bin/knobs-collector [flags] -- <command> <args>, and cannot know the entrypoint of its image; give the container its command (and args) in the trial template"

	table := rtesting.TableTest{{
		Name: "bad workqueue key",
		Key:  "too/many/parts",
	}, {
		Name: "key not found",
		Key:  "foo/not-found",
	}, {
		Name:    "no workload and no observation: pending, saying how to write one",
		Key:     key,
		Objects: []runtime.Object{byHand()},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: byHand(status(func(st *v1alpha1.TrialStatus) {
			st.MarkPending("no workload to run: write the observation with kubectl patch trial mnist-1 --subresource=status")
		}))}},
	}, {
		Name:    "no workload, the observation written by hand: succeeded",
		Key:     key,
		Objects: []runtime.Object{byHand(observed("loss", "0.25"))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: byHand(observed("loss", "0.25"), status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkSucceeded("the observation has loss=0.25")
		}))}},
	}, {
		Name:        "the workload is created with K_SINK and the trial's token",
		Key:         key,
		Objects:     []runtime.Object{trial()},
		WantCreates: []runtime.Object{workload(t, trial())},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadCreated", "created Job mnist-1")},
	}, {
		Name:    "the workload runs",
		Key:     key,
		Objects: []runtime.Object{trial(status(started)), job(true)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		}))}},
	}, {
		Name:    "the workload succeeded with the objective reported: succeeded",
		Key:     key,
		Objects: []runtime.Object{trial(status(started), observed("loss", "0.5")), job(true, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkSucceeded("Job mnist-1 succeeded; loss=0.5")
		}))}},
	}, {
		Name:    "the workload succeeded without the objective: metrics unavailable",
		Key:     key,
		Objects: []runtime.Object{trial(status(started), observed("accuracy", "0.5")), job(true, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(observed("accuracy", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkMetricsUnavailable(`Job mnist-1 succeeded without reporting the objective metric "loss" to $K_SINK`)
		}))}},
	}, {
		Name:        "StdOut: the workload is created with the collector running the primary container",
		Key:         key,
		Objects:     []runtime.Object{trial(collecting(v1alpha1.StdOutCollector, commandJobSpec))},
		WantCreates: []runtime.Object{workload(t, trial(collecting(v1alpha1.StdOutCollector, commandJobSpec)))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.StdOutCollector, commandJobSpec), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadCreated", "created Job mnist-1")},
	}, {
		Name:    "StdOut: several containers and no primaryContainerName: failed, saying to set it",
		Key:     key,
		Objects: []runtime.Object{trial(collecting(v1alpha1.StdOutCollector, twoContainers))},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.StdOutCollector, twoContainers), status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkFailed("%s", ambiguous)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidMetricsCollector", "%s", ambiguous)},
	}, {
		Name:    "File: a primary container without command: failed, saying to add it",
		Key:     key,
		Objects: []runtime.Object{trial(collecting(v1alpha1.FileCollector, jobSpec), withPath)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.FileCollector, jobSpec), withPath, status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkFailed("%s", noCommand)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidMetricsCollector", "%s", noCommand)},
	}, {
		Name:    "StdOut: the workload succeeded without the objective: metrics unavailable, saying where it was looked for",
		Key:     key,
		Objects: []runtime.Object{trial(collecting(v1alpha1.StdOutCollector, commandJobSpec), status(started)), job(true, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.StdOutCollector, commandJobSpec), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkMetricsUnavailable(`Job mnist-1 succeeded without printing the objective metric "loss" in a form the StdOut metrics collector reads (source.filter.metricsFormat)`)
		}))}},
	}, {
		Name:    "None: the workload is created as it is, and succeeds without metrics",
		Key:     key,
		Objects: []runtime.Object{trial(collecting(v1alpha1.NoneCollector, jobSpec), status(started)), job(true, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.NoneCollector, jobSpec), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkSucceeded("Job mnist-1 succeeded; its metrics collector is None, so no metric is awaited")
		}))}},
	}, {
		Name:        "None: the workload is created unchanged",
		Key:         key,
		Objects:     []runtime.Object{trial(collecting(v1alpha1.NoneCollector, jobSpec))},
		WantCreates: []runtime.Object{workload(t, trial())},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(collecting(v1alpha1.NoneCollector, jobSpec), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadCreated", "created Job mnist-1")},
	}, {
		Name:    "the workload failed: failed, with its message",
		Key:     key,
		Objects: []runtime.Object{trial(status(started)), job(true, "Failed", "True", "BackoffLimitExceeded: exit 1")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkFailed("Job mnist-1 failed: BackoffLimitExceeded: exit 1")
		}))}},
	}, {
		Name:    "a workload of the trial's name not controlled by it is left alone",
		Key:     key,
		Objects: []runtime.Object{trial(), job(false, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			st.MarkPending("Job mnist-1 exists and is not controlled by this trial: delete it, and the trial creates its own")
		}))}},
	}, {
		Name:    "a runSpec without containers fails the trial with what to fix",
		Key:     key,
		Objects: []runtime.Object{noContainers},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) { s.RunSpec = noContainers.Spec.RunSpec }),
			status(func(st *v1alpha1.TrialStatus) {
				st.CompletionTime = &start
				st.MarkFailed("%v", noContainersErr)
			}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidWorkload", "%v", noContainersErr)},
	}, {
		Name:    "a kind the API server does not serve: pending, retried",
		Key:     key,
		Objects: []runtime.Object{unknownKind},
		WantErr: true,
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) { s.RunSpec = unknownKind.Spec.RunSpec }),
			status(func(st *v1alpha1.TrialStatus) {
				st.MarkPending("the API server does not serve PyTorchJob kubeflow.org/v1: install it, or change the Experiment's trialTemplate")
			}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "UnknownWorkloadKind", "the API server does not serve kubeflow.org/v1, Kind=PyTorchJob")},
	}, {
		Name:    "a kind the controller may not list, watch or create: pending with the grant to make, no informer, retried",
		Key:     key,
		Objects: []runtime.Object{forbiddenKind},
		WantErr: true,
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) { s.RunSpec = forbiddenKind.Spec.RunSpec }),
			status(func(st *v1alpha1.TrialStatus) { st.MarkPending("%s", forbidden) }))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "WorkloadForbidden", "%s", forbidden)},
	}, {
		Name: "an ended trial of a kind the controller may not see is left as it is",
		Key:  key,
		Objects: []runtime.Object{trial(WithTrialSpec(func(s *v1alpha1.TrialSpec) { s.RunSpec = forbiddenKind.Spec.RunSpec }),
			status(func(st *v1alpha1.TrialStatus) { st.MarkFailed("done") }))},
	}, {
		Name:    "the API server refuses the workload: failed, saying why",
		Key:     key,
		Objects: []runtime.Object{trial()},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() == "create" && action.GetResource().Resource == "jobs" {
				return true, nil, apierrs.NewInvalid(schema.GroupKind{Group: "batch", Kind: "Job"}, name, nil)
			}
			return false, nil, nil
		}},
		WantCreates: []runtime.Object{workload(t, trial())},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkFailed(`the API server refused Job mnist-1: Job.batch "mnist-1" is invalid`)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InvalidWorkload", `the API server refused Job mnist-1: Job.batch "mnist-1" is invalid`)},
	}, {
		Name:    "no permission to create the workload: pending, saying why, retried",
		Key:     key,
		Objects: []runtime.Object{trial()},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() == "create" && action.GetResource().Resource == "jobs" {
				return true, nil, apierrs.NewForbidden(schema.GroupResource{Group: "batch", Resource: "jobs"}, name, errors.New("RBAC"))
			}
			return false, nil, nil
		}},
		WantErr:     true,
		WantCreates: []runtime.Object{workload(t, trial())},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			st.MarkPending(`creating Job mnist-1: jobs.batch "mnist-1" is forbidden: RBAC`)
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeWarning, "InternalError", `creating Job mnist-1: jobs.batch "mnist-1" is forbidden: RBAC`)},
	}, {
		Name: "an ended trial's workload is deleted: retainRun is false",
		Key:  key,
		Objects: []runtime.Object{trial(observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			st.MarkSucceeded("done")
		})), job(true, "Complete", "True", "")},
		WantDeletes: []clientgotesting.DeleteActionImpl{deleted()},
		WantEvents:  []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadDeleted", "deleted Job mnist-1: the trial has ended and does not retain it")},
	}, {
		Name: "an ended trial that retains its workload keeps it",
		Key:  key,
		Objects: []runtime.Object{trial(retained, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			st.MarkSucceeded("done")
		})), job(true, "Complete", "True", "")},
	}, {
		Name: "an ended trial does not delete a workload of its name it does not control",
		Key:  key,
		Objects: []runtime.Object{trial(status(func(st *v1alpha1.TrialStatus) {
			st.MarkFailed("done")
		})), job(false)},
	}, {
		Name: "a trial asked to stop deletes its running Job and ends Killed, keeping its observation",
		Key:  key,
		Objects: []runtime.Object{trial(stop, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		})), job(true)},
		WantDeletes: []clientgotesting.DeleteActionImpl{deleted()},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stop, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkKilled("Job mnist-1 was deleted: the trial was stopped")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadStopped", "deleted Job mnist-1: the trial was stopped")},
	}, {
		Name: "a trial stopped early deletes its running Job and ends EarlyStopped, succeeded with its observation",
		Key:  key,
		Objects: []runtime.Object{trial(stopEarly, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		})), job(true)},
		WantDeletes: []clientgotesting.DeleteActionImpl{deleted()},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stopEarly, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkEarlyStopped("stopped early by medianstop: loss 0.5 at step 4 is worse than 0.3 (Job mnist-1 was deleted: the trial was stopped)")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadStopped", "deleted Job mnist-1: the trial was stopped")},
	}, {
		Name: "a trial stopped early that retains its Job suspends it and ends EarlyStopped",
		Key:  key,
		Objects: []runtime.Object{trial(stopEarly, retained, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		})), job(true)},
		WantPatches: []clientgotesting.PatchActionImpl{{
			ActionImpl: clientgotesting.ActionImpl{Namespace: ns, Verb: "patch", Resource: jobs},
			Name:       name,
			PatchType:  "application/merge-patch+json",
			Patch:      []byte(`{"spec":{"suspend":true}}`),
		}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stopEarly, retained, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkEarlyStopped("stopped early by medianstop: loss 0.5 at step 4 is worse than 0.3 (Job mnist-1 was suspended: the trial was stopped)")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadStopped", "suspended Job mnist-1: the trial was stopped")},
	}, {
		Name: "a trial asked to stop that retains its Job suspends it",
		Key:  key,
		Objects: []runtime.Object{trial(stop, retained, status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.MarkRunning("Job mnist-1 is running")
		})), job(true)},
		WantPatches: []clientgotesting.PatchActionImpl{{
			ActionImpl: clientgotesting.ActionImpl{Namespace: ns, Verb: "patch", Resource: jobs},
			Name:       name,
			PatchType:  "application/merge-patch+json",
			Patch:      []byte(`{"spec":{"suspend":true}}`),
		}},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stop, retained, status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkKilled("Job mnist-1 was suspended: the trial was stopped")
		}))}},
		WantEvents: []string{rtesting.Eventf(corev1.EventTypeNormal, "WorkloadStopped", "suspended Job mnist-1: the trial was stopped")},
	}, {
		Name:    "a trial asked to stop before its workload exists creates none and ends Killed",
		Key:     key,
		Objects: []runtime.Object{trial(stop)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stop, status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkKilled("stopped before Job mnist-1 was created")
		}))}},
	}, {
		Name:    "a trial asked to stop whose Job has just completed ends as the Job did",
		Key:     key,
		Objects: []runtime.Object{trial(stop, observed("loss", "0.5"), status(started)), job(true, "Complete", "True", "")},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(stop, observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkSucceeded("Job mnist-1 succeeded; loss=0.5")
		}))}},
	}, {
		Name:    "a trial without a workload asked to stop before its observation ends Killed",
		Key:     key,
		Objects: []runtime.Object{byHand(stop)},
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: byHand(stop, status(func(st *v1alpha1.TrialStatus) {
			st.CompletionTime = &start
			st.MarkKilled("stopped before its observation was written")
		}))}},
	}, {
		Name: "an ended trial whose workload is gone is left as it is: nothing is created again",
		Key:  key,
		Objects: []runtime.Object{trial(observed("loss", "0.5"), status(func(st *v1alpha1.TrialStatus) {
			st.MarkSucceeded("done")
		}))},
	}, {
		Name:    "a status update that conflicts is not forced over a newer observation",
		Key:     key,
		Objects: []runtime.Object{trial(status(started)), job(true, "Complete", "True", "")},
		WithReactors: []clientgotesting.ReactionFunc{func(action clientgotesting.Action) (bool, runtime.Object, error) {
			if action.GetVerb() == "update" && action.GetSubresource() == "status" {
				return true, nil, apierrs.NewConflict(schema.GroupResource{Group: "tuning.knobs.dev", Resource: "trials"}, name, nil)
			}
			return false, nil, nil
		}},
		WantErr: true,
		WantStatusUpdates: []clientgotesting.UpdateActionImpl{{Object: trial(status(func(st *v1alpha1.TrialStatus) {
			started(st)
			st.CompletionTime = &start
			st.MarkMetricsUnavailable(`Job mnist-1 succeeded without reporting the objective metric "loss" to $K_SINK`)
		}))}},
	}}

	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}, meta.RESTScopeNamespace)
	mapper.Add(schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}, meta.RESTScopeNamespace)
	table.Test(t, MakeFactory(func(ctx context.Context, listers *Listers, _ configmap.Watcher) controller.Reconciler {
		r := &Reconciler{
			client:  fakeknobsclient.Get(ctx),
			dynamic: fakedynamicclient.Get(ctx),
			access:  fixedAccess{"cronjobs": {"list", "watch", "create"}},
			mapper:  mapper,
			tokens:  tokens,
			sink:    sink,
			now:     func() time.Time { return now },

			collectorImage: collectorImage,
		}
		return trialreconciler.NewReconciler(ctx, logging.FromContext(ctx), fakeknobsclient.Get(ctx),
			listers.GetTrialLister(), controller.GetEventRecorder(ctx), r, options)
	}))
}

// fixedAccess lacks, for a resource, the verbs it lists.
type fixedAccess map[string][]string

func (f fixedAccess) missing(_ context.Context, gvr schema.GroupVersionResource) ([]string, error) {
	return f[gvr.Resource], nil
}
