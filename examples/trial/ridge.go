package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// The ridge task: Friedman's first regression problem (Friedman, "Multivariate
// adaptive regression splines", 1991),
//
//	y = 10 sin(π x1 x2) + 20 (x3 - 1/2)² + 10 x4 + 5 x5 + ε,  x ∈ U[0,1]^10, ε ~ N(0, 1),
//
// where x6..x10 are noise, fitted by ridge regression on random Fourier
// features (Rahimi and Recht, 2007) of a Gaussian kernel, trained by
// mini-batch gradient descent. The data are the same for every trial; the
// seed draws the features and the order of the mini-batches.
const (
	dataPoints  = 3000
	trainPoints = 2400 // the rest validate
	inputs      = 10
	dataSeed    = 1991
	// lengthscale of the Gaussian kernel the features approximate, in the
	// units of the inputs.
	lengthscale = 0.8
)

// The optimizers.
const (
	SGD      = "sgd"
	Momentum = "momentum"
	Adam     = "adam"
)

// Training hyperparameters of the momentum and Adam optimizers; the
// momentum optimizer's coefficient is --momentum, 0.9 unless told.
const (
	defaultMomentum = 0.9
	adamBeta1       = 0.9
	adamBeta2       = 0.999
	adamEps         = 1e-8
)

// RidgeConfig holds the hyperparameters of the ridge task.
type RidgeConfig struct {
	LR        float64 // learning rate
	L2        float64 // weight decay: the ridge penalty l2/2 ‖w‖²
	BatchSize int
	Optimizer string // sgd, momentum or adam
	// Momentum is the momentum optimizer's coefficient; MomentumSet says
	// that --momentum was given, which only that optimizer takes.
	Momentum    float64
	MomentumSet bool
	Epochs      int
	Features    int // random Fourier features
	Seed        uint64
}

// Check says what is wrong with a configuration, naming the flag.
func (c *RidgeConfig) Check() error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("--lr=%g: the learning rate must be above 0", c.LR)
	case !(c.L2 >= 0) || math.IsInf(c.L2, 0):
		return fmt.Errorf("--l2=%g: the weight decay must be 0 or more", c.L2)
	case c.BatchSize < 1:
		return fmt.Errorf("--batch-size=%d: must be at least 1", c.BatchSize)
	case c.Epochs < 1:
		return fmt.Errorf("--epochs=%d: must be at least 1", c.Epochs)
	case c.Features < 1 || c.Features > 1<<14:
		return fmt.Errorf("--features=%d: must be between 1 and %d", c.Features, 1<<14)
	}
	switch c.Optimizer {
	case SGD, Momentum, Adam:
	default:
		return fmt.Errorf("--optimizer=%q: use sgd, momentum or adam", c.Optimizer)
	}
	switch {
	case c.MomentumSet && c.Optimizer != Momentum:
		return fmt.Errorf("--momentum=%g: only --optimizer=momentum takes it, not --optimizer=%s", c.Momentum, c.Optimizer)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("--momentum=%g: must be at least 0 and below 1", c.Momentum)
	}
	return nil
}

// EpochResult is what one epoch of training measured on the validation set.
type EpochResult struct {
	Epoch int
	Loss  float64 // mean squared error, in units of the targets' variance
	R2    float64 // coefficient of determination
}

// dataset is inputs and targets, row by row.
type dataset struct {
	x [][inputs]float64
	y []float64
}

// friedman1 draws the data set: the same for every trial.
func friedman1() dataset {
	rng := rand.New(rand.NewPCG(dataSeed, 0))
	d := dataset{x: make([][inputs]float64, dataPoints), y: make([]float64, dataPoints)}
	for i := range d.x {
		x := &d.x[i]
		for j := range x {
			x[j] = rng.Float64()
		}
		d.y[i] = 10*math.Sin(math.Pi*x[0]*x[1]) + 20*(x[2]-0.5)*(x[2]-0.5) + 10*x[3] + 5*x[4] + rng.NormFloat64()
	}
	return d
}

// problem is the data set as the model sees it: features and standardised
// targets, split into training and validation rows.
type problem struct {
	dim    int
	phi    []float64 // row-major, dataPoints × dim
	y      []float64
	yVarVa float64 // variance of the validation targets
}

func (p *problem) row(i int) []float64 { return p.phi[i*p.dim : (i+1)*p.dim] }

