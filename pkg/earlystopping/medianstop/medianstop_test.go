package medianstop_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"knobs.dev/knobs/pkg/earlystopping/earlystoppingtest"
	"knobs.dev/knobs/pkg/earlystopping/medianstop"
	"knobs.dev/knobs/pkg/function"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

var (
	running   = earlystoppingtest.Running
	succeeded = earlystoppingtest.Succeeded
)

func TestDecide(t *testing.T) {
	// Succeeded trials' mean losses: 2, 3 and 4; the median is 3.
	done := []earlystoppingtest.Trial{
		succeeded("s1", 3, 2, 1),
		succeeded("s2", 4, 3, 2),
		succeeded("s3", 5, 4, 3),
	}
	for _, tc := range []struct {
		name     string
		maximize bool
		trials   []earlystoppingtest.Trial
		settings []string
		want     []string
	}{{
		name:   "worse than the median at start_step is stopped",
		trials: append(slices.Clone(done), running("bad", 9, 8, 7, 6), running("good", 3, 2, 1, 0.5)),
		want:   []string{"bad"},
	}, {
		name:   "judged on its latest value",
		trials: append(slices.Clone(done), running("recovered", 9, 8, 7, 2.5)),
	}, {
		name:   "equal to the median goes on",
		trials: append(slices.Clone(done), running("even", 9, 8, 7, 3)),
	}, {
		name:   "before start_step nothing is judged",
		trials: append(slices.Clone(done), running("early", 9, 8, 7)),
	}, {
		name:     "start_step is a setting",
		trials:   append(slices.Clone(done), running("early", 9, 8)),
		settings: []string{medianstop.StartStep, "2"},
		want:     []string{"early"},
	}, {
		name:   "fewer succeeded trials than min_trials_required: nothing is judged",
		trials: append(slices.Clone(done[:2]), running("bad", 9, 8, 7, 6)),
	}, {
		name:     "min_trials_required is a setting",
		trials:   append(slices.Clone(done[:2]), running("bad", 9, 8, 7, 6)),
		settings: []string{medianstop.MinTrialsRequired, "2"},
		want:     []string{"bad"},
	}, {
		name: "trials stopped early do not make the median",
		trials: append(slices.Clone(done[:2]),
			earlystoppingtest.Trial{Name: "es", Condition: pb.TrialCondition_EARLY_STOPPED, Curve: []float64{1, 1, 1}},
			running("bad", 9, 8, 7, 6)),
	}, {
		name:     "maximize: lower is worse",
		maximize: true,
		trials:   append(slices.Clone(done), running("low", 1, 1, 1, 1), running("high", 9, 9, 9, 9)),
		want:     []string{"low"},
	}, {
		name:   "only running trials are stopped",
		trials: append(slices.Clone(done), earlystoppingtest.Trial{Name: "pending", Condition: pb.TrialCondition_PENDING, Curve: []float64{9, 9, 9, 9}}),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, msgs := earlystoppingtest.Decide(t, medianstop.MedianStop{}, earlystoppingtest.Request(tc.maximize, tc.trials, tc.settings...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("stopped %v, want %v", got, tc.want)
			}
			for _, n := range got {
				if !strings.Contains(msgs[n], "median") {
					t.Errorf("%s: message %q does not say what it was judged on", n, msgs[n])
				}
			}
		})
	}
}

func TestMessage(t *testing.T) {
	req := earlystoppingtest.Request(false, []earlystoppingtest.Trial{
		succeeded("s1", 2), succeeded("s2", 3), succeeded("s3", 4), running("bad", 9, 8, 7, 6),
	})
	_, msgs := earlystoppingtest.Decide(t, medianstop.MedianStop{}, req)
	want := "loss 6 at step 4 is worse than 3, the median of the mean loss of 3 succeeded trials"
	if msgs["bad"] != want {
		t.Errorf("message %q, want %q", msgs["bad"], want)
	}
}

func TestBadSettings(t *testing.T) {
	svc := &function.EarlyStoppingService{Name: "medianstop", Algorithm: medianstop.MedianStop{}}
	for _, tc := range []struct {
		settings []string
		want     string
	}{
		{[]string{"start_step", "0"}, `earlyStopping.algorithmSettings[0]: start_step: "0" is not an integer of at least 1`},
		{[]string{"min_trials_required", "x"}, `earlyStopping.algorithmSettings[0]: min_trials_required: "x" is not an integer`},
		{[]string{"min_trials", "3"}, `unknown setting "min_trials": this algorithm takes min_trials_required, start_step`},
	} {
		_, err := svc.GetEarlyStoppingDecisions(context.Background(), earlystoppingtest.Request(false, nil, tc.settings...))
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
			t.Errorf("%v: %v, want InvalidArgument with %q", tc.settings, err, tc.want)
		}
		_, err = svc.ValidateEarlyStoppingSettings(context.Background(), &pb.ValidateEarlyStoppingSettingsRequest{
			EarlyStopping: earlystoppingtest.Request(false, nil, tc.settings...).GetEarlyStopping(),
		})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("validating %v: %v, want InvalidArgument", tc.settings, err)
		}
	}
}
