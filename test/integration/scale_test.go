//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrs "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"knobs.dev/knobs/pkg/apis/tuning"
	"knobs.dev/knobs/pkg/apis/tuning/v1alpha1"
	"knobs.dev/knobs/pkg/client/clientset/versioned"
	informers "knobs.dev/knobs/pkg/client/informers/externalversions"
	. "knobs.dev/knobs/pkg/reconciler/testing"
)

// TestScale runs Experiments of trivially cheap trials through the whole
// loop on the real API server: the controller as a process with the
// client limits of config/500-controller.yaml, the random function as a
// process, and Trials without workloads whose observations the test writes
// as soon as they are created, as a trial reporting at once would. It
// checks that every Experiment ends with the right counts, and prints what
// it measured: trials per second, API requests per trial, the controller's
// CPU time and memory, and the largest object.
//
// Sized by SCALE_TRIALS (one Experiment of that many trials, default
// 10,000), SCALE_EXPERIMENTS (that many Experiments of 20 trials at once,
// default 200) and SCALE_PARALLEL (the large Experiment's parallelTrialCount,
// default 100); SCALE_QPS, SCALE_BURST and SCALE_THREADS set the
// controller's client limits and workers per reconciler (default 200, 400
// and 4, as config/500-controller.yaml does, with its GOMEMLIMIT).
// SCALE_PROFILE=<file> writes a 30-second CPU profile of the controller
// there, and one of the API server to <file>.apiserver, 20 seconds into the
// large Experiment. SCALE_SAME_NAMESPACE=1 runs the many Experiments in the large one's
// namespace, beside its Trials, instead of a namespace of their own. make
// bench-scale runs it at 100,000 trials and 1,000 Experiments, 500 trials
// at once. Its last line reads
//
//	scale: <trials> trials, <experiments> experiments, <t> trials/s, largest object <bytes> bytes, controller RSS <MiB> MiB
func TestScale(t *testing.T) {
	trials := scaleInt(t, "SCALE_TRIALS", 10000)
	experiments := scaleInt(t, "SCALE_EXPERIMENTS", 200)
	parallel := scaleInt(t, "SCALE_PARALLEL", 100)
	sameNamespace := scaleBool(t, "SCALE_SAME_NAMESPACE")
	const small = 20

	qps, burst, threads := scaleInt(t, "SCALE_QPS", 200), scaleInt(t, "SCALE_BURST", 400), scaleInt(t, "SCALE_THREADS", 4)
	profilePort := freePort(t)
	if os.Getenv("SCALE_PROFILE") != "" {
		if _, err := env.cp.Kubectl(context.Background(), nil, "patch", "configmap", "config-observability", "-n", tuning.SystemNamespace,
			"--type=merge", "-p", `{"data":{"runtime-profiling":"enabled"}}`); err != nil {
			t.Fatal(err)
		}
	}
	ctrl := startControllerAt(t, "controller-scale", freePort(t), fmt.Sprintf("KUBE_API_QPS=%d", qps), fmt.Sprintf("KUBE_API_BURST=%d", burst),
		fmt.Sprintf("KNOBS_THREADS_PER_CONTROLLER=%d", threads), "GOMEMLIMIT=400MiB", "PROFILING_PORT="+profilePort)
	fn := startFunction(t, "random")
	ns := namespace(t)
	createService(t, ns, "random", "random", fn.url)
	// The test's own writes, as many trials' reports would be, are not
	// held back by a client-side limit.
	cfg := rest.CopyConfig(env.cp.Config)
	cfg.QPS, cfg.Burst = 1000, 2000
	client := versioned.NewForConfigOrDie(cfg)
	obs := startObserver(t, client, ns)
	pid := ctrl.cmd.Process.Pid
	kube := kubernetes.NewForConfigOrDie(env.cp.Config)
	ctx := context.Background()

	var rows []scaleRow
	idle := procSample(t, pid)

	// The API server and etcd, and the machine as a whole: where the
	// loop's CPU goes.
	server := []int{env.cp.Pid("kube-apiserver"), env.cp.Pid("etcd")}

	// (a) One Experiment of many trials.
	largest := &largestObject{}
	stopWatch := largest.watch(t, ns, "big")
	before, reqs := procSample(t, pid), apiRequests(t, kube)
	serverBefore, busyBefore := cpuOf(t, server...), machineBusy(t)
	sent := obs.writes.Load()
	start := time.Now()
	create(t, cheapExperiment("big", ns, int32(parallel), int32(trials)))
	if path := os.Getenv("SCALE_PROFILE"); path != "" {
		// A CPU profile of the controller while the large Experiment runs.
		go profile(t, "http://127.0.0.1:"+profilePort+"/debug/pprof/profile?seconds=30", path)
		// And one of the API server, beside it.
		go func() {
			time.Sleep(20 * time.Second)
			b, err := kube.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", "30").DoRaw(context.Background())
			if err == nil {
				err = os.WriteFile(path+".apiserver", b, 0o644)
			}
			if err != nil {
				t.Logf("profile of the API server: %v", err)
			}
		}()
	}
	e := waitScaled(t, ns, []string{"big"}, time.Duration(trials)*50*time.Millisecond+5*time.Minute)[0]
	elapsed := time.Since(start)
	stopWatch()
	after := procSample(t, pid)
	serverAfter, busyAfter := cpuOf(t, server...), machineBusy(t)
	checkScaled(t, []*v1alpha1.Experiment{e}, int32(trials))
	largest.trial(t, ns, "big-1")
	rows = append(rows, scaleRow{
		what: fmt.Sprintf("1 Experiment of %d trials, %d at once", trials, parallel), trials: trials, elapsed: elapsed,
		requests: apiRequests(t, kube).since(reqs), own: obs.writes.Load() - sent,
		cpu: after.cpu - before.cpu, rss: after.rss, peak: after.peak, largest: largest.bytes, largestKind: largest.kind,
		server: serverAfter - serverBefore, busy: busyAfter - busyBefore,
	})
	perTenThousand := float64(after.rss-idle.rss) / (float64(trials) / 10000)

	// (b) Many Experiments of a few trials at once, in a namespace of
	// their own, or with SCALE_SAME_NAMESPACE beside the large
	// Experiment's Trials: the index of Trials by Experiment keeps a
	// reconcile from reading those.
	where := "a namespace of their own"
	if sameNamespace {
		where = "the large Experiment's namespace"
	} else {
		ns = namespace(t)
		createService(t, ns, "random", "random", fn.url)
		obs = startObserver(t, client, ns)
	}
	names := make([]string, experiments)
	created := make([]time.Time, experiments)
	before, reqs, sent = procSample(t, pid), apiRequests(t, kube), obs.writes.Load()
	serverBefore, busyBefore = cpuOf(t, server...), machineBusy(t)
	start = time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				names[i] = fmt.Sprintf("small-%d", i+1)
				created[i] = time.Now()
				if _, err := client.TuningV1alpha1().Experiments(ns).Create(ctx, cheapExperiment(names[i], ns, 5, small), metav1.CreateOptions{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for i := range experiments {
		work <- i
	}
	close(work)
	wg.Wait()
	ended := waitScaled(t, ns, names, time.Duration(experiments*small)*50*time.Millisecond+5*time.Minute)
	elapsed = time.Since(start)
	after = procSample(t, pid)
	serverAfter, busyAfter = cpuOf(t, server...), machineBusy(t)
	checkScaled(t, ended, small)
	var firsts []time.Duration
	for i := range ended {
		if at, ok := obs.first(names[i]); ok {
			firsts = append(firsts, at.Sub(created[i]))
		}
	}
	sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
	largest.suggestion(t, ns, names[0])
	rows = append(rows, scaleRow{
		what: fmt.Sprintf("%d Experiments of %d trials at once, 5 at once each, in %s", experiments, small, where), trials: experiments * small, elapsed: elapsed,
		requests: apiRequests(t, kube).since(reqs), own: obs.writes.Load() - sent,
		cpu: after.cpu - before.cpu, rss: after.rss, peak: after.peak, largest: largest.bytes, largestKind: largest.kind,
		server: serverAfter - serverBefore, busy: busyAfter - busyBefore,
		firstMedian: quantile(firsts, 0.5), firstMax: quantile(firsts, 1),
	})

	fmt.Printf("\n| run | trials | time | trials/s | API requests per trial (controller) | controller CPU | API server and etcd CPU | machine busy | controller RSS (peak) | largest object | first trial (median, max) |\n")
	fmt.Printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	for _, r := range rows {
		first := "-"
		if r.firstMax > 0 {
			first = fmt.Sprintf("%.1f s, %.1f s", r.firstMedian.Seconds(), r.firstMax.Seconds())
		}
		fmt.Printf("| %s | %d | %.0f s | %.1f | %.2f (%.2f) | %.1f s | %.1f s | %.2f of %d cores | %d MiB (%d MiB) | %s %d bytes | %s |\n",
			r.what, r.trials, r.elapsed.Seconds(), float64(r.trials)/r.elapsed.Seconds(),
			float64(r.requests.total())/float64(r.trials), float64(r.requests.total()-r.own)/float64(r.trials),
			r.cpu.Seconds(), r.server.Seconds(), r.busy.Seconds()/r.elapsed.Seconds(), runtime.NumCPU(),
			r.rss>>20, r.peak>>20, r.largestKind, r.largest, first)
	}
	for _, r := range rows {
		fmt.Printf("\nAPI requests per trial, by kind (%s):", r.what)
		kinds := make([]string, 0, len(r.requests))
		for k := range r.requests {
			kinds = append(kinds, k)
		}
		sort.Slice(kinds, func(i, j int) bool { return r.requests[kinds[i]] > r.requests[kinds[j]] })
		for _, k := range kinds {
			if per := float64(r.requests[k]) / float64(r.trials); per >= 0.005 {
				fmt.Printf(" %s %.2f;", k, per)
			}
		}
		fmt.Println()
	}
	fmt.Printf("\ncontroller RSS idle %d MiB; %.1f MiB more per 10,000 Trials held (after the large Experiment)\n", idle.rss>>20, perTenThousand/(1<<20))
	total := trials + experiments*small
	var totalTime time.Duration
	maxObject, maxRSS := 0, int64(0)
	for _, r := range rows {
		totalTime += r.elapsed
		maxObject = max(maxObject, r.largest)
		maxRSS = max(maxRSS, r.peak)
	}
	fmt.Printf("scale: %d trials, %d experiments, %.1f trials/s, largest object %d bytes, controller RSS %d MiB\n",
		total, experiments+1, float64(total)/totalTime.Seconds(), maxObject, maxRSS>>20)
}

type scaleRow struct {
	what                  string
	trials                int
	elapsed               time.Duration
	requests              requestCounts // by kind
	own                   int64         // the test's own writes
	cpu                   time.Duration
	server, busy          time.Duration // the API server's and etcd's CPU; the machine's
	rss, peak             int64
	largest               int
	largestKind           string
	firstMedian, firstMax time.Duration
}

func scaleInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// scaleBool reads a switch: unset, false; otherwise 1 or 0 (true or false).
func scaleBool(t *testing.T, name string) bool {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		t.Fatalf("%s=%q: want 1 or 0", name, v)
	}
	return b
}

// cheapExperiment is random search over two doubles, its Trials without a
// workload: each succeeds once its objective metric is written.
func cheapExperiment(name, ns string, parallel, maxTrials int32) *v1alpha1.Experiment {
	return NewExperiment(name, ns, WithExperimentAlgorithm("random"), WithCounts(parallel, maxTrials, 0), func(e *v1alpha1.Experiment) {
		e.Spec.Objective = v1alpha1.ObjectiveSpec{Type: v1alpha1.ObjectiveTypeMinimize, ObjectiveMetricName: "loss"}
		e.Spec.Parameters = []v1alpha1.ParameterSpec{
			{Name: "x1", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "-5", Max: "10"}},
			{Name: "x2", ParameterType: v1alpha1.ParameterTypeDouble, FeasibleSpace: v1alpha1.FeasibleSpace{Min: "0", Max: "15"}},
		}
	})
}

