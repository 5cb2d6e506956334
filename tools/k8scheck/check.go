package main

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // CronJob time zones are checked without the machine's zoneinfo

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/bucketgrant/bucketgrant/tools/imagespec"
)

// Manifest is a decoded multi-document file.
type Manifest struct {
	file            string
	Namespaces      map[string]*corev1.Namespace
	ServiceAccounts map[string]*corev1.ServiceAccount // by namespace/name
	ConfigMaps      map[string]*corev1.ConfigMap
	Secrets         map[string]*corev1.Secret
	Claims          map[string]*corev1.PersistentVolumeClaim
	CronJobs        []*batchv1.CronJob
	// where says where each object starts, for messages.
	where map[any]string
}

func key(ns, name string) string { return ns + "/" + name }

// Decode reads every document of data strictly: an unknown or misspelt
// field, a duplicate key or a value of the wrong type is an error, as the
// API server's strict field validation (kubectl's default) reports it.
func Decode(file string, data []byte) (*Manifest, []error) {
	m := &Manifest{file: file, Namespaces: map[string]*corev1.Namespace{}, ServiceAccounts: map[string]*corev1.ServiceAccount{},
		ConfigMaps: map[string]*corev1.ConfigMap{}, Secrets: map[string]*corev1.Secret{},
		Claims: map[string]*corev1.PersistentVolumeClaim{}, where: map[any]string{}}
	var errs []error
	for _, d := range splitDocuments(data) {
		at := fmt.Sprintf("%s:%d", file, d.line)
		js, err := sigsyaml.YAMLToJSON(d.text)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		if string(js) == "null" {
			continue // only comments
		}
		var tm metav1.TypeMeta
		if err := sigsyaml.Unmarshal(d.text, &tm); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		obj, err := newObject(tm)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
			continue
		}
		if err := sigsyaml.UnmarshalStrict(d.text, obj); err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", at, tm.Kind, err))
			continue
		}
		meta := obj.(metav1.Object)
		what := fmt.Sprintf("%s: %s %q", at, tm.Kind, meta.GetName())
		m.where[obj] = what
		if errs2 := checkMeta(what, tm.Kind, meta); len(errs2) > 0 {
			errs = append(errs, errs2...)
			continue
		}
		k := key(meta.GetNamespace(), meta.GetName())
		var dup bool
		switch o := obj.(type) {
		case *corev1.Namespace:
			_, dup = m.Namespaces[o.Name]
			m.Namespaces[o.Name] = o
		case *corev1.ServiceAccount:
			_, dup = m.ServiceAccounts[k]
			m.ServiceAccounts[k] = o
		case *corev1.ConfigMap:
			_, dup = m.ConfigMaps[k]
			m.ConfigMaps[k] = o
		case *corev1.Secret:
			_, dup = m.Secrets[k]
			m.Secrets[k] = o
		case *corev1.PersistentVolumeClaim:
			_, dup = m.Claims[k]
			m.Claims[k] = o
		case *batchv1.CronJob:
			dup = slices.ContainsFunc(m.CronJobs, func(c *batchv1.CronJob) bool { return key(c.Namespace, c.Name) == k })
			m.CronJobs = append(m.CronJobs, o)
		}
		if dup {
			errs = append(errs, fmt.Errorf("%s: defined twice", what))
		}
	}
	return m, errs
}

type document struct {
	text []byte
	line int
}

// splitDocuments splits at "---" lines, keeping each document's first line
// for messages.
func splitDocuments(data []byte) []document {
	var docs []document
	var cur bytes.Buffer
	start, n := 1, 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		n++
		line := sc.Text()
		if line == "---" || strings.HasPrefix(line, "--- ") {
			docs = append(docs, document{text: bytes.Clone(cur.Bytes()), line: start})
			cur.Reset()
			start = n + 1
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	return append(docs, document{text: cur.Bytes(), line: start})
}

// newObject returns the API type of a kind this check knows. The example
// uses these; anything else would go unchecked, so it is refused.
func newObject(tm metav1.TypeMeta) (any, error) {
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		return &corev1.Namespace{}, nil
	case "v1 ServiceAccount":
		return &corev1.ServiceAccount{}, nil
	case "v1 ConfigMap":
		return &corev1.ConfigMap{}, nil
	case "v1 Secret":
		return &corev1.Secret{}, nil
	case "v1 PersistentVolumeClaim":
		return &corev1.PersistentVolumeClaim{}, nil
	case "batch/v1 CronJob":
		return &batchv1.CronJob{}, nil
	}
	if tm.Kind == "" || tm.APIVersion == "" {
		return nil, fmt.Errorf("a document without apiVersion and kind")
	}
	return nil, fmt.Errorf("apiVersion %q kind %q: this check knows v1 Namespace, ServiceAccount, ConfigMap, Secret, PersistentVolumeClaim and batch/v1 CronJob", tm.APIVersion, tm.Kind)
}

