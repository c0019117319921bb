package benchmark

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/c-bata/goptuna"
	gcmaes "github.com/c-bata/goptuna/cmaes"
	gtpe "github.com/c-bata/goptuna/tpe"

	pb "knobs.dev/knobs/pkg/suggestionpb"
)

// GoptunaPeers are reference rows: goptuna's samplers run in process as the
// library means them to be, a live study asking and telling one trial at a
// time. goptuna's TPE sampler draws from the global math/rand source, so its
// rows do not repeat exactly from run to run.
func GoptunaPeers() []Contender {
	peer := func(name string, sampler func(seed int64) []goptuna.StudyOption) Contender {
		return Contender{Name: name, Peer: func(ctx context.Context, p Problem, seed int64, opts Options) (Run, error) {
			return runGoptuna(ctx, p, seed, opts, sampler(seed))
		}, Accepts: func(p Problem) error {
			if p.Eval == nil {
				return errors.New("the goptuna rows run one objective without constraints")
			}
			return nil
		}}
	}
	return []Contender{
		peer("goptuna-random", func(seed int64) []goptuna.StudyOption {
			return []goptuna.StudyOption{goptuna.StudyOptionSampler(goptuna.NewRandomSampler(goptuna.RandomSamplerOptionSeed(seed)))}
		}),
		peer("goptuna-tpe", func(seed int64) []goptuna.StudyOption {
			return []goptuna.StudyOption{goptuna.StudyOptionSampler(gtpe.NewSampler(gtpe.SamplerOptionSeed(seed)))}
		}),
		peer("goptuna-cmaes", func(seed int64) []goptuna.StudyOption {
			return []goptuna.StudyOption{
				goptuna.StudyOptionSampler(goptuna.NewRandomSampler(goptuna.RandomSamplerOptionSeed(seed))),
				goptuna.StudyOptionRelativeSampler(gcmaes.NewSampler(gcmaes.SamplerOptionSeed(seed))),
			}
		}),
	}
}

var errNotSupported = errors.New("not supported by goptuna")

func runGoptuna(_ context.Context, p Problem, seed int64, opts Options, samplerOpts []goptuna.StudyOption) (Run, error) {
	if p.Budget != "" {
		return Run{}, fmt.Errorf("%s: %w", p.Name, errNotSupported)
	}
	space := map[string]interface{}{}
	for _, ps := range p.Params {
		d, err := goptunaDistribution(ps)
		if err != nil {
			return Run{}, err
		}
		space[ps.GetName()] = d
	}
	studyOpts := append([]goptuna.StudyOption{
		goptuna.StudyOptionDirection(goptuna.StudyDirectionMinimize),
		goptuna.StudyOptionLogger(nil),
		goptuna.StudyOptionDefineSearchSpace(space),
	}, samplerOpts...)
	study, err := goptuna.CreateStudy(fmt.Sprintf("%s-%d", p.Name, seed), studyOpts...)
	if err != nil {
		return Run{}, err
	}
	var run Run
	best := math.Inf(1)
	objective := func(trial goptuna.Trial) (float64, error) {
		values := map[string]string{}
		for _, ps := range p.Params {
			v, err := suggest(trial, ps)
			if err != nil {
				return 0, err
			}
			values[ps.GetName()] = v
		}
		loss := p.Eval(values)
		best = math.Min(best, loss)
		run.Best = append(run.Best, best)
		return loss, nil
	}
	if err := study.Optimize(objective, opts.Evaluations); err != nil {
		return run, err
	}
	return run, nil
}

func goptunaDistribution(ps *pb.ParameterSpec) (interface{}, error) {
	fs := ps.GetFeasibleSpace()
	lo, _ := strconv.ParseFloat(fs.GetMin(), 64)
	hi, _ := strconv.ParseFloat(fs.GetMax(), 64)
	switch ps.GetParameterType() {
	case pb.ParameterType_DOUBLE:
		if fs.GetDistribution() == pb.Distribution_LOG_UNIFORM {
			return goptuna.LogUniformDistribution{Low: lo, High: hi}, nil
		}
		return goptuna.UniformDistribution{Low: lo, High: hi}, nil
	case pb.ParameterType_INT:
		return goptuna.IntUniformDistribution{Low: int(lo), High: int(hi)}, nil
	case pb.ParameterType_DISCRETE, pb.ParameterType_CATEGORICAL:
		return goptuna.CategoricalDistribution{Choices: fs.GetList()}, nil
	}
	return nil, fmt.Errorf("parameter %s: %w", ps.GetName(), errNotSupported)
}

func suggest(trial goptuna.Trial, ps *pb.ParameterSpec) (string, error) {
	fs := ps.GetFeasibleSpace()
	lo, _ := strconv.ParseFloat(fs.GetMin(), 64)
	hi, _ := strconv.ParseFloat(fs.GetMax(), 64)
	switch ps.GetParameterType() {
	case pb.ParameterType_DOUBLE:
		var x float64
		var err error
		if fs.GetDistribution() == pb.Distribution_LOG_UNIFORM {
			x, err = trial.SuggestLogUniform(ps.GetName(), lo, hi)
		} else {
			x, err = trial.SuggestUniform(ps.GetName(), lo, hi)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), err
	case pb.ParameterType_INT:
		n, err := trial.SuggestInt(ps.GetName(), int(lo), int(hi))
		return strconv.Itoa(n), err
	default:
		return trial.SuggestCategorical(ps.GetName(), fs.GetList())
	}
}