// waitScaled waits, polling gently, until every named Experiment has ended.
func waitScaled(t *testing.T, ns string, names []string, timeout time.Duration) []*v1alpha1.Experiment {
	t.Helper()
	want := map[string]int{}
	for i, n := range names {
		want[n] = i
	}
	out := make([]*v1alpha1.Experiment, len(names))
	waitForEvery(t, timeout, 2*time.Second, func() (bool, string) {
		list, err := env.knobs.TuningV1alpha1().Experiments(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		done, trials := 0, int32(0)
		for i := range list.Items {
			e := &list.Items[i]
			j, ok := want[e.Name]
			if !ok {
				continue
			}
			trials += e.Status.TrialsSucceeded
			if c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded); c != nil && !c.IsUnknown() && e.Status.ObservedGeneration == e.Generation {
				out[j] = e
				done++
			}
		}
		return done == len(names), fmt.Sprintf("%d of %d Experiments ended, %d trials succeeded", done, len(names), trials)
	})
	return out
}

// checkScaled checks Experiments of one namespace that each ran n cheap
// trials, and their Suggestions, read in one list.
func checkScaled(t *testing.T, es []*v1alpha1.Experiment, n int32) {
	t.Helper()
	if len(es) == 0 {
		return
	}
	list, err := env.knobs.TuningV1alpha1().Suggestions(es[0].Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	suggestions := map[string]*v1alpha1.Suggestion{}
	for i := range list.Items {
		suggestions[list.Items[i].Name] = &list.Items[i]
	}
	for _, e := range es {
		c := e.Status.GetCondition(v1alpha1.ExperimentConditionSucceeded)
		if !c.IsTrue() || c.Reason != v1alpha1.ExperimentReasonMaxTrialsReached || e.Status.Trials != n || e.Status.TrialsSucceeded != n {
			t.Errorf("Experiment %s: %s, %d trials, %d succeeded; want MaxTrialsReached with %d of each", e.Name, succeeded(e), e.Status.Trials, e.Status.TrialsSucceeded, n)
		}
		s := suggestions[e.Name]
		switch {
		case s == nil:
			t.Errorf("Experiment %s has no Suggestion", e.Name)
		case s.Status.SuggestionCount != n || len(s.Status.Suggestions) != 0:
			t.Errorf("Suggestion %s: %d handed out, %d waiting; want %d and none", s.Name, s.Status.SuggestionCount, len(s.Status.Suggestions), n)
		}
	}
}

// observer writes the objective metric of every Trial without a workload
// as soon as it sees it, as a trial that reports at once would.
type observer struct {
	writes atomic.Int64
	mu     sync.Mutex
	firsts map[string]time.Time // experiment → when its first Trial was seen
}

func (o *observer) first(experiment string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	at, ok := o.firsts[experiment]
	return at, ok
}

func startObserver(t *testing.T, client versioned.Interface, ns string) *observer {
	t.Helper()
	o := &observer{firsts: map[string]time.Time{}}
	factory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(ns))
	inf := factory.Tuning().V1alpha1().Trials()
	queue := make(chan string, 1<<20)
	var queued sync.Map
	enqueue := func(obj any) {
		tr, ok := obj.(*v1alpha1.Trial)
		if !ok || tr.Spec.RunSpec != nil || tr.Status.Observation != nil || tr.Status.IsDone() {
			return
		}
		if _, dup := queued.LoadOrStore(tr.Name, true); !dup {
			queue <- tr.Name
		}
	}
	_, err := inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if tr, ok := obj.(*v1alpha1.Trial); ok {
				o.mu.Lock()
				if exp := tr.Labels[tuning.ExperimentLabelKey]; exp != "" {
					if _, seen := o.firsts[exp]; !seen {
						o.firsts[exp] = time.Now()
					}
				}
				o.mu.Unlock()
			}
			enqueue(obj)
		},
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	lister := inf.Lister()
	for range 16 {
		go func() {
			for {
				var name string
				select {
				case <-ctx.Done():
					return
				case name = <-queue:
				}
				tr, err := lister.Trials(ns).Get(name)
				if err != nil || tr.Status.Observation != nil || tr.Status.IsDone() {
					queued.Delete(name)
					continue
				}
				h := fnv.New32a()
				h.Write([]byte(name))
				obs := &v1alpha1.Observation{Metrics: []v1alpha1.Metric{{Name: "loss", Value: strconv.FormatFloat(float64(h.Sum32()%10000)/100, 'g', -1, 64)}}}
				// The cache may lag the Trial reconciler's own write: on a
				// conflict, read the Trial from the API server and write again.
				for attempt := 0; attempt < 10 && tr != nil; attempt++ {
					tr = tr.DeepCopy()
					tr.Status.Observation = obs
					o.writes.Add(1)
					_, err = client.TuningV1alpha1().Trials(ns).UpdateStatus(ctx, tr, metav1.UpdateOptions{})
					if !apierrs.IsConflict(err) {
						break
					}
					o.writes.Add(1)
					if tr, err = client.TuningV1alpha1().Trials(ns).Get(ctx, name, metav1.GetOptions{}); err != nil || tr.Status.Observation != nil {
						break
					}
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("writing the observation of %s: %v", name, err)
				}
				queued.Delete(name)
			}
		}()
	}
	return o
}