func checkMeta(what, kind string, meta metav1.Object) []error {
	var errs []error
	if meta.GetName() == "" {
		return []error{fmt.Errorf("%s: metadata.name is empty", what)}
	}
	for _, msg := range validation.IsDNS1123Subdomain(meta.GetName()) {
		errs = append(errs, fmt.Errorf("%s: metadata.name: %s", what, msg))
	}
	// A CronJob's name gets an 11-character suffix for its Jobs.
	if kind == "CronJob" && len(meta.GetName()) > 52 {
		errs = append(errs, fmt.Errorf("%s: metadata.name: at most 52 characters for a CronJob", what))
	}
	if kind == "Namespace" {
		for _, msg := range validation.IsDNS1123Label(meta.GetName()) {
			errs = append(errs, fmt.Errorf("%s: metadata.name: %s", what, msg))
		}
		if meta.GetNamespace() != "" {
			errs = append(errs, fmt.Errorf("%s: a Namespace has no metadata.namespace", what))
		}
	} else if meta.GetNamespace() == "" {
		// kubectl would put it in whatever namespace the context names,
		// and the references between the objects would break.
		errs = append(errs, fmt.Errorf("%s: metadata.namespace is empty: name the namespace the other objects are in", what))
	}
	return errs
}

// Check decodes the manifest and checks that every CronJob can run: every
// object it uses is defined here, the image is the one `make image` builds,
// and the container's command is one bucketgrant accepts.
func Check(file string, data []byte) (*Manifest, []error) {
	m, errs := Decode(file, data)
	if len(errs) > 0 {
		return m, errs
	}
	for _, obj := range m.namespaced() {
		if ns := obj.GetNamespace(); m.Namespaces[ns] == nil {
			errs = append(errs, fmt.Errorf("%s: namespace %q is not defined in the file: add a Namespace", m.where[obj], ns))
		}
	}
	if len(m.CronJobs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no CronJob", file))
	}
	for _, cj := range m.CronJobs {
		errs = append(errs, m.checkCronJob(cj)...)
	}
	return m, errs
}

func (m *Manifest) namespaced() []metav1.Object {
	var objs []metav1.Object
	for _, o := range m.ServiceAccounts {
		objs = append(objs, o)
	}
	for _, o := range m.ConfigMaps {
		objs = append(objs, o)
	}
	for _, o := range m.Secrets {
		objs = append(objs, o)
	}
	for _, o := range m.Claims {
		objs = append(objs, o)
	}
	for _, o := range m.CronJobs {
		objs = append(objs, o)
	}
	slices.SortFunc(objs, func(a, b metav1.Object) int { return strings.Compare(m.where[a], m.where[b]) })
	return objs
}

