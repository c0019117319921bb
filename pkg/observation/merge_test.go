package observation

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
)

type report struct {
	metrics map[string]float64
	step    *int64
}

func TestApply(t *testing.T) {
	minimize := &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"accuracy"}}
	maximize := &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMaximize, ObjectiveMetricName: "accuracy", AdditionalMetricNames: []string{"loss"}}
	strategies := &v1alpha1.ObjectiveSpec{
		Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"accuracy", "ips"},
		MetricStrategies: []v1alpha1.MetricStrategy{{Name: "loss", Value: v1alpha1.MetricStrategyLatest}, {Name: "accuracy", Value: v1alpha1.MetricStrategyMax}, {Name: "ips", Value: v1alpha1.MetricStrategyMin}},
	}
	m := func(name, value, lo, hi, latest string, curve ...v1alpha1.CurvePoint) v1alpha1.Metric {
		return v1alpha1.Metric{Name: name, Value: value, Min: lo, Max: hi, Latest: latest, Curve: curve}
	}
	at := func(step int64, value string) v1alpha1.CurvePoint {
		return v1alpha1.CurvePoint{Step: step, Value: value}
	}

	tests := []struct {
		name        string
		objective   *v1alpha1.ObjectiveSpec
		start       *v1alpha1.Observation
		reports     []report
		want        *v1alpha1.Observation
		wantIgnored []string // of the last report
	}{{
		name:      "first report",
		objective: minimize,
		reports:   []report{{metrics: map[string]float64{"loss": 0.5, "accuracy": 0.7}}},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "0.5", "0.5", "0.5", "0.5", at(1, "0.5")),
			m("accuracy", "0.7", "0.7", "0.7", "0.7", at(1, "0.7")),
		}, Reports: 1},
	}, {
		name:      "minimize keeps the smallest objective, latest of the others",
		objective: minimize,
		reports: []report{
			{metrics: map[string]float64{"loss": 0.5, "accuracy": 0.7}},
			{metrics: map[string]float64{"loss": 0.25, "accuracy": 0.9}},
			{metrics: map[string]float64{"loss": 0.375, "accuracy": 0.8}},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "0.25", "0.25", "0.5", "0.375", at(1, "0.5"), at(2, "0.25"), at(3, "0.375")),
			m("accuracy", "0.8", "0.7", "0.9", "0.8", at(1, "0.7"), at(2, "0.9"), at(3, "0.8")),
		}, Reports: 3},
	}, {
		name:      "maximize keeps the largest objective",
		objective: maximize,
		reports: []report{
			{metrics: map[string]float64{"accuracy": 0.9, "loss": 0.1}},
			{metrics: map[string]float64{"accuracy": 0.8, "loss": 0.3}},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("accuracy", "0.9", "0.8", "0.9", "0.8", at(1, "0.9"), at(2, "0.8")),
			m("loss", "0.3", "0.1", "0.3", "0.3", at(1, "0.1"), at(2, "0.3")),
		}, Reports: 2},
	}, {
		name:      "metric strategies say which value counts",
		objective: strategies,
		reports: []report{
			{metrics: map[string]float64{"loss": 0.2, "accuracy": 0.9, "ips": 100}},
			{metrics: map[string]float64{"loss": 0.4, "accuracy": 0.8, "ips": 120}},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "0.4", "0.2", "0.4", "0.4", at(1, "0.2"), at(2, "0.4")),
			m("accuracy", "0.9", "0.8", "0.9", "0.8", at(1, "0.9"), at(2, "0.8")),
			m("ips", "100", "100", "120", "120", at(1, "100"), at(2, "120")),
		}, Reports: 2},
	}, {
		name:      "objective first even when reported after the others",
		objective: minimize,
		reports: []report{
			{metrics: map[string]float64{"accuracy": 0.7}},
			{metrics: map[string]float64{"loss": 1e-9}},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "1e-09", "1e-09", "1e-09", "1e-09", at(2, "1e-09")),
			m("accuracy", "0.7", "0.7", "0.7", "0.7", at(1, "0.7")),
		}, Reports: 2},
	}, {
		name:      "metrics not reported this time keep their values",
		objective: minimize,
		start:     &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("accuracy", "0.5", "0.5", "0.5", "0.5"), m("loss", "2", "2", "3", "3")}, Reports: 4, Step: ptr.To[int64](3)},
		reports:   []report{{metrics: map[string]float64{"loss": 2.5}}},
		want:      &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "2", "2", "3", "2.5", at(5, "2.5")), m("accuracy", "0.5", "0.5", "0.5", "0.5")}, Reports: 5, Step: ptr.To[int64](3)},
	}, {
		name:      "steps: set when given, kept when not, lower accepted; the curve at the step, or the report's number",
		objective: minimize,
		reports: []report{
			{metrics: map[string]float64{"loss": 3}, step: ptr.To[int64](5)},
			{metrics: map[string]float64{"loss": 2}},
			{metrics: map[string]float64{"loss": 1}, step: ptr.To[int64](2)},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "1", "1", "3", "1", at(2, "1"), at(5, "3"))}, Step: ptr.To[int64](2), Reports: 3},
	}, {
		name:      "a report at a step the curve holds replaces its point, as one sent again",
		objective: minimize,
		reports: []report{
			{metrics: map[string]float64{"loss": 0.5, "accuracy": 0.5}, step: ptr.To[int64](1)},
			{metrics: map[string]float64{"loss": 0.4}, step: ptr.To[int64](2)},
			{metrics: map[string]float64{"loss": 0.3}, step: ptr.To[int64](1)},
		},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "0.3", "0.3", "0.5", "0.3", at(1, "0.3"), at(2, "0.4")),
			m("accuracy", "0.5", "0.5", "0.5", "0.5", at(1, "0.5")),
		}, Step: ptr.To[int64](1), Reports: 3},
	}, {
		name:      "curves written by hand out of order are put in order, the later of a step twice winning",
		objective: minimize,
		start: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "2", "1", "3", "2", at(3, "3"), at(1, "1"), at(3, "2")),
		}, Reports: 3},
		reports: []report{{metrics: map[string]float64{"loss": 4}, step: ptr.To[int64](2)}},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "1", "1", "4", "4", at(1, "1"), at(2, "4"), at(3, "2")),
		}, Step: ptr.To[int64](2), Reports: 4},
	}, {
		name:        "unknown names are ignored and returned",
		objective:   minimize,
		reports:     []report{{metrics: map[string]float64{"loss": 0.5, "lr": 0.1, "epoch_time": 3}}},
		want:        &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "0.5", "0.5", "0.5", "0.5", at(1, "0.5"))}, Reports: 1},
		wantIgnored: []string{"epoch_time", "lr"},
	}, {
		name:        "NaN of an ignored metric does not matter",
		objective:   minimize,
		reports:     []report{{metrics: map[string]float64{"loss": 0.5, "grad_norm": math.NaN()}}},
		want:        &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "0.5", "0.5", "0.5", "0.5", at(1, "0.5"))}, Reports: 1},
		wantIgnored: []string{"grad_norm"},
	}, {
		name:      "hand-written metrics are kept after the objective's",
		objective: minimize,
		start:     &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "note", Value: "42", Curve: []v1alpha1.CurvePoint{at(7, "42")}}, {Name: "loss", Value: "0.9"}}},
		reports:   []report{{metrics: map[string]float64{"loss": 0.5}}},
		want:      &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "0.5", "0.5", "0.5", "0.5", at(1, "0.5")), {Name: "note", Value: "42", Curve: []v1alpha1.CurvePoint{at(7, "42")}}}, Reports: 1},
	}, {
		name:      "a name listed twice in the objective is recorded once",
		objective: &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"loss"}},
		reports:   []report{{metrics: map[string]float64{"loss": 0.5}}},
		want:      &v1alpha1.Observation{Metrics: []v1alpha1.Metric{m("loss", "0.5", "0.5", "0.5", "0.5", at(1, "0.5"))}, Reports: 1},
	}, {
		name:      "values print in their shortest form",
		objective: minimize,
		reports:   []report{{metrics: map[string]float64{"loss": 1.0 / 3, "accuracy": 1e21}}},
		want: &v1alpha1.Observation{Metrics: []v1alpha1.Metric{
			m("loss", "0.3333333333333333", "0.3333333333333333", "0.3333333333333333", "0.3333333333333333", at(1, "0.3333333333333333")),
			m("accuracy", "1e+21", "1e+21", "1e+21", "1e+21", at(1, "1e+21")),
		}, Reports: 1},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := tc.start
			var ignored []string
			for _, r := range tc.reports {
				before := obs.DeepCopy()
				metrics := make(map[string]float64, len(r.metrics))
				for k, v := range r.metrics {
					metrics[k] = v
				}
				next, ign, err := Apply(obs, tc.objective, r.metrics, r.step)
				if err != nil {
					t.Fatalf("Apply(%v) = %v", r.metrics, err)
				}
				if d := cmp.Diff(before, obs); d != "" {
					t.Fatalf("Apply changed its input observation (-before, +after):\n%s", d)
				}
				if d := cmp.Diff(metrics, r.metrics, cmp.Comparer(func(a, b float64) bool { return a == b || (a != a && b != b) })); d != "" {
					t.Fatalf("Apply changed its input metrics:\n%s", d)
				}
				obs, ignored = next, ign
			}
			if d := cmp.Diff(tc.want, obs); d != "" {
				t.Errorf("observation (-want, +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantIgnored, ignored); d != "" {
				t.Errorf("ignored (-want, +got):\n%s", d)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	objective := &v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss", AdditionalMetricNames: []string{"accuracy"}}
	start := &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: "1", Min: "1", Max: "1", Latest: "1"}}, Reports: 1}
	tests := []struct {
		name        string
		noObjective bool
		metrics     map[string]float64
		want        string
	}{{
		name: "no metrics", metrics: map[string]float64{},
		want: `no metrics reported: send a JSON object of metric name to number, such as {"loss": 0.25}`,
	}, {
		name: "NaN", metrics: map[string]float64{"loss": math.NaN(), "accuracy": 0.5},
		want: `metric "loss" is NaN: report finite numbers only`,
	}, {
		name: "infinities", metrics: map[string]float64{"loss": math.Inf(1), "accuracy": math.Inf(-1)},
		want: `metric "accuracy" is -Inf, metric "loss" is +Inf: report finite numbers only`,
	}, {
		name: "no metric of the experiment", metrics: map[string]float64{"val_loss": 1, "acc": 0.5},
		want: `none of the reported metrics ("acc", "val_loss") is a metric of the experiment; report one of: "loss", "accuracy"`,
	}, {
		name: "no objective", noObjective: true, metrics: map[string]float64{"loss": 1},
		want: "the trial has no objective",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := objective
			if tc.noObjective {
				obj = nil
			}
			before := start.DeepCopy()
			got, _, err := Apply(start, obj, tc.metrics, ptr.To[int64](9))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply() = %v, %v; want error containing %q", got, err, tc.want)
			}
			if got != nil {
				t.Errorf("Apply() returned %+v with its error", got)
			}
			if d := cmp.Diff(before, start); d != "" {
				t.Errorf("input changed (-before, +after):\n%s", d)
			}
		})
	}
}