// largestObject keeps the largest object seen, as its JSON takes it.
type largestObject struct {
	mu    sync.Mutex
	bytes int
	kind  string
}

func (l *largestObject) see(kind string, obj any) {
	b, err := json.Marshal(obj)
	if err != nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(b) > l.bytes {
		l.bytes, l.kind = len(b), kind
	}
}

// watch reads the Experiment and its Suggestion every second until the
// returned function is called.
func (l *largestObject) watch(t *testing.T, ns, name string) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if s, err := env.knobs.TuningV1alpha1().Suggestions(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
				l.see("Suggestion", s)
			}
			if e, err := env.knobs.TuningV1alpha1().Experiments(ns).Get(ctx, name, metav1.GetOptions{}); err == nil {
				l.see("Experiment", e)
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return func() { cancel(); <-done }
}

func (l *largestObject) trial(t *testing.T, ns, name string) {
	l.see("Trial", getTrial(t, ns, name))
}

func (l *largestObject) suggestion(t *testing.T, ns, name string) {
	l.see("Suggestion", getSuggestion(t, ns, name))
}

// procStat is a process's CPU time and memory.
type procStat struct {
	cpu       time.Duration
	rss, peak int64
}

// procSample reads a process's CPU time (user and system) and its
// resident memory, now and at its peak, from /proc.
func procSample(t *testing.T, pid int) procStat {
	t.Helper()
	var st procStat
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command, which ends with the last ')'.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	st.cpu = time.Duration(utime+stime) * time.Second / 100 // USER_HZ
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		fs := strings.Fields(line)
		if len(fs) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fs[1], 10, 64)
		switch fs[0] {
		case "VmRSS:":
			st.rss = kb << 10
		case "VmHWM:":
			st.peak = kb << 10
		}
	}
	return st
}

