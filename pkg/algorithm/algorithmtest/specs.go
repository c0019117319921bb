// Package algorithmtest builds the search spaces the algorithms' tests share.
package algorithmtest

import api "knobs.dev/knobs/pkg/api/v1alpha3"

// Param returns a numeric parameter.
func Param(name string, typ api.ParameterType, min, max, step string, dist api.Distribution) *api.ParameterSpec {
	return &api.ParameterSpec{Name: name, ParameterType: typ,
		FeasibleSpace: &api.FeasibleSpace{Min: min, Max: max, Step: step, Distribution: dist}}
}

// Double returns a double parameter in [min, max], uniform.
func Double(name, min, max string) *api.ParameterSpec {
	return Param(name, api.ParameterType_DOUBLE, min, max, "", 0)
}

// Integer returns an int parameter in [min, max], uniform.
func Integer(name, min, max string) *api.ParameterSpec {
	return Param(name, api.ParameterType_INT, min, max, "", 0)
}

// Categorical returns a categorical parameter of the listed values.
func Categorical(name string, list ...string) *api.ParameterSpec {
	return &api.ParameterSpec{Name: name, ParameterType: api.ParameterType_CATEGORICAL, FeasibleSpace: &api.FeasibleSpace{List: list}}
}

// Discrete returns a discrete parameter of the listed numbers.
func Discrete(name string, list ...string) *api.ParameterSpec {
	return &api.ParameterSpec{Name: name, ParameterType: api.ParameterType_DISCRETE, FeasibleSpace: &api.FeasibleSpace{List: list}}
}

// Katib is the search space of Katib's random search example.
func Katib() []*api.ParameterSpec {
	return []*api.ParameterSpec{
		Double("--lr", "0.01", "0.03"),
		Integer("--num-layers", "2", "5"),
		Categorical("--optimizer", "sgd", "adam", "ftrl"),
	}
}
