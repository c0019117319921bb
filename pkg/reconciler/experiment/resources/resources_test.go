package resources_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler/experiment/resources"
)

const jobTemplate = `apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      containers:
        - name: training-container
          image: trainer
          command: [train]
`

func experiment(mc *v1alpha1.MetricsCollectorSpec, primary string) *v1alpha1.Experiment {
	return &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Name: "mnist", Namespace: "tuning"},
		Spec: v1alpha1.ExperimentSpec{
			Objective:  v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"},
			Algorithm:  v1alpha1.AlgorithmSpec{AlgorithmName: "random"},
			Parameters: []v1alpha1.ParameterSpec{{Name: "lr", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0.01", Max: "0.1"}}},
			TrialTemplate: &v1alpha1.TrialTemplate{
				GoTemplate:           &v1alpha1.GoTemplate{RawTemplate: jobTemplate},
				PrimaryContainerName: primary,
			},
			MetricsCollectorSpec: mc,
		},
	}
}

func TestMakeTrialCarriesTheMetricsCollector(t *testing.T) {
	a := v1alpha1.TrialAssignment{Name: "mnist-1", ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "lr", Value: "0.05"}}}
	for _, tc := range []struct {
		name        string
		mc          *v1alpha1.MetricsCollectorSpec
		primary     string
		wantMC      *v1alpha1.MetricsCollectorSpec
		wantPrimary string
	}{{
		name: "none: the trial pushes",
	}, {
		name:        "File, defaulted, with the primary container's name",
		mc:          &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.FileCollector}, Source: &v1alpha1.SourceSpec{FileSystemPath: &v1alpha1.FileSystemPath{Path: "/var/log/m.log"}}},
		primary:     "training-container",
		wantMC:      &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.FileCollector}, Source: &v1alpha1.SourceSpec{FileSystemPath: &v1alpha1.FileSystemPath{Path: "/var/log/m.log", Kind: v1alpha1.FileKind, Format: v1alpha1.TextFormat}}},
		wantPrimary: "training-container",
	}, {
		name:   "an empty spec: Push",
		mc:     &v1alpha1.MetricsCollectorSpec{},
		wantMC: &v1alpha1.MetricsCollectorSpec{Collector: &v1alpha1.CollectorSpec{Kind: v1alpha1.PushCollector}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := experiment(tc.mc, tc.primary)
			before := e.DeepCopy()
			tr, err := resources.MakeTrial(e, a)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantMC, tr.Spec.MetricsCollector); diff != "" {
				t.Errorf("metricsCollector (-want, +got):\n%s", diff)
			}
			if tr.Spec.PrimaryContainerName != tc.wantPrimary {
				t.Errorf("primaryContainerName = %q, want %q", tr.Spec.PrimaryContainerName, tc.wantPrimary)
			}
			if diff := cmp.Diff(before, e); diff != "" {
				t.Errorf("MakeTrial changed the Experiment (-before, +after):\n%s", diff)
			}
		})
	}
}

func TestMakeTrialCarriesRetain(t *testing.T) {
	a := v1alpha1.TrialAssignment{Name: "mnist-1", ParameterAssignments: []v1alpha1.ParameterAssignment{{Name: "lr", Value: "0.05"}}}
	for _, retain := range []bool{false, true} {
		e := experiment(nil, "")
		e.Spec.TrialTemplate.Retain = retain
		tr, err := resources.MakeTrial(e, a)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Spec.RetainRun != retain || tr.Spec.Stop {
			t.Errorf("trialTemplate.retain %v: trial retainRun %v, stop %v; want retainRun %v, not stopped", retain, tr.Spec.RetainRun, tr.Spec.Stop, retain)
		}
	}
}
