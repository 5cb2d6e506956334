package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/bucketgrant/bucketgrant/tools/imagespec"
)

// The image's fixed facts, shared with tools/k8scheck.
const (
	DefaultRepository = imagespec.Repository
	BinaryPath        = imagespec.BinaryPath
	UID               = imagespec.UID
	GID               = imagespec.GID
	UserName          = imagespec.UserName
	Home              = imagespec.Home
	CABundlePath      = imagespec.CABundlePath
	BackupDir         = imagespec.BackupDir
)

// Options say what to assemble.
type Options struct {
	// Binaries maps a platform ("linux/amd64") to a static bucketgrant
	// binary built for it.
	Binaries map[string]string
	// Version is the image's tag and its version label.
	Version string
	// Repository names the image (without a tag).
	Repository string
	// Created is the time recorded in the image (the commit's time for a
	// reproducible build); the zero time becomes the Unix epoch.
	Created time.Time
	// CABundle is a PEM file to ship instead of the embedded roots.
	CABundle string
	// Source is the repository URL recorded in the labels.
	Source string
}

// platform is one "os/arch[/variant]".
type platform struct{ os, arch, variant string }

func parsePlatform(s string) (platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return platform{}, fmt.Errorf("platform %q: write it as os/arch, for example linux/amd64", s)
	}
	p := platform{os: parts[0], arch: parts[1]}
	if len(parts) == 3 {
		p.variant = parts[2]
	}
	if p.os != "linux" {
		return platform{}, fmt.Errorf("platform %q: the image runs on linux only", s)
	}
	if _, ok := elfMachines[p.arch]; !ok {
		return platform{}, fmt.Errorf("platform %q: unknown architecture %q (known: %s)", s, p.arch, strings.Join(knownArches(), ", "))
	}
	return p, nil
}

func (p platform) String() string {
	if p.variant != "" {
		return p.os + "/" + p.arch + "/" + p.variant
	}
	return p.os + "/" + p.arch
}

// Build assembles the multi-platform image index. Nothing is read from a
// registry: the image starts from an empty one, so the build runs offline
// and the result depends only on the binaries, the CA roots and the
// options (the same inputs give the same digest).
func Build(o Options) (v1.ImageIndex, error) {
	if len(o.Binaries) == 0 {
		return nil, fmt.Errorf("no binary given: pass -binary linux/amd64=PATH (built with CGO_ENABLED=0)")
	}
	if o.Version == "" {
		return nil, fmt.Errorf("no version given: pass -version (the image's tag)")
	}
	if err := validTag(o.Version); err != nil {
		return nil, err
	}
	if o.Repository == "" {
		o.Repository = DefaultRepository
	}
	created := o.Created
	if created.IsZero() {
		created = time.Unix(0, 0)
	}
	created = created.UTC()
	certs, err := caBundle(o.CABundle)
	if err != nil {
		return nil, err
	}
	base, err := baseLayer(certs, created)
	if err != nil {
		return nil, err
	}
	// Platforms in a fixed order, so the index's digest does not depend on
	// the order of the flags.
	names := make([]string, 0, len(o.Binaries))
	for name := range o.Binaries {
		names = append(names, name)
	}
	sort.Strings(names)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, name := range names {
		p, err := parsePlatform(name)
		if err != nil {
			return nil, err
		}
		img, err := platformImage(p, o.Binaries[name], base, o, created)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
			Platform: &v1.Platform{OS: p.os, Architecture: p.arch, Variant: p.variant},
		}})
	}
	return idx, nil
}

func platformImage(p platform, binPath string, base v1.Layer, o Options, created time.Time) (v1.Image, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return nil, fmt.Errorf("binary for %s: %w", p, err)
	}
	if err := checkStaticELF(binPath, bin, p.arch); err != nil {
		return nil, err
	}
	binLayer, err := layerOf([]entry{
		dir("usr/", 0, 0, 0o755), dir("usr/local/", 0, 0, 0o755), dir("usr/local/bin/", 0, 0, 0o755),
		file(strings.TrimPrefix(BinaryPath, "/"), 0, 0, 0o755, bin),
	}, created)
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	at := v1.Time{Time: created}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: at,
			CreatedBy: "bucketgrant ociimage: CA certificates, /etc/passwd and /etc/group with user " + strconv.Itoa(UID) + ", " + Home + ", " + BackupDir + ", /tmp"}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{Created: at,
			CreatedBy: "bucketgrant ociimage: " + BinaryPath + " " + o.Version}},
	)
	if err != nil {
		return nil, fmt.Errorf("assembling the %s image: %w", p, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.os, p.arch, p.variant
	cf.Created = at
	cf.Author = "bucketgrant"
	labels := map[string]string{
		"org.opencontainers.image.title":       "bucketgrant",
		"org.opencontainers.image.description": "fixes an IAM principal's access to an S3 bucket encrypted with a customer managed KMS key",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.Source != "" {
		labels["org.opencontainers.image.source"] = o.Source
	}
	cf.Config = v1.Config{
		// The exec form: there is no shell in the image to run anything else.
		Entrypoint: []string{BinaryPath},
		User:       strconv.Itoa(UID) + ":" + strconv.Itoa(GID),
		WorkingDir: Home,
		Env:        []string{"PATH=/usr/local/bin", "HOME=" + Home, "BUCKETGRANT_BACKUP_DIR=" + BackupDir},
		Labels:     labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the %s image's config: %w", p, err)
	}
	return img, nil
}

// caBundle returns the PEM roots the image trusts: a given file, or the
// NSS roots that golang.org/x/crypto/x509roots/fallback embeds (pinned in
// go.sum, so every machine builds the same image; the build machine's own
// /etc/ssl/certs would make the image depend on where it was built).
func caBundle(path string) ([]byte, error) {
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if n := countPEMCerts(data); n == 0 {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate: give a file like /etc/ssl/certs/ca-certificates.crt", path)
		}
		return data, nil
	}
	var buf bytes.Buffer
	for root := range bundle.Roots() {
		// A root with a constraint (trusted only for certificates issued
		// before a date) cannot carry that constraint in a PEM file: left
		// out rather than trusted without it.
		if root.Constraint != nil {
			continue
		}
		if err := pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: root.Certificate}); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func countPEMCerts(data []byte) int {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return n
		}
		if b.Type == "CERTIFICATE" {
			n++
		}
	}
}