// newProblem computes the features √(2/D) cos(ω·x + b), with ω ~ N(0, I/ℓ²)
// and b ~ U[0, 2π) drawn from rng, and standardises the targets by the
// training rows' mean and deviation.
func newProblem(d dataset, features int, rng *rand.Rand) *problem {
	p := &problem{dim: features, phi: make([]float64, dataPoints*features), y: make([]float64, dataPoints)}
	omega := make([][inputs]float64, features)
	bias := make([]float64, features)
	for k := range omega {
		for j := range omega[k] {
			omega[k][j] = rng.NormFloat64() / lengthscale
		}
		bias[k] = 2 * math.Pi * rng.Float64()
	}
	scale := math.Sqrt(2 / float64(features))
	for i := range d.x {
		r := p.row(i)
		for k := range r {
			s := bias[k]
			for j, xj := range d.x[i] {
				s += omega[k][j] * xj
			}
			r[k] = scale * math.Cos(s)
		}
	}
	mean, sq := 0.0, 0.0
	for _, v := range d.y[:trainPoints] {
		mean += v
	}
	mean /= trainPoints
	for _, v := range d.y[:trainPoints] {
		sq += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(sq / trainPoints)
	for i, v := range d.y {
		p.y[i] = (v - mean) / sd
	}
	vm := 0.0
	for _, v := range p.y[trainPoints:] {
		vm += v
	}
	vm /= dataPoints - trainPoints
	for _, v := range p.y[trainPoints:] {
		p.yVarVa += (v - vm) * (v - vm)
	}
	p.yVarVa /= dataPoints - trainPoints
	return p
}

// model is a linear model with its optimizer's state.
type model struct {
	w, g   []float64 // weights and the gradient of a batch
	b, gb  float64   // intercept and its gradient
	m, v   []float64 // momentum or Adam's moments; last entry for b
	steps  int
	config *RidgeConfig
}

func newModel(c *RidgeConfig, dim int) *model {
	return &model{
		w: make([]float64, dim), g: make([]float64, dim),
		m: make([]float64, dim+1), v: make([]float64, dim+1),
		config: c,
	}
}

func (m *model) predict(x []float64) float64 {
	s := m.b
	for k, xk := range x {
		s += m.w[k] * xk
	}
	return s
}

// step takes one optimizer step on the rows of batch: the gradient of the
// mean squared error over two, plus the weight decay of the weights (not of
// the intercept).
func (m *model) step(p *problem, batch []int) {
	clear(m.g)
	m.gb = 0
	for _, i := range batch {
		x := p.row(i)
		e := m.predict(x) - p.y[i]
		for k, xk := range x {
			m.g[k] += e * xk
		}
		m.gb += e
	}
	inv := 1 / float64(len(batch))
	for k := range m.g {
		m.g[k] = m.g[k]*inv + m.config.L2*m.w[k]
	}
	m.gb *= inv
	m.steps++
	lr := m.config.LR
	update := func(k int, p *float64, g float64) {
		switch m.config.Optimizer {
		case SGD:
			*p -= lr * g
		case Momentum:
			m.m[k] = m.config.Momentum*m.m[k] + g
			*p -= lr * m.m[k]
		case Adam:
			m.m[k] = adamBeta1*m.m[k] + (1-adamBeta1)*g
			m.v[k] = adamBeta2*m.v[k] + (1-adamBeta2)*g*g
			mh := m.m[k] / (1 - math.Pow(adamBeta1, float64(m.steps)))
			vh := m.v[k] / (1 - math.Pow(adamBeta2, float64(m.steps)))
			*p -= lr * mh / (math.Sqrt(vh) + adamEps)
		}
	}
	for k := range m.w {
		update(k, &m.w[k], m.g[k])
	}
	update(len(m.w), &m.b, m.gb)
}

// validate returns the mean squared error and R² on the validation rows.
func (m *model) validate(p *problem) (loss, r2 float64) {
	for i := trainPoints; i < dataPoints; i++ {
		e := m.predict(p.row(i)) - p.y[i]
		loss += e * e
	}
	loss /= dataPoints - trainPoints
	return loss, 1 - loss/p.yVarVa
}

// TrainRidge trains the model and calls epoch after every epoch with the
// validation loss and R². It stops at the first error epoch returns, and
// fails when training diverges.
func TrainRidge(ctx context.Context, c RidgeConfig, epoch func(EpochResult) error) error {
	if err := c.Check(); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(c.Seed, 0x6b6e6f6273)) // "knobs"
	p := newProblem(friedman1(), c.Features, rng)
	m := newModel(&c, p.dim)
	order := make([]int, trainPoints)
	for i := range order {
		order[i] = i
	}
	for e := 1; e <= c.Epochs; e++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for lo := 0; lo < len(order); lo += c.BatchSize {
			m.step(p, order[lo:min(lo+c.BatchSize, len(order))])
		}
		loss, r2 := m.validate(p)
		if math.IsNaN(loss) || math.IsInf(loss, 0) || loss > 1e12 {
			return fmt.Errorf("training diverged in epoch %d (validation loss %g): lower --lr (now %g)", e, loss, c.LR)
		}
		if err := epoch(EpochResult{Epoch: e, Loss: loss, R2: r2}); err != nil {
			return err
		}
	}
	return nil
}
