package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/x509"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

const testVersion = "v0.0.0-imagetest"

var (
	// realBinary is bucketgrant built by TestMain for linux on this
	// machine's architecture, as `make image` builds it.
	realBinary string
	// repoRoot is the bucketgrant module's root.
	repoRoot string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Join(wd, "..", "..")
	if runtime.GOOS == "linux" {
		dir, err := os.MkdirTemp("", "ociimage-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		realBinary = filepath.Join(dir, "bucketgrant")
		// The flags of the Makefile's image target: static, no local paths.
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+testVersion, "-o", realBinary, "./cmd/bucketgrant")
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building bucketgrant: %v\n%s", err, out)
			return 1
		}
	}
	return m.Run()
}

func needLinux(t *testing.T) {
	t.Helper()
	if realBinary == "" {
		t.Skip("the image's binary runs on linux only")
	}
}

// fakeELF is the smallest ELF file debug/elf reads: a header and its
// program headers (PT_INTERP makes it "dynamically linked"). It is never
// run: it stands for a binary of another architecture.
func fakeELF(t *testing.T, machine elf.Machine, interp bool) string {
	t.Helper()
	progs := []elf.Prog64{{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X)}}
	if interp {
		progs = append(progs, elf.Prog64{Type: uint32(elf.PT_INTERP), Flags: uint32(elf.PF_R)})
	}
	h := elf.Header64{
		Ident:     [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
		Phnum:     uint16(len(progs)),
	}
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.LittleEndian, h); err != nil {
		t.Fatal(err)
	}
	if err := binary.Write(&buf, binary.LittleEndian, progs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bucketgrant")
	if err := os.WriteFile(path, buf.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// tree is an image's file system: path -> header and content.
type tree map[string]struct {
	h    *tar.Header
	data []byte
}

func filesystem(t *testing.T, img v1.Image) tree {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	fs := tree{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return fs
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		fs[strings.TrimSuffix(h.Name, "/")] = struct {
			h    *tar.Header
			data []byte
		}{h, data}
	}
}

// unpack writes the image's file system under root with its modes and,
// when running as root, its owners, as a container runtime would.
func unpack(t *testing.T, fs tree, root string) {
	t.Helper()
	names := make([]string, 0, len(fs))
	for n := range fs {
		names = append(names, n)
	}
	slices.Sort(names) // parents before children
	asRoot := os.Geteuid() == 0
	for _, n := range names {
		e := fs[n]
		clean := filepath.Clean("/" + n)
		if clean != "/"+n {
			t.Fatalf("layer entry %q is not a clean relative path", n)
		}
		dst := filepath.Join(root, clean)
		mode := os.FileMode(e.h.Mode & 0o777)
		switch e.h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.WriteFile(dst, e.data, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("layer entry %q has type %c: the image should hold only files and directories", n, e.h.Typeflag)
		}
		if e.h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(dst, mode); err != nil {
			t.Fatal(err)
		}
		if asRoot {
			if err := os.Lchown(dst, e.h.Uid, e.h.Gid); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func onlyImage(t *testing.T, idx v1.ImageIndex) (v1.Image, v1.Descriptor) {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img, im.Manifests[0]
}

// TestImage builds the image of the real binary exactly as `make image`
// does, reads it back from the OCI layout, checks its config and files,
// then runs the binary inside the unpacked file system.
func TestImage(t *testing.T) {
	needLinux(t)
	plat := "linux/" + runtime.GOARCH
	idx, err := Build(Options{Binaries: map[string]string{plat: realBinary}, Version: testVersion,
		Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(out, idx, DefaultRepository, testVersion); err != nil {
		t.Fatal(err)
	}

	// Read back what was written, not what is in memory.
	top, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	topm, err := top.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(topm.Manifests) != 1 {
		t.Fatalf("index.json has %d entries, want 1", len(topm.Manifests))
	}
	if got := topm.Manifests[0].Annotations["org.opencontainers.image.ref.name"]; got != testVersion {
		t.Errorf("ref.name annotation %q, want %q", got, testVersion)
	}
	if got, want := topm.Manifests[0].Annotations["io.containerd.image.name"], DefaultRepository+":"+testVersion; got != want {
		t.Errorf("image name annotation %q, want %q", got, want)
	}
	idx2, err := top.ImageIndex(topm.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	img, desc := onlyImage(t, idx2)
	if desc.Platform == nil || desc.Platform.OS != "linux" || desc.Platform.Architecture != runtime.GOARCH {
		t.Errorf("platform %+v, want linux/%s", desc.Platform, runtime.GOARCH)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cf.Config.Entrypoint, []string{BinaryPath}) {
		t.Errorf("entrypoint %q, want [%s]", cf.Config.Entrypoint, BinaryPath)
	}
	if len(cf.Config.Cmd) != 0 || len(cf.Config.Shell) != 0 {
		t.Errorf("cmd %q, shell %q: want neither", cf.Config.Cmd, cf.Config.Shell)
	}
	if want := fmt.Sprintf("%d:%d", UID, GID); cf.Config.User != want {
		t.Errorf("user %q, want %q (numeric, not root)", cf.Config.User, want)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config platform %s/%s", cf.OS, cf.Architecture)
	}
	if cf.Config.Labels["org.opencontainers.image.version"] != testVersion {
		t.Errorf("labels %v: want the version", cf.Config.Labels)
	}

	fs := filesystem(t, img)
	var names []string
	for n := range fs {
		names = append(names, n)
	}
	slices.Sort(names)
	// Exactly these: a shell, a package manager or a stray file would show
	// up here.
	want := []string{"etc", "etc/group", "etc/nsswitch.conf", "etc/passwd", "etc/ssl", "etc/ssl/certs",
		"etc/ssl/certs/ca-certificates.crt", "home", "home/bucketgrant", "tmp", "usr", "usr/local", "usr/local/bin",
		"usr/local/bin/bucketgrant", "var", "var/lib", "var/lib/bucketgrant", "var/lib/bucketgrant/backups"}
	if !slices.Equal(names, want) {
		t.Errorf("image files:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	for n := range fs {
		base := filepath.Base(n)
		if slices.Contains([]string{"sh", "bash", "ash", "dash", "busybox"}, base) {
			t.Errorf("the image holds a shell: %s", n)
		}
	}
	passwd := string(fs["etc/passwd"].data)
	if !strings.Contains(passwd, fmt.Sprintf("%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, GID, UserName, Home)) {
		t.Errorf("/etc/passwd has no line for the image's user:\n%s", passwd)
	}
	if h := fs["home/bucketgrant"].h; h == nil || h.Uid != UID || h.Gid != GID {
		t.Errorf("home directory %+v: want owned by %d:%d", h, UID, GID)
	}
	if h := fs["var/lib/bucketgrant/backups"].h; h == nil || h.Uid != UID || h.Gid != GID {
		t.Errorf("backup directory %+v: want owned by %d:%d", h, UID, GID)
	}
	if !slices.Contains(cf.Config.Env, "BUCKETGRANT_BACKUP_DIR="+BackupDir) {
		t.Errorf("env %q: want BUCKETGRANT_BACKUP_DIR=%s", cf.Config.Env, BackupDir)
	}
	if h := fs["tmp"].h; h == nil || h.Mode&0o1777 != 0o1777 {
		t.Errorf("/tmp %+v: want mode 1777", h)
	}
	if bin := fs["usr/local/bin/bucketgrant"]; bin.h == nil || bin.h.Mode&0o111 == 0 || bin.h.Uid != 0 {
		t.Errorf("binary %+v: want executable, owned by root (the user cannot replace it)", bin.h)
	}
	pool := x509.NewCertPool()
	ca := fs["etc/ssl/certs/ca-certificates.crt"].data
	if !pool.AppendCertsFromPEM(ca) || countPEMCerts(ca) < 100 {
		t.Errorf("CA bundle holds %d certificates; want the public roots (over 100)", countPEMCerts(ca))
	}

	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	unpack(t, fs, root)
	runInImage(t, root, cf)
}

// runInImage runs the binary in the unpacked image. As root it chroots into
// it as the image's user, so nothing outside the image can help it (no
// loader, no shell, no host CA files) and the user's rights are the
// image's; otherwise it can only run the binary from the unpacked tree.
func runInImage(t *testing.T, root string, cf *v1.ConfigFile) {
	t.Helper()
	grants, err := os.ReadFile(filepath.Join(repoRoot, "examples", "grants.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := os.ReadFile(filepath.Join(repoRoot, "examples", "organisation.json"))
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(root, Home)
	for name, data := range map[string][]byte{"grants.yaml": grants, "organisation.json": snap} {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Chown(p, UID, GID); err != nil {
				t.Fatal(err)
			}
		}
	}
	chroot := os.Geteuid() == 0
	if !chroot {
		t.Log("not root: the binary runs from the unpacked image without chroot")
	}
	command := func(args ...string) *exec.Cmd {
		cmd := &exec.Cmd{Args: append([]string{cf.Config.Entrypoint[0]}, args...), Env: cf.Config.Env}
		if chroot {
			cmd.Path = cf.Config.Entrypoint[0]
			cmd.Dir = cf.Config.WorkingDir
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: UID, Gid: GID}}
		} else {
			cmd.Path = filepath.Join(root, cf.Config.Entrypoint[0])
			cmd.Dir = home
			cmd.Env = []string{"HOME=" + home}
		}
		return cmd
	}

	out, err := command("--version").CombinedOutput()
	if err != nil {
		t.Fatalf("bucketgrant --version in the image: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), testVersion) {
		t.Errorf("bucketgrant --version printed %q: want the stamped version %s", out, testVersion)
	}

	// The scheduled job itself, offline: the user can read its files,
	// write the snapshot in its home and the backups where the image's
	// BUCKETGRANT_BACKUP_DIR says.
	out, err = command("sync", "-f", "grants.yaml", "--state", "organisation.json", "--yes").CombinedOutput()
	if err != nil {
		t.Fatalf("bucketgrant sync in the image: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "5 grants: 2 in sync, 3 fixed") {
		t.Errorf("sync in the image printed:\n%s", out)
	}
	backupDir := filepath.Join(home, ".local", "state", "bucketgrant", "backups")
	if chroot {
		backupDir = filepath.Join(root, BackupDir)
	}
	backups, _ := filepath.Glob(filepath.Join(backupDir, "*.json"))
	if len(backups) != 1 {
		t.Errorf("backups in %s: %v, want one", backupDir, backups)
	}

	if chroot {
		sh := command()
		sh.Path, sh.Args = "/bin/sh", []string{"/bin/sh", "-c", "true"}
		if err := sh.Run(); err == nil {
			t.Error("/bin/sh ran inside the image: it should have no shell")
		}
	}
}

func TestMultiPlatformIndex(t *testing.T) {
	bins := map[string]string{
		"linux/arm64": fakeELF(t, elf.EM_AARCH64, false),
		"linux/amd64": fakeELF(t, elf.EM_X86_64, false),
	}
	idx, err := Build(Options{Binaries: bins, Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var plats []string
	var bases []v1.Hash
	for _, d := range im.Manifests {
		plats = append(plats, d.Platform.OS+"/"+d.Platform.Architecture)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		if len(layers) != 2 {
			t.Fatalf("%s: %d layers, want base and binary", d.Platform.Architecture, len(layers))
		}
		h, err := layers[0].Digest()
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, h)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != d.Platform.Architecture {
			t.Errorf("config says %s, index says %s", cf.Architecture, d.Platform.Architecture)
		}
	}
	if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("platforms %v", plats)
	}
	if bases[0] != bases[1] {
		t.Errorf("the base layer differs between platforms (%s, %s): registries would store it twice", bases[0], bases[1])
	}
}

func TestReproducible(t *testing.T) {
	bin := fakeELF(t, elf.EM_X86_64, false)
	digest := func(created time.Time) v1.Hash {
		idx, err := Build(Options{Binaries: map[string]string{"linux/amd64": bin}, Version: "v1.2.3", Created: created})
		if err != nil {
			t.Fatal(err)
		}
		h, err := idx.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	at := time.Unix(1_700_000_000, 0)
	if a, b := digest(at), digest(at); a != b {
		t.Errorf("two builds of the same inputs: %s and %s", a, b)
	}
	if a, b := digest(at), digest(at.Add(time.Second)); a == b {
		t.Error("the creation time does not reach the image")
	}
}

func TestBuildRefuses(t *testing.T) {
	amd := fakeELF(t, elf.EM_X86_64, false)
	notELF := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	badCA := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(badCA, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"nothing", Options{}, "no binary given"},
		{"no version", Options{Binaries: map[string]string{"linux/amd64": amd}}, "no version given"},
		{"bad tag", Options{Binaries: map[string]string{"linux/amd64": amd}, Version: "v1+build"}, "cannot be an image tag"},
		{"dynamic", Options{Binaries: map[string]string{"linux/amd64": fakeELF(t, elf.EM_X86_64, true)}, Version: "v1"}, "build it with CGO_ENABLED=0"},
		{"wrong arch", Options{Binaries: map[string]string{"linux/arm64": amd}, Version: "v1"}, "build it with GOARCH=arm64"},
		{"not elf", Options{Binaries: map[string]string{"linux/amd64": notELF}, Version: "v1"}, "not an ELF executable"},
		{"missing", Options{Binaries: map[string]string{"linux/amd64": filepath.Join(t.TempDir(), "nope")}, Version: "v1"}, "binary for linux/amd64"},
		{"windows", Options{Binaries: map[string]string{"windows/amd64": amd}, Version: "v1"}, "runs on linux only"},
		{"bad platform", Options{Binaries: map[string]string{"amd64": amd}, Version: "v1"}, "write it as os/arch"},
		{"unknown arch", Options{Binaries: map[string]string{"linux/vax": amd}, Version: "v1"}, "unknown architecture"},
		{"bad CA bundle", Options{Binaries: map[string]string{"linux/amd64": amd}, Version: "v1", CABundle: badCA}, "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestWriteLayoutReplacesOnlyALayout(t *testing.T) {
	idx, err := Build(Options{Binaries: map[string]string{"linux/amd64": fakeELF(t, elf.EM_X86_64, false)}, Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "oci")
	for range 2 { // the second build replaces the first
		if err := WriteLayout(out, idx, DefaultRepository, "v1"); err != nil {
			t.Fatal(err)
		}
	}
	top, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := top.IndexManifest(); len(m.Manifests) != 1 {
		t.Errorf("after two builds index.json has %d entries, want 1", len(m.Manifests))
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(other, idx, DefaultRepository, "v1"); err == nil || !strings.Contains(err.Error(), "holds no OCI layout") {
		t.Errorf("writing over a directory of other files: %v", err)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Errorf("the other directory's file is gone: %v", err)
	}
}

// TestRunWritesArchiveAndPushes runs the command as the release workflow
// does, against a registry on 127.0.0.1.
func TestRunWritesArchiveAndPushes(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(nopLogger())))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	bin := fakeELF(t, elf.EM_X86_64, false)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-binary", "linux/amd64=" + bin, "-version", "v1.2.3",
		"-out", filepath.Join(dir, "oci"), "-archive", filepath.Join(dir, "image.tar"),
		"-push", host + "/bucketgrant/bucketgrant:v1.2.3", "-push", host + "/bucketgrant/bucketgrant:latest"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	local, err := layout.ImageIndexFromPath(filepath.Join(dir, "oci"))
	if err != nil {
		t.Fatal(err)
	}
	lm, err := local.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want := lm.Manifests[0].Digest
	for _, tag := range []string{"v1.2.3", "latest"} {
		ref, err := name.ParseReference(host + "/bucketgrant/bucketgrant:" + tag)
		if err != nil {
			t.Fatal(err)
		}
		got, err := remote.Index(ref)
		if err != nil {
			t.Fatalf("pulling %s back: %v", ref, err)
		}
		if h, _ := got.Digest(); h != want {
			t.Errorf("%s is %s, the layout holds %s", tag, h, want)
		}
	}
	if !strings.Contains(stdout.String(), "pushed "+host+"/bucketgrant/bucketgrant:latest@"+want.String()) {
		t.Errorf("output:\n%s", stdout.String())
	}

	// The archive is the layout in one file.
	f, err := os.Open(filepath.Join(dir, "image.tar"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, h.Name)
	}
	for _, e := range []string{"index.json", "oci-layout", "blobs/sha256/" + want.Hex} {
		if !slices.Contains(entries, e) {
			t.Errorf("archive lacks %s: %v", e, entries)
		}
	}
}

func TestRunRefuses(t *testing.T) {
	bin := fakeELF(t, elf.EM_X86_64, false)
	tests := []struct {
		name  string
		args  []string
		epoch string
		want  string
	}{
		{"binary without platform", []string{"-binary", bin, "-version", "v1"}, "", "write PLATFORM=PATH"},
		{"platform twice", []string{"-binary", "linux/amd64=" + bin, "-binary", "linux/amd64=" + bin, "-version", "v1"}, "", "given twice"},
		{"stray argument", []string{"-version", "v1", "extra"}, "", `unexpected argument "extra"`},
		{"bad epoch", []string{"-binary", "linux/amd64=" + bin, "-version", "v1"}, "yesterday", "SOURCE_DATE_EPOCH"},
		{"bad push ref", []string{"-binary", "linux/amd64=" + bin, "-version", "v1", "-out", filepath.Join(t.TempDir(), "o"), "-push", "UPPER/Case:tag"}, "", "-push"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.epoch)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func nopLogger() *log.Logger { return log.New(io.Discard, "", 0) }
