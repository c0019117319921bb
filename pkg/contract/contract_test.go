package contract_test

import (
	"errors"
	"testing"

	"knobs.dev/knobs/pkg/algorithm/algorithmtest"
	"knobs.dev/knobs/pkg/contract"
	"knobs.dev/knobs/pkg/searchspace"
	pb "knobs.dev/knobs/pkg/suggestionpb"
)

func space(t *testing.T) *searchspace.Space {
	t.Helper()
	sp, err := searchspace.Parse(algorithmtest.Katib())
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// reply builds a reply of rows of name, value, ...
func reply(exhausted bool, rows ...[]string) *pb.GetSuggestionsReply {
	r := &pb.GetSuggestionsReply{SearchSpaceExhausted: exhausted}
	for _, row := range rows {
		var as []*pb.ParameterAssignment
		for i := 0; i+1 < len(row); i += 2 {
			as = append(as, &pb.ParameterAssignment{Name: row[i], Value: row[i+1]})
		}
		r.ParameterAssignments = append(r.ParameterAssignments, &pb.GetSuggestionsReply_ParameterAssignments{Assignments: as})
	}
	return r
}

var (
	a1 = []string{"--lr", "0.01", "--num-layers", "2", "--optimizer", "sgd"}
	a2 = []string{"--lr", "0.02", "--num-layers", "3", "--optimizer", "adam"}
	a3 = []string{"--num-layers", "5", "--optimizer", "ftrl", "--lr", "0.03"}
)

func TestCheckReply(t *testing.T) {
	tests := []struct {
		name    string
		history [][]string
		reply   *pb.GetSuggestionsReply
		want    int
		err     string
	}{
		{name: "exactly as asked", reply: reply(false, a1, a2), want: 2},
		{name: "in any order of parameters", reply: reply(false, a3), want: 1},
		{name: "fewer, exhausted", reply: reply(true, a1), want: 3},
		{name: "none, exhausted", reply: reply(true), want: 3},
		{name: "new after the history", history: [][]string{a1}, reply: reply(false, a2, a3), want: 2},
		{name: "an unparsable history entry is left out", history: [][]string{{"--lr", "x"}}, reply: reply(false, a1), want: 1},
		{name: "too many", reply: reply(false, a1, a2), want: 1,
			err: "the reply has 2 assignments for 1 asked"},
		{name: "too many, even exhausted", reply: reply(true, a1, a2), want: 1,
			err: "the reply has 2 assignments for 1 asked"},
		{name: "too few", reply: reply(false, a1), want: 2,
			err: "the reply has 1 assignments for 2 asked, without saying the search space is exhausted"},
		{name: "outside the space", reply: reply(false, []string{"--lr", "0.5", "--num-layers", "2", "--optimizer", "sgd"}), want: 1,
			err: `assignment 0 of the reply: parameter "--lr": 0.5 is outside its feasible space`},
		{name: "a parameter missing", reply: reply(false, a1, []string{"--lr", "0.02"}), want: 2,
			err: `assignment 1 of the reply: assignments: parameter "--num-layers" is not assigned`},
		{name: "twice in the reply", reply: reply(false, a1, a2, []string{"--lr", "0.010", "--num-layers", "2", "--optimizer", "sgd"}), want: 3,
			err: "assignment 2 of the reply: repeats assignment 0 of the reply: --lr=0.01 --num-layers=2 --optimizer=sgd"},
		{name: "a repeat of the history", history: [][]string{a2}, reply: reply(true, a1, a2), want: 5,
			err: "assignment 1 of the reply: repeats one handed out before: --lr=0.02 --num-layers=3 --optimizer=adam"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := space(t)
			var handed [][]*pb.ParameterAssignment
			for _, h := range reply(false, tc.history...).GetParameterAssignments() {
				handed = append(handed, h.GetAssignments())
			}
			pts, err := contract.CheckReply(sp, contract.HistoryOf(sp, handed), tc.reply, tc.want)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("CheckReply() = %v, want no error", err)
				}
				if len(pts) != len(tc.reply.GetParameterAssignments()) {
					t.Errorf("CheckReply() gave %d points for %d assignments", len(pts), len(tc.reply.GetParameterAssignments()))
				}
				return
			}
			if err == nil || err.Error() != tc.err {
				t.Fatalf("CheckReply() = %v, want %q", err, tc.err)
			}
			var v *contract.Violation
			if !errors.As(err, &v) {
				t.Errorf("CheckReply() = %T, want a *contract.Violation", err)
			}
		})
	}
}

func TestViolationKeepsTheFieldAtFault(t *testing.T) {
	sp := space(t)
	_, err := contract.CheckReply(sp, nil, reply(false, []string{"--lr", "0.02", "--num-layers", "2", "--optimizer", "rmsprop"}), 1)
	var se *searchspace.Error
	if !errors.As(err, &se) || se.Path != "assignments[2]" {
		t.Fatalf("CheckReply() = %v, want a *searchspace.Error at assignments[2]", err)
	}
}

func TestCheckPointsLeavesTheHistoryAlone(t *testing.T) {
	sp := space(t)
	h := contract.NewHistory(sp)
	pt := searchspace.Point{0.02, 3, 1}
	if err := contract.CheckPoints(sp, h, []searchspace.Point{pt}, false, 1); err != nil {
		t.Fatal(err)
	}
	if h.Has(pt) {
		t.Error("CheckPoints added the reply's point to the history")
	}
	h.Add(pt)
	if err := contract.CheckPoints(sp, h, []searchspace.Point{pt}, false, 1); err == nil {
		t.Error("CheckPoints accepted a point of the history")
	}
}

// Remove takes back one Add: a point added twice stays until removed twice.
func TestHistoryRemove(t *testing.T) {
	space, err := searchspace.Parse([]*pb.ParameterSpec{{Name: "x", ParameterType: pb.ParameterType_DOUBLE, FeasibleSpace: &pb.FeasibleSpace{Min: "0", Max: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	pt := searchspace.Point{0.5}
	h := contract.NewHistory(space, pt, pt)
	for i, want := range []bool{true, false, false} {
		h.Remove(pt)
		if got := h.Has(pt); got != want {
			t.Errorf("after %d removals Has() = %v, want %v", i+1, got, want)
		}
	}
}
