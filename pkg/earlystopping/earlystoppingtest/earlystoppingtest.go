// Package earlystoppingtest helps test early-stopping algorithms: it builds
// requests from compact descriptions of trials and runs an algorithm on them
// as the function runtime would.
package earlystoppingtest

import (
	"context"
	"sort"
	"strconv"
	"testing"

	"knobs.dev/knobs/pkg/earlystopping"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// Trial is a trial with the objective metric's curve, one value per step
// from step 1.
type Trial struct {
	Name      string
	Condition pb.TrialCondition
	Curve     []float64
}

// Running is a running trial with the given curve.
func Running(name string, curve ...float64) Trial {
	return Trial{Name: name, Condition: pb.TrialCondition_RUNNING, Curve: curve}
}

// Succeeded is a succeeded trial with the given curve.
func Succeeded(name string, curve ...float64) Trial {
	return Trial{Name: name, Condition: pb.TrialCondition_SUCCEEDED, Curve: curve}
}

// Request builds the request for trials, an objective on metric "loss"
// (maximize or not) and settings given as name, value pairs.
func Request(maximize bool, trials []Trial, settings ...string) *pb.GetEarlyStoppingDecisionsRequest {
	typ := pb.ObjectiveType_MINIMIZE
	if maximize {
		typ = pb.ObjectiveType_MAXIMIZE
	}
	req := &pb.GetEarlyStoppingDecisionsRequest{
		Experiment: &pb.Experiment{Name: "e", ExperimentSpec: &pb.ExperimentSpec{
			Objective: &pb.ObjectiveSpec{Type: typ, ObjectiveMetricName: "loss"},
		}},
		EarlyStopping: &pb.EarlyStoppingSpec{},
	}
	for i := 0; i+1 < len(settings); i += 2 {
		req.EarlyStopping.AlgorithmSettings = append(req.EarlyStopping.AlgorithmSettings, &pb.AlgorithmSetting{Name: settings[i], Value: settings[i+1]})
	}
	for _, t := range trials {
		m := &pb.Metric{Name: "loss"}
		for i, v := range t.Curve {
			m.Curve = append(m.Curve, &pb.MetricPoint{Step: int64(i + 1), Value: strconv.FormatFloat(v, 'g', -1, 64)})
			m.Value = strconv.FormatFloat(v, 'g', -1, 64)
		}
		req.Trials = append(req.Trials, &pb.Trial{Name: t.Name, Status: &pb.TrialStatus{
			Condition:   t.Condition,
			Observation: &pb.Observation{Metrics: []*pb.Metric{m}},
		}})
	}
	return req
}

// Decide runs alg on req as the function runtime would, checking the
// decisions against the contract, and returns the names of the trials to
// stop, sorted, with each decision's message by name.
func Decide(t *testing.T, alg earlystopping.Algorithm, req *pb.GetEarlyStoppingDecisionsRequest) ([]string, map[string]string) {
	t.Helper()
	svc := &function.EarlyStoppingService{Name: "test", Algorithm: alg}
	reply, err := svc.GetEarlyStoppingDecisions(context.Background(), req)
	if err != nil {
		t.Fatalf("GetEarlyStoppingDecisions: %v", err)
	}
	var names []string
	msgs := map[string]string{}
	for _, d := range reply.GetDecisions() {
		names = append(names, d.GetTrialName())
		msgs[d.GetTrialName()] = d.GetMessage()
	}
	sort.Strings(names)
	return names, msgs
}
