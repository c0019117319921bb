package controlplane

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The versions build.sh pins, read from versions.env.
func pinnedVersions(t *testing.T) (kubernetes, etcd string) {
	t.Helper()
	data, err := os.ReadFile("../../hack/controlplane/versions.env")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "KUBERNETES_VERSION="); ok {
			kubernetes = v
		}
		if v, ok := strings.CutPrefix(l, "ETCD_VERSION="); ok {
			etcd = v
		}
	}
	if kubernetes == "" || etcd == "" {
		t.Fatal("versions.env names no KUBERNETES_VERSION or ETCD_VERSION")
	}
	return kubernetes, etcd
}

// fakeBinary is a program that says it is name at version, as the real one
// answers --version.
func fakeBinary(name, version string) []byte {
	switch name {
	case "etcd":
		return []byte("#!/bin/sh\necho 'etcd Version: " + strings.TrimPrefix(version, "v") + "'\n")
	case "kubectl":
		return []byte("#!/bin/sh\necho 'Client Version: " + version + "'\n")
	}
	return []byte("#!/bin/sh\necho 'Kubernetes " + version + "'\n")
}

func writeFakes(t *testing.T, dir, version string, names ...string) {
	t.Helper()
	k8s, etcd := pinnedVersions(t)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		v := version
		if v == "" {
			v = k8s
			if n == "etcd" {
				v = etcd
			}
		}
		if err := os.WriteFile(filepath.Join(dir, n), fakeBinary(n, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// release serves a fake release of the pinned versions as dl.k8s.io and
// etcd's GitHub releases lay them out, with sums; corrupt names the files
// served with a sum that does not match.
type release struct {
	files   map[string][]byte
	k8s     string
	etcdDir string
}

func newRelease(t *testing.T, corrupt ...string) (*httptest.Server, *release) {
	t.Helper()
	k8s, etcd := pinnedVersions(t)
	bad := map[string]bool{}
	for _, c := range corrupt {
		bad[c] = true
	}
	r := &release{files: map[string][]byte{}}
	sum := func(b []byte, name string) string {
		h := sha256.Sum256(b)
		if bad[name] {
			h = sha256.Sum256(append(b, '!'))
		}
		return hex.EncodeToString(h[:])
	}
	for _, n := range []string{"kube-apiserver", "kube-controller-manager", "kubectl"} {
		p := fmt.Sprintf("/k8s/%s/bin/linux/%s/%s", k8s, runtime.GOARCH, n)
		r.files[p] = fakeBinary(n, k8s)
		r.files[p+".sha256"] = []byte(sum(r.files[p], n) + "\n")
	}
	dir := fmt.Sprintf("etcd-%s-linux-%s", etcd, runtime.GOARCH)
	var tgz bytes.Buffer
	zw := gzip.NewWriter(&tgz)
	tw := tar.NewWriter(zw)
	for name, body := range map[string][]byte{dir + "/etcd": fakeBinary("etcd", etcd), dir + "/README.md": []byte("etcd\n")} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	r.files["/etcd/"+etcd+"/"+dir+".tar.gz"] = tgz.Bytes()
	r.files["/etcd/"+etcd+"/SHA256SUMS"] = []byte(fmt.Sprintf("%s  etcd-%s-darwin-arm64.zip\n%s  %s.tar.gz\n",
		strings.Repeat("0", 64), etcd, sum(tgz.Bytes(), "etcd"), dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, ok := r.files[req.URL.Path]
		if !ok {
			http.NotFound(w, req)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, r
}

// toolPath is a folder holding only the programs build.sh runs, so that no
// kube-apiserver, kubectl or etcd of this machine is on the PATH.
func toolPath(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, tool := range []string{"bash", "curl", "sha256sum", "cut", "tr", "sed", "awk", "head", "tar", "gzip", "install",
		"mktemp", "uname", "mkdir", "rm", "mv", "ln", "basename", "dirname", "date", "cat", "env", "sh", "chmod"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("build.sh needs %s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// buildSh runs hack/controlplane/build.sh with a cache of its own, the
// PATH given and the release URLs of url (none when empty), never
// building; it returns the folder printed, its stderr and its error.
func buildSh(t *testing.T, cache, path, url string, env ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command("../../hack/controlplane/build.sh")
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + path, "KNOBS_CACHE=" + cache, "KNOBS_CONTROLPLANE_BUILD=0",
		"KNOBS_KUBERNETES_RELEASE_URL=" + url + "/k8s", "KNOBS_ETCD_RELEASE_URL=" + url + "/etcd"}, env...)
	if url == "" {
		cmd.Env = append(cmd.Env, "KNOBS_CONTROLPLANE_DOWNLOAD=0")
	}
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err := cmd.Run()
	return strings.TrimSpace(out.String()), stderr.String(), err
}

var names = []string{"kube-apiserver", "kube-controller-manager", "kubectl", "etcd"}

// checkFolder checks that the folder printed holds the four programs, each
// being the one in want[name].
func checkFolder(t *testing.T, folder string, want map[string]string) {
	t.Helper()
	for _, n := range names {
		got, err := filepath.EvalSymlinks(filepath.Join(folder, n))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		w, _ := filepath.EvalSymlinks(want[n])
		if got != w {
			t.Errorf("%s is %s, want %s", n, got, w)
		}
	}
}

func cacheDir(t *testing.T, cache string) string {
	k8s, etcd := pinnedVersions(t)
	return filepath.Join(cache, "controlplane", "kubernetes-"+k8s+"-etcd-"+etcd)
}

func TestBuildShFindsBinariesBeforeBuilding(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("build.sh downloads Linux release binaries")
	}
	tools := toolPath(t)

	t.Run("KUBEBUILDER_ASSETS, PATH and cache, in that order", func(t *testing.T) {
		cache := t.TempDir()
		assets, onPath := t.TempDir(), t.TempDir()
		// envtest's folder holds no kube-controller-manager.
		writeFakes(t, assets, "v1.34.1", "kube-apiserver", "kubectl", "etcd")
		writeFakes(t, onPath, "", "kube-apiserver", "kube-controller-manager")
		writeFakes(t, cacheDir(t, cache), "", names...)
		folder, stderr, err := buildSh(t, cache, onPath+":"+tools, "", "KUBEBUILDER_ASSETS="+assets)
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		checkFolder(t, folder, map[string]string{
			"kube-apiserver": filepath.Join(assets, "kube-apiserver"), "kubectl": filepath.Join(assets, "kubectl"), "etcd": filepath.Join(assets, "etcd"),
			"kube-controller-manager": filepath.Join(onPath, "kube-controller-manager"),
		})
		k8s, _ := pinnedVersions(t)
		if !strings.Contains(stderr, "kube-apiserver: "+assets+"/kube-apiserver (KUBEBUILDER_ASSETS), version v1.34.1; the pinned one is "+k8s) {
			t.Errorf("no word of the other version:\n%s", stderr)
		}
		again, _, err := buildSh(t, cache, onPath+":"+tools, "", "KUBEBUILDER_ASSETS="+assets)
		if err != nil || again != folder {
			t.Errorf("a second run printed %s (%v), the first %s", again, err, folder)
		}
	})

	t.Run("the PATH's only at the pinned version", func(t *testing.T) {
		cache := t.TempDir()
		onPath := t.TempDir()
		writeFakes(t, onPath, "v1.20.0", "kubectl")
		writeFakes(t, onPath, "", "kube-apiserver", "kube-controller-manager", "etcd")
		writeFakes(t, cacheDir(t, cache), "", "kubectl")
		folder, stderr, err := buildSh(t, cache, onPath+":"+tools, "")
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		checkFolder(t, folder, map[string]string{
			"kube-apiserver": filepath.Join(onPath, "kube-apiserver"), "kube-controller-manager": filepath.Join(onPath, "kube-controller-manager"),
			"etcd": filepath.Join(onPath, "etcd"), "kubectl": filepath.Join(cacheDir(t, cache), "kubectl"),
		})
	})

	t.Run("the cache alone: its folder", func(t *testing.T) {
		cache := t.TempDir()
		writeFakes(t, cacheDir(t, cache), "", names...)
		folder, stderr, err := buildSh(t, cache, tools, "")
		if err != nil || folder != cacheDir(t, cache) || stderr != "" {
			t.Errorf("printed %s (%v, %q), want %s", folder, err, stderr, cacheDir(t, cache))
		}
	})

	t.Run("downloaded when missing, checked against their sums", func(t *testing.T) {
		cache := t.TempDir()
		srv, _ := newRelease(t)
		folder, stderr, err := buildSh(t, cache, tools, srv.URL)
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if folder != cacheDir(t, cache) {
			t.Errorf("printed %s, want the cache's folder %s", folder, cacheDir(t, cache))
		}
		k8s, etcd := pinnedVersions(t)
		for _, n := range names {
			got, err := os.ReadFile(filepath.Join(folder, n))
			want := fakeBinary(n, k8s)
			if n == "etcd" {
				want = fakeBinary(n, etcd)
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %v, %q; want the release's", n, err, got)
			}
			if fi, err := os.Stat(filepath.Join(folder, n)); err != nil || fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s is not executable: %v", n, err)
			}
			if !strings.Contains(stderr, n+": "+folder+"/"+n+" (downloaded, sha256 ") {
				t.Errorf("no word of downloading %s:\n%s", n, stderr)
			}
		}
		// The next run finds them in the cache, without the server.
		srv.Close()
		again, stderr, err := buildSh(t, cache, tools, srv.URL)
		if err != nil || again != folder || stderr != "" {
			t.Errorf("from the cache: %s (%v, %q)", again, err, stderr)
		}
	})

	t.Run("a bad sum is refused and not installed", func(t *testing.T) {
		cache := t.TempDir()
		srv, _ := newRelease(t, "kube-apiserver", "etcd")
		_, stderr, err := buildSh(t, cache, tools, srv.URL)
		if err == nil {
			t.Fatalf("build.sh succeeded with bad sums: %s", stderr)
		}
		for _, want := range []string{
			"kube-apiserver: checksum mismatch for " + srv.URL + "/k8s/",
			"etcd: checksum mismatch for " + srv.URL + "/etcd/",
			"not found, and not built (KNOBS_CONTROLPLANE_BUILD=0): kube-apiserver etcd",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr)
			}
		}
		for n, want := range map[string]bool{"kube-apiserver": false, "etcd": false, "kubectl": true, "kube-controller-manager": true} {
			if _, err := os.Stat(filepath.Join(cacheDir(t, cache), n)); (err == nil) != want {
				t.Errorf("%s in the cache: %v, want %v", n, err == nil, want)
			}
		}
	})

	t.Run("the server down: on to the build", func(t *testing.T) {
		cache := t.TempDir()
		srv, _ := newRelease(t)
		srv.Close()
		_, stderr, err := buildSh(t, cache, tools, srv.URL)
		if err == nil || !strings.Contains(stderr, "kube-apiserver: cannot download "+srv.URL+"/k8s/") ||
			!strings.Contains(stderr, "etcd: cannot download "+srv.URL+"/etcd/") ||
			!strings.Contains(stderr, "not found, and not built (KNOBS_CONTROLPLANE_BUILD=0): kube-apiserver kube-controller-manager kubectl etcd") {
			t.Errorf("%v:\n%s", err, stderr)
		}
		if entries, _ := os.ReadDir(cacheDir(t, cache)); len(entries) != 0 {
			t.Errorf("the cache holds %d files", len(entries))
		}
	})

	t.Run("what is still missing is built, and only that", func(t *testing.T) {
		cache := t.TempDir()
		srv, _ := newRelease(t, "kube-apiserver")
		// go plays the build: it records its arguments and writes a program
		// for each package it is given.
		goDir := t.TempDir()
		args := filepath.Join(goDir, "args")
		if err := os.WriteFile(filepath.Join(goDir, "go"), []byte(fakeGo), 0o755); err != nil {
			t.Fatal(err)
		}
		folder, stderr, err := buildSh(t, cache, goDir+":"+tools, srv.URL, "KNOBS_CONTROLPLANE_BUILD=1", "FAKE_GO_ARGS="+args)
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if folder != cacheDir(t, cache) {
			t.Errorf("printed %s, want the cache's folder", folder)
		}
		recorded, err := os.ReadFile(args)
		if err != nil {
			t.Fatal(err)
		}
		// The packages follow the -o folder.
		fields := strings.Fields(string(recorded))
		var pkgs []string
		for i, f := range fields {
			if f == "-o" && i+2 <= len(fields) {
				pkgs = fields[i+2:]
			}
		}
		if strings.Join(pkgs, " ") != "k8s.io/kubernetes/cmd/kube-apiserver" {
			t.Errorf("go build was given %v (%q); want kube-apiserver alone", pkgs, recorded)
		}
		if got, err := os.ReadFile(filepath.Join(folder, "kube-apiserver")); err != nil || string(got) != "#!/bin/sh\necho built kube-apiserver\n" {
			t.Errorf("kube-apiserver in the cache: %v %q; want the one built", err, got)
		}
		if !strings.Contains(stderr, "kube-apiserver: checksum mismatch") || !strings.Contains(stderr, "building kube-apiserver (Kubernetes") {
			t.Errorf("stderr:\n%s", stderr)
		}
	})
}

// fakeGo stands in for go build: it records its arguments in $FAKE_GO_ARGS
// and writes, into the -o folder, a program named for each package.
const fakeGo = `#!/bin/sh
echo "$@" >> "$FAKE_GO_ARGS"
out=""
pkgs=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o|-ldflags) [ "$1" = -o ] && out=$2; shift 2 ;;
    build|-*) shift ;;
    *) pkgs="$pkgs $1"; shift ;;
  esac
done
for p in $pkgs; do
  n=$(basename "$p")
  printf '#!/bin/sh\necho built %s\n' "$n" > "$out/$n"
  chmod +x "$out/$n"
  echo "$p"
done
`