// cpuOf is the CPU time the processes have used.
func cpuOf(t *testing.T, pids ...int) time.Duration {
	t.Helper()
	var sum time.Duration
	for _, pid := range pids {
		sum += procSample(t, pid).cpu
	}
	return sum
}

// machineBusy is the CPU time the machine has spent on anything but
// idling, all cores together, from /proc/stat.
func machineBusy(t *testing.T) time.Duration {
	t.Helper()
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, not iowait; guest time is in user already
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / 100 // USER_HZ
}

// requestCounts counts the requests the API server has served, by verb,
// resource and subresource ("PUT trials/status"), from its
// apiserver_request_total metric.
type requestCounts map[string]int64

func (c requestCounts) total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// since returns the requests served since the counts before.
func (c requestCounts) since(before requestCounts) requestCounts {
	out := requestCounts{}
	for k, v := range c {
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

func apiRequests(t *testing.T, kube kubernetes.Interface) requestCounts {
	t.Helper()
	raw, err := kube.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := requestCounts{}
	for _, line := range strings.Split(string(raw), "\n") {
		labels, ok := strings.CutPrefix(line, "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, _ := strings.Cut(labels, "} ")
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			l[k] = strings.Trim(v, `"`)
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out[key] += int64(v)
	}
	return out
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return ds[int(q*float64(len(ds)-1))]
}

// profile saves the profile at url into path, after letting the run settle.
func profile(t *testing.T, url, path string) {
	time.Sleep(20 * time.Second)
	resp, err := http.Get(url)
	if err != nil {
		t.Logf("profile: %v", err)
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Logf("profile: %v", err)
	}
}
