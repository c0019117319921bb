package smac

import "math"

// logEI is the logarithm of the expected improvement over exp(eta) of
// exp(Y), Y ~ N(mean, sd^2): the expected improvement of a loss whose
// logarithm the model predicts (Hutter, Hoos and Leyton-Brown's "log EI", as
// SMAC3 uses with log-scaled losses):
//
//	EI = e^eta Phi(z) - e^(mean + sd^2/2) Phi(z - sd),  z = (eta - mean) / sd.
//
// It is computed in log space, so that it keeps ranking points far from any
// improvement, where EI itself underflows to zero. It is -Inf only where no
// improvement is possible (sd 0 and mean >= eta).
func logEI(eta, mean, sd float64) float64 {
	if !(sd > 1e-12) {
		if mean >= eta {
			return math.Inf(-1)
		}
		return eta + math.Log(-math.Expm1(mean-eta))
	}
	z := (eta - mean) / sd
	// EI = e^eta Phi(z) (1 - e^a), with a < 0 because EI > 0.
	a := sd*sd/2 - z*sd + logPhi(z-sd) - logPhi(z)
	if a >= 0 {
		// Rounding, where the improvement is vanishingly small.
		a = -1e-300
	}
	return eta + logPhi(z) + math.Log(-math.Expm1(a))
}

// logPhi is the logarithm of the standard normal distribution function,
// accurate far into the lower tail.
func logPhi(z float64) float64 {
	if z > -30 {
		return math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
	}
	// Phi(z) = phi(z)/(-z) (1 - 1/z^2 + 3/z^4 - ...)
	z2 := z * z
	return -z2/2 - math.Log(-z) - 0.5*math.Log(2*math.Pi) + math.Log1p(-1/z2+3/(z2*z2))
}