// baseLayer holds everything but the binary; it is the same for every
// platform, so a registry stores it once.
func baseLayer(certs []byte, created time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n",
		UserName, UID, GID, UserName, Home)
	group := fmt.Sprintf("root:x:0:\nnobody:x:65534:\n%s:x:%d:\n", UserName, GID)
	home := strings.TrimPrefix(Home, "/") + "/"
	return layerOf([]entry{
		dir("etc/", 0, 0, 0o755),
		file("etc/group", 0, 0, 0o644, []byte(group)),
		// Go's resolver reads the order of files and DNS here.
		file("etc/nsswitch.conf", 0, 0, 0o644, []byte("hosts: files dns\n")),
		file("etc/passwd", 0, 0, 0o644, []byte(passwd)),
		dir("etc/ssl/", 0, 0, 0o755),
		dir("etc/ssl/certs/", 0, 0, 0o755),
		file(strings.TrimPrefix(CABundlePath, "/"), 0, 0, 0o644, certs),
		dir("home/", 0, 0, 0o755),
		dir(home, UID, GID, 0o700),
		// os.CreateTemp and the atomic snapshot writes need a writable /tmp.
		dir("tmp/", 0, 0, 0o1777),
		dir("var/", 0, 0, 0o755),
		dir("var/lib/", 0, 0, 0o755),
		dir("var/lib/bucketgrant/", 0, 0, 0o755),
		dir(strings.TrimPrefix(BackupDir, "/")+"/", UID, GID, 0o700),
	}, created)
}

// entry is one file or directory of a layer.
type entry struct {
	name     string
	uid, gid int
	mode     int64
	data     []byte
	isDir    bool
}

func dir(name string, uid, gid int, mode int64) entry {
	return entry{name: name, uid: uid, gid: gid, mode: mode, isDir: true}
}

func file(name string, uid, gid int, mode int64, data []byte) entry {
	return entry{name: name, uid: uid, gid: gid, mode: mode, data: data}
}

// layerOf writes the entries as a gzip-compressed tar with fixed times and
// owners, so the same entries give the same digest.
func layerOf(entries []entry, created time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created, Format: tar.FormatPAX}
		if e.isDir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	// Compressed once here: given gzip, the layer hands these bytes out as
	// they are, where a layer of the plain tar would compress it again for
	// the digest and for every write.
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	blob := gz.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// WriteLayout writes the index as an OCI image layout directory at dir,
// replacing what a previous build left there. The index carries the tag
// (org.opencontainers.image.ref.name) and the full name
// (io.containerd.image.name), which skopeo, podman and docker load read.
func WriteLayout(dir string, idx v1.ImageIndex, repository, version string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s exists and is not a directory: remove it or choose another -out", dir)
		}
		if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				return fmt.Errorf("%s is a directory that holds no OCI layout: remove it or choose another -out", dir)
			}
		}
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	// Written beside the target and renamed over it: an interrupted build
	// never leaves a half-written layout where the last good one was.
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the OCI layout: %w", err)
	}
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{
		"org.opencontainers.image.ref.name": version,
		"io.containerd.image.name":          repository + ":" + version,
	})); err != nil {
		return fmt.Errorf("writing the OCI layout: %w", err)
	}
	// Readable by everyone, like any build output (MkdirTemp makes 0700, and
	// the layout writer makes its files executable).
	err = filepath.WalkDir(tmp, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
	if err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// WriteArchive writes the layout directory as one tar file (an
// "oci-archive"), entries sorted and times fixed, for `podman load`,
// `docker load` and `skopeo copy oci-archive:`.
func WriteArchive(layoutDir, archive string, created time.Time) error {
	var files []string
	err := filepath.WalkDir(layoutDir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != layoutDir {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Sort(files)
	tmp, err := os.CreateTemp(filepath.Dir(archive), "."+filepath.Base(archive)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	for _, path := range files {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(layoutDir, path)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: created.UTC(), Mode: 0o644, Format: tar.FormatPAX}
		if fi.IsDir() {
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
			if err := tw.WriteHeader(h); err != nil {
				return err
			}
			continue
		}
		h.Typeflag, h.Size = tar.TypeReg, fi.Size()
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), archive)
}
