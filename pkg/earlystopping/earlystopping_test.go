package earlystopping_test

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"knobs.dev/knobs/pkg/earlystopping"
	"knobs.dev/knobs/pkg/earlystopping/earlystoppingtest"
	"knobs.dev/knobs/pkg/earlystopping/medianstop"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func TestBadRequests(t *testing.T) {
	base := func() *pb.GetEarlyStoppingDecisionsRequest {
		return earlystoppingtest.Request(false, []earlystoppingtest.Trial{
			earlystoppingtest.Running("a", 1, 2, 3), earlystoppingtest.Succeeded("b", 1),
		})
	}
	for _, tc := range []struct {
		name   string
		change func(*pb.GetEarlyStoppingDecisionsRequest)
		want   string
	}{
		{"no objective metric", func(r *pb.GetEarlyStoppingDecisionsRequest) {
			r.Experiment.ExperimentSpec.Objective.ObjectiveMetricName = ""
		},
			"experiment.experimentSpec.objective.objectiveMetricName: missing"},
		{"no experiment", func(r *pb.GetEarlyStoppingDecisionsRequest) { r.Experiment = nil },
			"objectiveMetricName: missing"},
		{"no direction", func(r *pb.GetEarlyStoppingDecisionsRequest) {
			r.Experiment.ExperimentSpec.Objective.Type = pb.ObjectiveType_UNKNOWN
		},
			"experiment.experimentSpec.objective.type: UNKNOWN: use MINIMIZE or MAXIMIZE"},
		{"unnamed trial", func(r *pb.GetEarlyStoppingDecisionsRequest) { r.Trials[1].Name = "" },
			"trials[1].name: missing"},
		{"a trial twice", func(r *pb.GetEarlyStoppingDecisionsRequest) { r.Trials[1].Name = "a" },
			`trials[1].name: "a" is given twice`},
		{"a curve value not a number", func(r *pb.GetEarlyStoppingDecisionsRequest) {
			r.Trials[0].Status.Observation.Metrics[0].Curve[1].Value = "NaN"
		}, `trials[0] ("a").status.observation (metric "loss").curve[1]: "NaN" is not a finite number`},
		{"a curve going back", func(r *pb.GetEarlyStoppingDecisionsRequest) {
			r.Trials[0].Status.Observation.Metrics[0].Curve[2].Step = 1
		}, "curve[2]: step 1 follows step 2: send the curve by increasing step"},
		{"an observed value not a number", func(r *pb.GetEarlyStoppingDecisionsRequest) {
			r.Trials[1].Status.Observation.Metrics[0].Value = "+Inf"
		}, `trials[1] ("b").status.observation: metric "loss": "+Inf" is not a finite number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base()
			tc.change(req)
			svc := &function.EarlyStoppingService{Name: "medianstop", Algorithm: medianstop.MedianStop{}}
			_, err := svc.GetEarlyStoppingDecisions(context.Background(), req)
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Errorf("%v, want InvalidArgument with %q", err, tc.want)
			}
		})
	}
}

func TestCheckDecisions(t *testing.T) {
	trials := []earlystopping.Trial{{Name: "a", Condition: pb.TrialCondition_RUNNING}, {Name: "b", Condition: pb.TrialCondition_SUCCEEDED}}
	for _, tc := range []struct {
		decisions []earlystopping.Decision
		want      string
	}{
		{[]earlystopping.Decision{{Trial: "a"}}, ""},
		{[]earlystopping.Decision{{Trial: "z"}}, `decisions[0] names "z", which is not a trial of the request`},
		{[]earlystopping.Decision{{Trial: "b"}}, `decisions[0] names "b", which is not running`},
		{[]earlystopping.Decision{{Trial: "a"}, {Trial: "a"}}, `decisions[1] names "a" again`},
	} {
		err := function.CheckDecisions(trials, tc.decisions)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("%v: %v, want %q", tc.decisions, err, tc.want)
		}
	}
}

// A broken algorithm's reply never leaves the function: it is a fault of
// the function (Internal), not of the caller.
func TestBrokenAlgorithmIsInternal(t *testing.T) {
	svc := &function.EarlyStoppingService{Name: "broken", Algorithm: stopsEveryone{}}
	req := earlystoppingtest.Request(false, []earlystoppingtest.Trial{earlystoppingtest.Succeeded("done", 1)})
	_, err := svc.GetEarlyStoppingDecisions(context.Background(), proto.Clone(req).(*pb.GetEarlyStoppingDecisionsRequest))
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "broke the reply contract") {
		t.Errorf("%v, want Internal", err)
	}
}

type stopsEveryone struct{ medianstop.MedianStop }

func (stopsEveryone) Decide(_ context.Context, _ *earlystopping.Problem, trials []earlystopping.Trial) ([]earlystopping.Decision, error) {
	var out []earlystopping.Decision
	for _, t := range trials {
		out = append(out, earlystopping.Decision{Trial: t.Name})
	}
	return out, nil
}
