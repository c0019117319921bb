// Package controlplane runs a real Kubernetes control plane on loopback: etcd,
// kube-apiserver and kube-controller-manager's garbage collector, which
// hack/controlplane/build.sh finds ($KUBEBUILDER_ASSETS, the PATH, the
// cache), downloads or, last, builds from the Go module proxy. Nothing runs pods here
// (no kubelet), so the control plane serves the API and collects the
// garbage, which is what a controller relies on.
//
// Each control plane takes free ports and a folder of its own, so that two
// can run side by side.
package controlplane

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options configure a control plane.
type Options struct {
	// BinDir holds kube-apiserver, kube-controller-manager, kubectl and etcd.
	BinDir string
	// Dir is the control plane's working folder: data, keys, kubeconfig.
	Dir string
	// Log receives the processes' output; discarded if nil.
	Log io.Writer
	// Profiling serves the API server's /debug/pprof, to profile it.
	Profiling bool
}

// ControlPlane is a running etcd, kube-apiserver and garbage collector.
type ControlPlane struct {
	// URL is the API server's address.
	URL string
	// Kubeconfig is the path of an admin kubeconfig.
	Kubeconfig string
	// Config is the admin's client configuration.
	Config *rest.Config

	opts  Options
	procs []*exec.Cmd
	done  []chan error
}

// Start runs etcd, kube-apiserver and kube-controller-manager's garbage
// collector, and waits until they are ready.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	for _, b := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl"} {
		if _, err := os.Stat(filepath.Join(opts.BinDir, b)); err != nil {
			return nil, fmt.Errorf("%s is missing from %s: give the folder hack/controlplane/build.sh prints", b, opts.BinDir)
		}
	}
	for _, d := range []string{"etcd", "pki"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	cp := &ControlPlane{opts: opts}
	ok := false
	defer func() {
		if !ok {
			_ = cp.Stop()
		}
	}()

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdURL := "http://127.0.0.1:" + ports[0]
	peerURL := "http://127.0.0.1:" + ports[1]
	if err := cp.run("etcd",
		"--name=default",
		"--data-dir="+filepath.Join(opts.Dir, "etcd"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync", "--log-level=warn",
	); err != nil {
		return nil, err
	}
	if err := cp.waitFor(ctx, "etcd", func() error { return get(http.DefaultClient, etcdURL+"/health", "") }); err != nil {
		return nil, err
	}

	token, err := cp.writeCredentials()
	if err != nil {
		return nil, err
	}
	pki := filepath.Join(opts.Dir, "pki")
	cp.URL = "https://127.0.0.1:" + ports[2]
	if err := cp.run("kube-apiserver",
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port="+ports[2],
		"--etcd-servers="+etcdURL,
		"--cert-dir="+pki,
		"--token-auth-file="+filepath.Join(pki, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-key-file="+filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(pki, "sa.key"),
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-cluster-ip-range=10.96.0.0/24",
		"--endpoint-reconciler-type=none",
		"--enable-priority-and-fairness=false",
		"--profiling="+strconv.FormatBool(opts.Profiling),
	); err != nil {
		return nil, err
	}
	// The API server writes its self-signed certificate at start.
	caFile := filepath.Join(pki, "apiserver.crt")
	if err := cp.waitFor(ctx, "kube-apiserver", func() error {
		ca, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 2 * time.Second}
		return get(c, cp.URL+"/readyz", token)
	}); err != nil {
		return nil, err
	}

	cp.Kubeconfig = filepath.Join(opts.Dir, "kubeconfig")
	if err := writeKubeconfig(cp.Kubeconfig, cp.URL, caFile, "admin", token); err != nil {
		return nil, err
	}
	if cp.Config, err = clientcmd.BuildConfigFromFlags("", cp.Kubeconfig); err != nil {
		return nil, err
	}

	// kube-controller-manager runs only its garbage collector: deleting an
	// owner deletes what it owns, as in a cluster. The other controllers
	// would act on pods, nodes and volumes that do not exist here.
	kcmPort, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	if err := cp.run("kube-controller-manager",
		"--kubeconfig="+cp.Kubeconfig,
		"--controllers=garbagecollector",
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--bind-address=127.0.0.1", "--secure-port="+kcmPort[0],
		"--cert-dir="+filepath.Join(opts.Dir, "kcm"),
		"--authentication-skip-lookup",
		"--profiling=false",
	); err != nil {
		return nil, err
	}
	insecure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, Timeout: 2 * time.Second} //nolint:gosec // loopback health check of a self-signed server
	if err := cp.waitFor(ctx, "kube-controller-manager", func() error {
		return get(insecure, "https://127.0.0.1:"+kcmPort[0]+"/healthz", "")
	}); err != nil {
		return nil, err
	}
	ok = true
	return cp, nil
}

