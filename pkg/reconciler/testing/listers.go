// Package testing holds what the reconcilers' table tests share: listers
// over a row's objects, the factory that wires a reconciler to injection
// fakes, and functional-option builders of the resources.
package testing

import (
	"k8s.io/apimachinery/pkg/runtime"
	fakekubeclientset "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	rtesting "knative.dev/pkg/reconciler/testing"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	fakeservingclientset "knative.dev/serving/pkg/client/clientset/versioned/fake"
	servinglisters "knative.dev/serving/pkg/client/listers/serving/v1"

	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	fakeknobsclientset "knobs.dev/knobs/pkg/client/clientset/versioned/fake"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/reconciler"
)

var clientSetSchemes = []func(*runtime.Scheme) error{
	fakekubeclientset.AddToScheme,
	fakeservingclientset.AddToScheme,
	fakeknobsclientset.AddToScheme,
}

// Listers serve a table row's objects.
type Listers struct {
	sorter rtesting.ObjectSorter
}

// NewListers returns listers over objs. The cache of Trials is indexed by
// Experiment, as the controller's is (reconciler.IndexTrials).
func NewListers(objs []runtime.Object) Listers {
	scheme := NewScheme()
	ls := Listers{sorter: rtesting.NewObjectSorter(scheme)}
	// The sorter's indexers start empty; the objects added after are
	// indexed as they come.
	if err := ls.IndexerFor(&v1alpha1.Trial{}).AddIndexers(reconciler.TrialIndexers); err != nil {
		panic(err) // a fresh indexer has no index of that name
	}
	ls.sorter.AddObjects(objs...)
	return ls
}

// NewScheme returns a scheme that knows every type of the tests.
func NewScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	for _, addTo := range clientSetSchemes {
		_ = addTo(scheme)
	}
	return scheme
}

// IndexerFor returns the indexer holding objects of obj's type.
func (l *Listers) IndexerFor(obj runtime.Object) cache.Indexer {
	return l.sorter.IndexerForObjectType(obj)
}

// GetKubeObjects returns the objects of the Kubernetes clientset.
func (l *Listers) GetKubeObjects() []runtime.Object {
	return l.sorter.ObjectsForSchemeFunc(fakekubeclientset.AddToScheme)
}

// GetServingObjects returns the objects of the Knative Serving clientset.
func (l *Listers) GetServingObjects() []runtime.Object {
	return l.sorter.ObjectsForSchemeFunc(fakeservingclientset.AddToScheme)
}

// GetKnobsObjects returns the objects of Knobs' clientset.
func (l *Listers) GetKnobsObjects() []runtime.Object {
	return l.sorter.ObjectsForSchemeFunc(fakeknobsclientset.AddToScheme)
}

// GetSuggestionLister returns a lister of the row's Suggestions.
func (l *Listers) GetSuggestionLister() listers.SuggestionLister {
	return listers.NewSuggestionLister(l.IndexerFor(&v1alpha1.Suggestion{}))
}

// GetExperimentLister returns a lister of the row's Experiments.
func (l *Listers) GetExperimentLister() listers.ExperimentLister {
	return listers.NewExperimentLister(l.IndexerFor(&v1alpha1.Experiment{}))
}

// GetTrialLister returns a lister of the row's Trials.
func (l *Listers) GetTrialLister() listers.TrialLister {
	return listers.NewTrialLister(l.IndexerFor(&v1alpha1.Trial{}))
}

// GetServiceLister returns a lister of the row's Knative Services.
func (l *Listers) GetServiceLister() servinglisters.ServiceLister {
	return servinglisters.NewServiceLister(l.IndexerFor(&servingv1.Service{}))
}
