package snapshot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The "organization" member (format version 2): the organization, the
// hierarchy above the accounts read and the SCPs and RCPs attached along
// it. Absent (or null) means the organization was not read.

// FormatV1 is the first snapshot format: everything but the organization.
// It is still read; writers write Format.
const FormatV1 = "bucketgrant.snapshot/1"

func (r *reader) organization(path string, v []byte) (*state.Organization, error) {
	switch kindOf(v) {
	case "nothing", "null":
		return nil, nil
	}
	m, _, err := r.fields(path, v)
	if err != nil {
		return nil, err
	}
	o := &state.Organization{Source: v}
	if o.ID, err = r.required(join(path, "id"), m["id"]); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(o.ID, "o-") {
		return nil, r.errf(join(path, "id"), "%q is not an organization ID (o-…)", o.ID)
	}
	if o.ManagementAccount, err = r.required(join(path, "management_account"), m["management_account"]); err != nil {
		return nil, err
	}
	if !isAccountID(o.ManagementAccount) {
		return nil, r.errf(join(path, "management_account"), "%q is not a 12-digit account ID", o.ManagementAccount)
	}
	if o.RootID, err = r.required(join(path, "root_id"), m["root_id"]); err != nil {
		return nil, err
	}
	if o.EnabledTypes, err = r.strs(join(path, "enabled_policy_types"), m["enabled_policy_types"]); err != nil {
		return nil, err
	}
	for i, t := range o.EnabledTypes {
		if t != state.SCPType && t != state.RCPType {
			return nil, r.errf(index(join(path, "enabled_policy_types"), i), "%q: bucketgrant reads %s and %s", t, state.SCPType, state.RCPType)
		}
	}
	if o.Outside, err = r.strs(join(path, "outside_accounts"), m["outside_accounts"]); err != nil {
		return nil, err
	}
	els, err := r.array(join(path, "policies"), m["policies"])
	if err != nil {
		return nil, err
	}
	types := map[string]string{}
	for i, e := range els {
		p := index(join(path, "policies"), i)
		pol, err := r.orgPolicy(p, e)
		if err != nil {
			return nil, err
		}
		if _, dup := types[pol.ID]; dup {
			return nil, r.errf(join(p, "id"), "duplicate policy id %q", pol.ID)
		}
		types[pol.ID] = pol.Type
		o.Policies = append(o.Policies, pol)
	}
	els, err = r.array(join(path, "targets"), m["targets"])
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for i, e := range els {
		p := index(join(path, "targets"), i)
		t, err := r.orgTarget(p, e, types)
		if err != nil {
			return nil, err
		}
		if seen[t.ID] {
			return nil, r.errf(join(p, "id"), "duplicate target id %q", t.ID)
		}
		seen[t.ID] = true
		if (t.Parent == "") != (t.ID == o.RootID) {
			if t.Parent == "" {
				return nil, r.errf(join(p, "parent"), "missing: only the root %s has no parent", o.RootID)
			}
			return nil, r.errf(join(p, "parent"), "the root has no parent")
		}
		if slices.Contains(o.Outside, t.ID) {
			return nil, r.errf(join(p, "id"), "account %s is listed both as a member and in outside_accounts", t.ID)
		}
		o.Targets = append(o.Targets, t)
	}
	for i, t := range o.Targets {
		if t.Parent != "" && !seen[t.Parent] {
			return nil, r.errf(join(index(join(path, "targets"), i), "parent"), "%q is not among the targets; take the snapshot again", t.Parent)
		}
		if t.Parent != "" && o.Path(t.ID) == nil {
			return nil, r.errf(join(index(join(path, "targets"), i), "parent"), "the parents of %s do not lead to the root %s (a cycle)", t.ID, o.RootID)
		}
	}
	return o, nil
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func (r *reader) strs(path string, v []byte) ([]string, error) {
	els, err := r.array(path, v)
	if err != nil {
		return nil, err
	}
	var out []string
	for i, e := range els {
		s, err := r.required(index(path, i), e)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (r *reader) orgPolicy(path string, v []byte) (state.OrgPolicy, error) {
	p := state.OrgPolicy{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return p, err
	}
	if p.ID, err = r.required(join(path, "id"), m["id"]); err != nil {
		return p, err
	}
	if p.Name, err = r.str(join(path, "name"), m["name"]); err != nil {
		return p, err
	}
	if p.Type, err = r.required(join(path, "type"), m["type"]); err != nil {
		return p, err
	}
	if p.Type != state.SCPType && p.Type != state.RCPType {
		return p, r.errf(join(path, "type"), "%q: want %s or %s", p.Type, state.SCPType, state.RCPType)
	}
	if p.AWSManaged, err = r.boolean(join(path, "aws_managed"), m["aws_managed"]); err != nil {
		return p, err
	}
	if p.Document, err = r.doc(join(path, "document"), m["document"]); err != nil {
		return p, err
	}
	if p.Document == nil {
		return p, r.errf(join(path, "document"), "missing: every policy needs its document")
	}
	return p, nil
}

func (r *reader) orgTarget(path string, v []byte, types map[string]string) (state.OrgTarget, error) {
	t := state.OrgTarget{Source: v}
	m, _, err := r.fields(path, v)
	if err != nil {
		return t, err
	}
	if t.ID, err = r.required(join(path, "id"), m["id"]); err != nil {
		return t, err
	}
	if !strings.HasPrefix(t.ID, "r-") && !strings.HasPrefix(t.ID, "ou-") && !isAccountID(t.ID) {
		return t, r.errf(join(path, "id"), "%q is not a root (r-…), an OU (ou-…) or a 12-digit account ID", t.ID)
	}
	if t.Name, err = r.str(join(path, "name"), m["name"]); err != nil {
		return t, err
	}
	if t.Parent, err = r.str(join(path, "parent"), m["parent"]); err != nil {
		return t, err
	}
	for _, f := range []struct {
		name string
		typ  string
		dst  *[]string
	}{{"scps", state.SCPType, &t.SCPs}, {"rcps", state.RCPType, &t.RCPs}} {
		p := join(path, f.name)
		if *f.dst, err = r.strs(p, m[f.name]); err != nil {
			return t, err
		}
		for i, id := range *f.dst {
			typ, ok := types[id]
			if !ok {
				return t, r.errf(index(p, i), "policy %q is not among the organization's policies; take the snapshot again", id)
			}
			if typ != f.typ {
				return t, r.errf(index(p, i), "policy %q is a %s, not a %s", id, typ, f.typ)
			}
		}
	}
	return t, nil
}

// orgField writes the organization afresh when it changed (it is read,
// never edited, so a changed one is a new reading).
func (w *writer) orgField(st, orig *state.State, src []byte) field {
	has := src != nil
	return field{name: "organization", same: has && same(st.Org, orig.Org), omit: st.Org == nil, enc: func(ind string) []byte {
		o := st.Org
		if o == nil {
			return []byte("null")
		}
		return w.object(nil, ind, []field{
			{name: "id", enc: str(o.ID)},
			{name: "management_account", enc: str(o.ManagementAccount)},
			{name: "root_id", enc: str(o.RootID)},
			{name: "enabled_policy_types", enc: w.strings(nil, o.EnabledTypes)},
			{name: "targets", enc: func(ind string) []byte {
				return w.array(nil, ind, len(o.Targets), func(i int, ind string) []byte {
					t := &o.Targets[i]
					return w.object(nil, ind, []field{
						{name: "id", enc: str(t.ID)},
						{name: "name", omit: t.Name == "", enc: str(t.Name)},
						{name: "parent", enc: nullableStr(t.Parent)},
						{name: "scps", enc: w.strings(nil, t.SCPs)},
						{name: "rcps", enc: w.strings(nil, t.RCPs)},
					})
				})
			}},
			{name: "policies", enc: func(ind string) []byte {
				return w.array(nil, ind, len(o.Policies), func(i int, ind string) []byte {
					p := &o.Policies[i]
					return w.object(nil, ind, []field{
						{name: "id", enc: str(p.ID)},
						{name: "name", enc: str(p.Name)},
						{name: "type", enc: str(p.Type)},
						{name: "aws_managed", omit: !p.AWSManaged, enc: boolean(p.AWSManaged)},
						{name: "document", enc: doc(p.Document)},
					})
				})
			}},
			{name: "outside_accounts", omit: len(o.Outside) == 0, enc: w.strings(nil, o.Outside)},
		})
	}}
}

func formatError(format string) string {
	return fmt.Sprintf("is %q; this version reads %q and %q", format, Format, FormatV1)
}

// keepFormat reports whether a file's format member can stay as it is:
// version 2 always; version 1 while the state holds nothing version 1
// lacks.
func keepFormat(st *state.State, format []byte) bool {
	switch string(format) {
	case `"` + Format + `"`:
		return true
	case `"` + FormatV1 + `"`:
		return !needsV2(st)
	}
	return false
}

// needsV2 reports whether the state holds members only version 2 defines.
func needsV2(st *state.State) bool {
	return st.Org != nil
}