// Stop ends the processes, the last started first: the garbage collector,
// the API server, then etcd.
func (cp *ControlPlane) Stop() error {
	var errs []error
	for i := len(cp.procs) - 1; i >= 0; i-- {
		p := cp.procs[i]
		_ = p.Process.Signal(syscall.SIGTERM)
		select {
		case <-cp.done[i]:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-cp.done[i]
			errs = append(errs, fmt.Errorf("%s did not stop on SIGTERM within 10s", filepath.Base(p.Path)))
		}
	}
	cp.procs, cp.done = nil, nil
	return errors.Join(errs...)
}

// Pid is the process ID of the named process of the control plane (etcd,
// kube-apiserver or kube-controller-manager), 0 if it is not running.
func (cp *ControlPlane) Pid(name string) int {
	for _, p := range cp.procs {
		if filepath.Base(p.Path) == name && p.Process != nil {
			return p.Process.Pid
		}
	}
	return 0
}

// Kubectl runs kubectl against the control plane and returns its output.
func (cp *ControlPlane) Kubectl(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cp.opts.BinDir, "kubectl"), append([]string{"--kubeconfig", cp.Kubeconfig}, args...)...)
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// WriteKubeconfig writes a kubeconfig for the control plane that
// authenticates with a bearer token, such as a ServiceAccount's.
func (cp *ControlPlane) WriteKubeconfig(path, user, token string) error {
	return writeKubeconfig(path, cp.URL, filepath.Join(cp.opts.Dir, "pki", "apiserver.crt"), user, token)
}

func (cp *ControlPlane) run(name string, args ...string) error {
	cmd := exec.Command(filepath.Join(cp.opts.BinDir, name), args...)
	cmd.Stdout = prefixWriter(cp.opts.Log, name)
	cmd.Stderr = cmd.Stdout
	// Its own process group, so that a Ctrl-C meant for the caller reaches
	// it only through Stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	cp.procs = append(cp.procs, cmd)
	cp.done = append(cp.done, done)
	return nil
}

// waitFor polls ready until it succeeds, the process exits or 60s pass.
func (cp *ControlPlane) waitFor(ctx context.Context, name string, ready func() error) error {
	done := cp.done[len(cp.done)-1]
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		if last = ready(); last == nil {
			return nil
		}
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("%s exited while starting: %v (its output went to the control plane's log)", name, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within 60s: %v", name, last)
}

// writeCredentials makes the ServiceAccount signing key pair and an admin
// token, and returns the token.
func (cp *ControlPlane) writeCredentials() (string, error) {
	pki := filepath.Join(cp.opts.Dir, "pki")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"sa.key": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	files["tokens.csv"] = []byte(token + ",admin,admin,system:masters\n")
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(pki, name), data, 0o600); err != nil {
			return "", err
		}
	}
	return token, nil
}

func writeKubeconfig(path, server, caFile, user, token string) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	cfg := clientcmdapiConfig(server, ca, user, token)
	return clientcmd.WriteToFile(*cfg, path)
}

func get(c *http.Client, url, token string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	return nil
}

func freePorts(n int) ([]string, error) {
	var ports []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}