func TestParseData(t *testing.T) {
	tests := []struct {
		data    string
		want    map[string]float64
		wantErr string
	}{
		{data: `{"loss": 0.25}`, want: map[string]float64{"loss": 0.25}},
		{data: ` {"loss": -1e-3, "accuracy": 1} `, want: map[string]float64{"loss": -0.001, "accuracy": 1}},
		{data: `{"loss": "0.25", "accuracy": " 9E-1 "}`, want: map[string]float64{"loss": 0.25, "accuracy": 0.9}},
		{data: "{\"loss\": 0.5}\n", want: map[string]float64{"loss": 0.5}},
		{data: ``, wantErr: "no data"},
		{data: `  `, wantErr: "no data"},
		{data: `null`, wantErr: "data is null"},
		{data: `{}`, wantErr: "data is an empty object"},
		{data: `[{"loss": 1}]`, wantErr: "data is a JSON array"},
		{data: `0.5`, wantErr: "data is a JSON number"},
		{data: `"0.5"`, wantErr: "data is a JSON string"},
		{data: `true`, wantErr: "data is a JSON bool"},
		{data: `{"loss": 0.5`, wantErr: "data is not valid JSON"},
		{data: `loss=0.5`, wantErr: "data is not valid JSON"},
		{data: `{"loss": 0.5} {"loss": 1}`, wantErr: "data has more after the JSON object"},
		{data: `{"loss": 0.5}]`, wantErr: "data has more after the JSON object"},
		{data: `{"loss": {"value": 0.5}}`, wantErr: `metric "loss": is a nested object or array; want a number`},
		{data: `{"loss": [0.5]}`, wantErr: `metric "loss": is a nested object or array; want a number`},
		{data: `{"loss": null}`, wantErr: `metric "loss": is null`},
		{data: `{"loss": true}`, wantErr: `metric "loss": is true; want a number`},
		{data: `{"loss": "low"}`, wantErr: `metric "loss": "low" is not a number`},
		{data: `{"loss": ""}`, wantErr: `metric "loss": "" is not a number`},
		{data: `{"loss": 1e400}`, wantErr: `metric "loss": "1e400" is out of the range of a float64`},
	}
	for _, tc := range tests {
		t.Run(tc.data, func(t *testing.T) {
			got, err := ParseData([]byte(tc.data))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseData() = %v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseData() = %v", err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ParseData() (-want, +got):\n%s", d)
			}
		})
	}
}
