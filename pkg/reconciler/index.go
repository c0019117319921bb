package reconciler

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	listers "knobs.dev/knobs/pkg/client/listers/tuning/v1alpha1"
)

// ExperimentIndex names the index of a cache of Trials by namespace and
// experiment label, the key being namespace/experiment.
const ExperimentIndex = "experiment"

// TrialIndexers are the indexers a cache of Trials needs for TrialsOf.
var TrialIndexers = cache.Indexers{ExperimentIndex: experimentOf}

// experimentOf indexes a Trial under namespace/experiment, its experiment
// label; a Trial without the label under nothing.
func experimentOf(obj any) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("indexing by experiment: %w", err)
	}
	exp := m.GetLabels()[tuning.ExperimentLabelKey]
	if exp == "" {
		return nil, nil
	}
	return []string{m.GetNamespace() + "/" + exp}, nil
}

// IndexTrials adds TrialIndexers to an informer of Trials, before it starts.
// An informer that has them already is left as it is.
func IndexTrials(informer cache.SharedIndexInformer) error {
	if _, ok := informer.GetIndexer().GetIndexers()[ExperimentIndex]; ok {
		return nil
	}
	if err := informer.AddIndexers(TrialIndexers); err != nil {
		return fmt.Errorf("adding the index of Trials by experiment: %w", err)
	}
	return nil
}

// TrialsOf returns the Trials labelled with the Experiment namespace/name
// from trials, an informer's cache of Trials, through ExperimentIndex: its
// cost is that of the Experiment's Trials, not of every Trial in the
// namespace. A cache without the index (one IndexTrials was not given) is
// scanned and filtered by label instead, with the same result. The Trials
// are the cache's own: read them, do not change them.
func TrialsOf(trials cache.Indexer, namespace, name string) ([]*v1alpha1.Trial, error) {
	if _, ok := trials.GetIndexers()[ExperimentIndex]; !ok {
		return listers.NewTrialLister(trials).Trials(namespace).List(labels.SelectorFromSet(labels.Set{tuning.ExperimentLabelKey: name}))
	}
	objs, err := trials.ByIndex(ExperimentIndex, namespace+"/"+name)
	if err != nil {
		return nil, err
	}
	ret := make([]*v1alpha1.Trial, 0, len(objs))
	for _, obj := range objs {
		if t, ok := obj.(*v1alpha1.Trial); ok {
			ret = append(ret, t)
		}
	}
	return ret, nil
}