func (m *Manifest) checkCronJob(cj *batchv1.CronJob) []error {
	what := m.where[cj]
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(what+": "+format, args...)) }
	s := cj.Spec
	if err := checkSchedule(s.Schedule); err != nil {
		fail("spec.schedule %q: %v", s.Schedule, err)
	}
	if s.TimeZone != nil {
		if _, err := time.LoadLocation(*s.TimeZone); err != nil || *s.TimeZone == "Local" {
			fail("spec.timeZone %q: not a time zone name (for example Etc/UTC)", *s.TimeZone)
		}
	}
	switch s.ConcurrencyPolicy {
	case "", batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	default:
		fail("spec.concurrencyPolicy %q: use Allow, Forbid or Replace", s.ConcurrencyPolicy)
	}
	job := s.JobTemplate.Spec
	indexed := job.CompletionMode != nil && *job.CompletionMode == batchv1.IndexedCompletion
	if indexed && job.Completions == nil {
		fail("an Indexed job needs spec.jobTemplate.spec.completions")
	}
	if job.Parallelism != nil && job.Completions != nil && *job.Parallelism > *job.Completions {
		fail("parallelism %d is more than completions %d", *job.Parallelism, *job.Completions)
	}
	pod := job.Template.Spec
	switch pod.RestartPolicy {
	case corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure:
	default:
		fail("restartPolicy %q: a Job's pods need Never or OnFailure", pod.RestartPolicy)
	}
	if sa := pod.ServiceAccountName; sa != "" && sa != "default" && m.ServiceAccounts[key(cj.Namespace, sa)] == nil {
		fail("serviceAccountName %q is not defined in the file", sa)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		if _, dup := volumes[v.Name]; dup {
			fail("volume %q is defined twice", v.Name)
		}
		volumes[v.Name] = v
		switch {
		case v.ConfigMap != nil:
			if m.ConfigMaps[key(cj.Namespace, v.ConfigMap.Name)] == nil && (v.ConfigMap.Optional == nil || !*v.ConfigMap.Optional) {
				fail("volume %q: ConfigMap %q is not defined in the file", v.Name, v.ConfigMap.Name)
			}
		case v.Secret != nil:
			if m.Secrets[key(cj.Namespace, v.Secret.SecretName)] == nil && (v.Secret.Optional == nil || !*v.Secret.Optional) {
				fail("volume %q: Secret %q is not defined in the file", v.Name, v.Secret.SecretName)
			}
		case v.PersistentVolumeClaim != nil:
			c := m.Claims[key(cj.Namespace, v.PersistentVolumeClaim.ClaimName)]
			if c == nil {
				fail("volume %q: PersistentVolumeClaim %q is not defined in the file", v.Name, v.PersistentVolumeClaim.ClaimName)
			} else if par := job.Parallelism; par != nil && *par > 1 && !slices.Contains(c.Spec.AccessModes, corev1.ReadWriteMany) {
				fail("volume %q: %d pods run at once, possibly on different nodes, but claim %q is not ReadWriteMany", v.Name, *par, c.Name)
			}
		case v.EmptyDir != nil:
		default:
			fail("volume %q: a kind of volume this check does not know (configMap, secret, persistentVolumeClaim, emptyDir)", v.Name)
		}
	}
	podSec := pod.SecurityContext
	if podSec == nil {
		podSec = &corev1.PodSecurityContext{}
	}
	if len(pod.Containers) == 0 {
		fail("no container")
	}
	for _, c := range pod.Containers {
		errs = append(errs, m.checkContainer(what, cj, c, podSec, volumes, indexed, job.Completions)...)
	}
	return errs
}

