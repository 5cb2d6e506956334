package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/name"
)

// elfMachines maps the GOARCH names an image platform uses to the ELF
// machine their binaries carry.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

func knownArches() []string {
	var a []string
	for k := range elfMachines {
		a = append(a, k)
	}
	slices.Sort(a)
	return a
}

// checkStaticELF refuses a binary that cannot run in the image: one for
// another architecture, or one that needs a dynamic loader (a cgo build),
// which the image does not have. Caught here, it is a build error; in the
// image, it would be a "no such file or directory" on the scheduler.
func checkStaticELF(path string, data []byte, arch string) error {
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("binary %s is not an ELF executable (%v): build it with GOOS=linux", path, err)
	}
	defer f.Close()
	if want := elfMachines[arch]; f.Machine != want {
		return fmt.Errorf("binary %s is built for %s, not %s: build it with GOARCH=%s", path, f.Machine, arch, arch)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("binary %s is an ELF %s, not an executable", path, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("binary %s is dynamically linked (it needs a loader the image does not have): build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// validTag checks that version can be an image tag.
func validTag(version string) error {
	if _, err := name.NewTag(DefaultRepository+":"+version, name.StrictValidation); err != nil {
		return fmt.Errorf("version %q cannot be an image tag (letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'): %w", version, err)
	}
	return nil
}
