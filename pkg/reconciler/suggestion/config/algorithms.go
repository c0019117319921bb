// Package config reads the Suggestion reconciler's ConfigMap,
// config-algorithms, and hands its contents to the reconciler through the
// context, as Knative's reconcilers do.
package config

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const (
	// AlgorithmsConfigName is the ConfigMap that maps algorithms to function
	// URLs.
	AlgorithmsConfigName = "config-algorithms"

	// RequestTimeoutKey is the reserved key of config-algorithms that bounds
	// one call to a function.
	RequestTimeoutKey = "request-timeout"

	// DefaultRequestTimeout bounds one call to a function unless
	// config-algorithms says otherwise.
	DefaultRequestTimeout = 30 * time.Second
)

// Algorithms is the content of config-algorithms.
type Algorithms struct {
	// URLs maps an algorithm's name to the URL of the function that serves
	// it, ahead of any Knative Service.
	URLs map[string]string
	// RequestTimeout bounds one call to a function.
	RequestTimeout time.Duration
}

// NewAlgorithmsFromConfigMap reads config-algorithms. Every key other than
// request-timeout and those starting with an underscore (such as _example)
// names an algorithm, and its value is an absolute http or https URL.
func NewAlgorithmsFromConfigMap(cm *corev1.ConfigMap) (*Algorithms, error) {
	a := &Algorithms{URLs: map[string]string{}, RequestTimeout: DefaultRequestTimeout}
	keys := make([]string, 0, len(cm.Data))
	for k := range cm.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.TrimSpace(cm.Data[k])
		switch {
		case strings.HasPrefix(k, "_"):
		case k == RequestTimeoutKey:
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("%s: %s: %q is not a positive duration such as 30s", AlgorithmsConfigName, k, v)
			}
			a.RequestTimeout = d
		default:
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, fmt.Errorf("%s: algorithm %s: %q is not an absolute http or https URL", AlgorithmsConfigName, k, v)
			}
			a.URLs[k] = u.String()
		}
	}
	return a, nil
}
