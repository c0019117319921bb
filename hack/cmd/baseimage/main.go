//go:build ignore

// Command baseimage writes a minimal base image for ko into an OCI image
// layout, without a network or a container daemon: an image index for
// linux/amd64 and linux/arm64 whose single layer holds /etc/passwd,
// /etc/group and /etc/nsswitch.conf with a nonroot user (65532), its home
// and /tmp, and whose config runs as that user. The images carry no shell,
// no libc and no CA certificates: enough for static Go binaries that only
// talk to the cluster.
//
// It prints the digest of the index, which is the same on every run, and
// adds the index and its images to the layout only once however often it
// runs. Pointed at $KOCACHE/img, the layout is where ko looks for a base
// named by digest before it would pull one (see hack/ko-resolve.sh).
//
// The file is excluded from the knobs.dev/knobs module by its build
// constraint; it is built in the tools module, which pins
// go-containerregistry:
//
//	cd hack/tools && go build -o ../../.bin/baseimage ../cmd/baseimage/main.go
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	uid  = 65532
	user = "nonroot"
)

func main() {
	dir := flag.String("layout", "", "OCI image layout directory to add the base image to; created if missing")
	refName := flag.String("name", "knobs.invalid/base", "name recorded in the layout's org.opencontainers.image.ref.name annotation")
	platforms := flag.String("platforms", "linux/amd64,linux/arm64", "comma-separated os/arch list of the index")
	flag.Parse()
	if *dir == "" {
		log.Fatal("baseimage: -layout is required")
	}
	log.SetFlags(0)

	idx, images, err := build(strings.Split(*platforms, ","))
	if err != nil {
		log.Fatalf("baseimage: %v", err)
	}
	digest, err := idx.Digest()
	if err != nil {
		log.Fatalf("baseimage: %v", err)
	}
	if err := write(*dir, *refName, idx, images); err != nil {
		log.Fatalf("baseimage: writing %s: %v", *dir, err)
	}
	fmt.Println(digest.String())
}

// build returns the index and its images, one per platform.
func build(platforms []string) (v1.ImageIndex, []v1.Image, error) {
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(rootfs())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, nil, err
	}
	epoch := v1.Time{Time: time.Unix(0, 0).UTC()}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var images []v1.Image
	for _, p := range platforms {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || goos == "" || goarch == "" || strings.Contains(goarch, "/") {
			return nil, nil, fmt.Errorf("platform %q: want os/arch, such as linux/amd64", p)
		}
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
		img, err = mutate.Append(img, mutate.Addendum{
			Layer: layer,
			History: v1.History{
				Created:   epoch,
				CreatedBy: "hack/cmd/baseimage: /etc/passwd, /etc/group, /etc/nsswitch.conf, /home/nonroot, /tmp",
				Comment:   "minimal base for static Go binaries",
			},
			MediaType: types.OCILayer,
		})
		if err != nil {
			return nil, nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, nil, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Created = goos, goarch, epoch
		cf.Config.User = fmt.Sprint(uid)
		cf.Config.WorkingDir = "/home/" + user
		cf.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/home/" + user}
		img, err = mutate.ConfigFile(img, cf)
		if err != nil {
			return nil, nil, err
		}
		images = append(images, img)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: goos, Architecture: goarch}},
		})
	}
	return idx, images, nil
}

// rootfs returns the layer's tar: the same bytes on every run.
func rootfs() []byte {
	files := []struct {
		name string
		mode int64
		uid  int
		body string
	}{
		{name: "etc/", mode: 0o755},
		{name: "etc/passwd", mode: 0o644, body: "root:x:0:0:root:/root:/sbin/nologin\n" +
			fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", user, uid, uid, user, user)},
		{name: "etc/group", mode: 0o644, body: fmt.Sprintf("root:x:0:\n%s:x:%d:\n", user, uid)},
		{name: "etc/nsswitch.conf", mode: 0o644, body: "hosts: files dns\n"},
		{name: "home/", mode: 0o755},
		{name: "home/" + user + "/", mode: 0o700, uid: uid},
		{name: "root/", mode: 0o700},
		{name: "tmp/", mode: 0o1777},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{
			Name:    f.name,
			Mode:    f.mode,
			Uid:     f.uid,
			Gid:     f.uid,
			ModTime: time.Unix(0, 0),
			Format:  tar.FormatPAX,
		}
		if strings.HasSuffix(f.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(f.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			panic(err)
		}
		if _, err := io.WriteString(tw, f.body); err != nil {
			panic(err)
		}
	}
	if err := tw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// write adds the index and each of its images to the layout at dir, in
// place of any earlier copy. ko's cache finds a base by the digest of a
// top-level entry of index.json, so each image gets an entry of its own
// beside the index.
func write(dir, refName string, idx v1.ImageIndex, images []v1.Image) error {
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return err
		}
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	ann := layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": refName})
	if err := p.ReplaceIndex(idx, match.Digests(digest), ann); err != nil {
		return err
	}
	for _, img := range images {
		d, err := img.Digest()
		if err != nil {
			return err
		}
		if err := p.ReplaceImage(img, match.Digests(d)); err != nil {
			return err
		}
	}
	return nil
}