func (m *Manifest) checkContainer(what string, cj *batchv1.CronJob, c corev1.Container, podSec *corev1.PodSecurityContext,
	volumes map[string]corev1.Volume, indexed bool, completions *int32) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: container %q: %s", what, c.Name, fmt.Sprintf(format, args...)))
	}
	repo, tag := splitImage(c.Image)
	if repo != imagespec.Repository {
		fail("image %q: the image `make image` builds is %s:VERSION", c.Image, imagespec.Repository)
	} else if tag == "" || tag == "latest" {
		fail("image %q: pin a release (%s:vX.Y.Z): a scheduled job should not change version by itself", c.Image, imagespec.Repository)
	}
	if len(c.Command) > 0 && c.Command[0] != imagespec.BinaryPath {
		fail("command %q: the image has no shell and nothing but %s; give bucketgrant's arguments in args", c.Command, imagespec.BinaryPath)
	}

	// The image's user, not root.
	runAsNonRoot, runAsUser := podSec.RunAsNonRoot, podSec.RunAsUser
	readOnlyRoot := false
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			runAsNonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			runAsUser = sc.RunAsUser
		}
		if sc.Privileged != nil && *sc.Privileged {
			fail("privileged: bucketgrant needs no privilege")
		}
		readOnlyRoot = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
	}
	if runAsNonRoot == nil || !*runAsNonRoot {
		fail("set securityContext.runAsNonRoot: true (the image's user is %d)", imagespec.UID)
	}
	if runAsUser != nil && *runAsUser != imagespec.UID {
		fail("runAsUser %d: the image's user is %d (its home and files are set up for it)", *runAsUser, imagespec.UID)
	}

	mounts := map[string]corev1.VolumeMount{}
	for _, vm := range c.VolumeMounts {
		if _, ok := volumes[vm.Name]; !ok {
			fail("volumeMount %q names no volume of the pod", vm.Name)
		}
		if !path.IsAbs(vm.MountPath) {
			fail("volumeMount %q: mountPath %q is not absolute", vm.Name, vm.MountPath)
		}
		if _, dup := mounts[path.Clean(vm.MountPath)]; dup {
			fail("two volumes are mounted at %s", vm.MountPath)
		}
		mounts[path.Clean(vm.MountPath)] = vm
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if indexed {
		env["JOB_COMPLETION_INDEX"] = "0"
	}
	for _, a := range c.Args {
		for _, ref := range envRef.FindAllStringSubmatch(a, -1) {
			if _, ok := env[ref[1]]; !ok {
				fail("args %q: $(%s) is not set in the container (Kubernetes would pass it on literally)", a, ref[1])
			}
		}
	}

	args := c.Args
	if len(c.Command) > 1 {
		args = append(slices.Clone(c.Command[1:]), args...)
	}
	if len(args) == 0 || args[0] != "sync" {
		fail("args %q: a scheduled bucketgrant runs `sync`", args)
		return errs
	}
	flags := syncFlags(args[1:])
	grantsPath := flags["f"]
	if grantsPath == "" {
		grantsPath = flags["file"]
	}
	if grantsPath == "" {
		grantsPath = env["BUCKETGRANT_GRANTS"]
	}
	if grantsPath == "" {
		fail("sync has no -f GRANTS.yaml")
	} else if data, err := m.fileFromMounts(cj.Namespace, grantsPath, mounts, volumes); err != nil {
		fail("-f %s: %v", grantsPath, err)
	} else if err := looksLikeGrants(data); err != nil {
		fail("-f %s: %v", grantsPath, err)
	}

	shard := flags["shard"]
	if shard == "" {
		shard = env["BUCKETGRANT_SHARD"]
	}
	if strings.Contains(shard, "$(JOB_COMPLETION_INDEX)") {
		n := strings.TrimPrefix(shard, "$(JOB_COMPLETION_INDEX)/")
		if !indexed {
			fail("--shard %s uses JOB_COMPLETION_INDEX, which only an Indexed job sets", shard)
		} else if completions != nil && n != strconv.Itoa(int(*completions)) {
			fail("--shard %s: the job runs %d completions; the shard count and completions must be equal, or grants go unsynced", shard, *completions)
		}
	}

	// Where the backups go must outlive the pod.
	backups := flags["backup-dir"]
	if backups == "" {
		backups = env["BUCKETGRANT_BACKUP_DIR"]
	}
	if backups == "" {
		backups = imagespec.BackupDir // the image sets BUCKETGRANT_BACKUP_DIR
	}
	_, yes := flags["yes"]
	if _, y := flags["y"]; y || yes {
		if vm, v, ok := mountOf(backups, mounts, volumes); !ok || v.PersistentVolumeClaim == nil {
			fail("backup directory %s is not on a persistentVolumeClaim: the backups would vanish with the pod", backups)
		} else if vm.ReadOnly {
			fail("backup directory %s is mounted read-only", backups)
		}
	}
	if readOnlyRoot {
		if _, _, ok := mountOf("/tmp", mounts, volumes); !ok {
			fail("readOnlyRootFilesystem without a volume at /tmp: temporary files cannot be written")
		}
	}
	return errs
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// syncFlags reads the flags of a sync command line: name -> value ("" for
// booleans). It knows which of sync's flags take a value.
func syncFlags(args []string) map[string]string {
	valued := map[string]bool{"f": true, "file": true, "shard": true, "parallel": true, "state": true, "format": true,
		"log-format": true, "backup-dir": true, "region": true, "endpoint-url": true, "max-attempts": true,
		"retry-max-backoff": true, "timeout": true}
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		if a == args[i] {
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if !hasValue && valued[name] && i+1 < len(args) {
			i++
			value = args[i]
		}
		flags[name] = value
	}
	return flags
}

// mountOf finds the mount that holds p.
func mountOf(p string, mounts map[string]corev1.VolumeMount, volumes map[string]corev1.Volume) (corev1.VolumeMount, corev1.Volume, bool) {
	p = path.Clean(p)
	for dir := p; ; dir = path.Dir(dir) {
		if vm, ok := mounts[dir]; ok {
			return vm, volumes[vm.Name], true
		}
		if dir == "/" {
			return corev1.VolumeMount{}, corev1.Volume{}, false
		}
	}
}

// fileFromMounts returns what the container reads at p: the ConfigMap or
// Secret key a volume projects there.
func (m *Manifest) fileFromMounts(ns, p string, mounts map[string]corev1.VolumeMount, volumes map[string]corev1.Volume) ([]byte, error) {
	vm, v, ok := mountOf(p, mounts, volumes)
	if !ok {
		return nil, fmt.Errorf("no volume is mounted there: mount the ConfigMap that holds it")
	}
	rel := strings.TrimPrefix(path.Clean(p), path.Clean(vm.MountPath)+"/")
	if vm.SubPath != "" {
		rel = vm.SubPath
	}
	var data map[string]string
	var items []corev1.KeyToPath
	switch {
	case v.ConfigMap != nil:
		cm := m.ConfigMaps[key(ns, v.ConfigMap.Name)]
		if cm == nil {
			return nil, fmt.Errorf("the ConfigMap %q is not defined", v.ConfigMap.Name)
		}
		data, items = cm.Data, v.ConfigMap.Items
	case v.Secret != nil:
		s := m.Secrets[key(ns, v.Secret.SecretName)]
		if s == nil {
			return nil, fmt.Errorf("the Secret %q is not defined", v.Secret.SecretName)
		}
		data = map[string]string{}
		for k, b := range s.Data {
			data[k] = string(b)
		}
		for k, v := range s.StringData {
			data[k] = v
		}
		items = v.Secret.Items
	default:
		return nil, fmt.Errorf("volume %q holds no ConfigMap or Secret: the file cannot be checked", vm.Name)
	}
	k := rel
	if len(items) > 0 {
		k = ""
		for _, it := range items {
			if path.Clean(it.Path) == rel {
				k = it.Key
			}
		}
	}
	content, ok := data[k]
	if !ok || k == "" {
		return nil, fmt.Errorf("volume %q has no key for %s (keys: %s)", vm.Name, rel, strings.Join(sortedKeys(data), ", "))
	}
	return []byte(content), nil
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// splitImage splits "registry/repo:tag" (a digest counts as a tag here).
func splitImage(image string) (repo, tag string) {
	if i := strings.Index(image, "@"); i >= 0 {
		return image[:i], image[i+1:]
	}
	slash := strings.LastIndex(image, "/")
	if i := strings.LastIndex(image, ":"); i > slash {
		return image[:i], image[i+1:]
	}
	return image, ""
}

// checkSchedule checks a five-field cron schedule as the CronJob
// controller reads it (a macro such as @hourly is accepted too).
func checkSchedule(s string) error {
	if strings.HasPrefix(s, "@") {
		switch s {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
			return nil
		}
		return fmt.Errorf("unknown macro")
	}
	if strings.Contains(s, "TZ=") {
		return fmt.Errorf("put the time zone in spec.timeZone, not in the schedule")
	}
	fields := strings.Fields(s)
	if len(fields) != 5 {
		return fmt.Errorf("%d fields: want 5 (minute hour day-of-month month day-of-week)", len(fields))
	}
	limits := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}
	names := [5][]string{nil, nil, nil,
		{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
		{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
	for i, f := range fields {
		for part := range strings.SplitSeq(f, ",") {
			rng, step, hasStep := strings.Cut(part, "/")
			if hasStep {
				if n, err := strconv.Atoi(step); err != nil || n < 1 {
					return fmt.Errorf("field %d: bad step %q", i+1, step)
				}
			}
			if rng == "*" || (i == 2 && rng == "?") || (i == 4 && rng == "?") {
				continue
			}
			lo, hi, isRange := strings.Cut(rng, "-")
			for _, v := range []string{lo, hi} {
				if v == "" && !isRange {
					continue
				}
				n, err := strconv.Atoi(v)
				if err != nil {
					if idx := slices.Index(names[i], strings.ToLower(v)); idx >= 0 {
						continue
					}
					return fmt.Errorf("field %d: %q is not a number", i+1, v)
				}
				if n < limits[i][0] || n > limits[i][1] {
					return fmt.Errorf("field %d: %d is outside %d-%d", i+1, n, limits[i][0], limits[i][1])
				}
			}
		}
	}
	return nil
}

// looksLikeGrants checks the grants file's outline only. Its full check is
// bucketgrant's own parser, which the tests run on it through the binary;
// importing the parser here would tie this module's dependencies to the
// main module's.
func looksLikeGrants(data []byte) error {
	var f struct {
		Version any   `json:"version"`
		Grants  []any `json:"grants"`
	}
	if err := sigsyaml.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("not a grants file: %w", err)
	}
	if f.Version != float64(1) {
		return fmt.Errorf("not a grants file: want version: 1 (docs/grants.md)")
	}
	if len(f.Grants) == 0 {
		return fmt.Errorf("the grants file has no grants")
	}
	return nil
}
