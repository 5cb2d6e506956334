package snapshot

import (
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// The members each object is written with, in the order a fresh object
// lists them. Each field knows whether its value equals the one held in the
// object's Source (decoded again here, so the writer needs no other memory
// of what was read).

func (w *writer) stateFields(st, orig *state.State) []field {
	src := st.Source
	if orig == nil {
		src = nil
		orig = &state.State{}
	}
	has := src != nil
	return []field{
		// A fresh file is version 2. A version 1 file written back stays
		// version 1 (older bucketgrants read it) until it holds something
		// only version 2 has.
		{name: "format", same: has && keepFormat(st, memberValue(src, "format")), enc: str(Format)},
		{name: "buckets", same: has && same(st.Buckets, orig.Buckets), enc: func(ind string) []byte {
			return w.array(memberValue(src, "buckets"), ind, len(st.Buckets), func(i int, ind string) []byte { return w.bucket(&st.Buckets[i], ind) })
		}},
		{name: "keys", same: has && same(st.Keys, orig.Keys) && sameReadKeys(st.Keys, orig.Keys), enc: func(ind string) []byte {
			return w.array(memberValue(src, "keys"), ind, len(st.Keys), func(i int, ind string) []byte { return w.key(&st.Keys[i], ind) })
		}},
		{name: "principals", same: has && same(st.Principals, orig.Principals) && sameReadPrincipals(st.Principals, orig.Principals), enc: func(ind string) []byte {
			return w.array(memberValue(src, "principals"), ind, len(st.Principals), func(i int, ind string) []byte { return w.principal(&st.Principals[i], ind) })
		}},
		w.orgField(st, orig, src),
	}
}

func (w *writer) bucket(b *state.Bucket, ind string) []byte {
	src := b.Source
	o, err := (&reader{}).bucket("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "name", same: has && o.Name == b.Name, enc: str(b.Name)},
		{name: "account", same: has && o.Account == b.Account, enc: str(b.Account)},
		{name: "region", same: has && o.Region == b.Region, enc: str(b.Region)},
		{name: "encryption", same: has && same(o.Encryption, b.Encryption), enc: func(ind string) []byte {
			if b.Encryption == nil {
				return []byte("null")
			}
			return w.encryption(b.Encryption, ind)
		}},
		{name: "object_ownership", same: has && o.ObjectOwnership == b.ObjectOwnership, enc: nullableStr(b.ObjectOwnership)},
		{name: "policy", same: has && o.Policy.Equal(b.Policy), enc: doc(b.Policy)},
	})
}

func (w *writer) encryption(e *state.Encryption, ind string) []byte {
	src := e.Source
	o, err := (&reader{}).encryption("", src)
	if src == nil || err != nil {
		src, o = nil, &state.Encryption{}
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "sse_algorithm", same: has && o.SSEAlgorithm == e.SSEAlgorithm, enc: str(e.SSEAlgorithm)},
		{name: "kms_master_key_id", same: has && o.KMSMasterKeyID == e.KMSMasterKeyID, omit: e.KMSMasterKeyID == "", enc: nullableStr(e.KMSMasterKeyID)},
		{name: "bucket_key_enabled", same: has && o.BucketKeyEnabled == e.BucketKeyEnabled, enc: boolean(e.BucketKeyEnabled)},
	})
}

func (w *writer) key(k *state.Key, ind string) []byte {
	src := k.Source
	o, err := (&reader{}).key("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "arn", same: has && o.ARN == k.ARN, enc: str(k.ARN)},
		{name: "key_manager", same: has && o.KeyManager == k.KeyManager, enc: str(k.KeyManager)},
		{name: "key_state", same: has && o.KeyState == k.KeyState, enc: str(k.KeyState)},
		{name: "aliases", same: has && same(o.Aliases, k.Aliases), enc: w.strings(memberValue(src, "aliases"), k.Aliases)},
		{name: "region", same: has && o.Region == k.Region, omit: k.Region == "" || k.Region == state.RegionOf(k.ARN), enc: nullableStr(k.Region)},
		{name: "multi_region", same: has && o.MultiRegion == k.MultiRegion, omit: !k.MultiRegion, enc: boolean(k.MultiRegion)},
		{name: "policy", same: has && o.Policy.Equal(k.Policy), enc: doc(k.Policy)},
		{name: "grants", same: has && same(o.Grants, k.Grants) && (o.Grants == nil) == (k.Grants == nil), omit: k.Grants == nil, enc: func(ind string) []byte {
			if k.Grants == nil {
				return []byte("null")
			}
			return w.array(memberValue(src, "grants"), ind, len(k.Grants), func(i int, ind string) []byte { return w.grant(&k.Grants[i], ind) })
		}},
	})
}

func (w *writer) strings(src []byte, list []string) func(string) []byte {
	return func(ind string) []byte {
		if src == nil && len(list) <= 4 {
			// Short lists on one line, as the examples write aliases.
			out := []byte("[")
			for i, s := range list {
				if i > 0 {
					out = append(out, ", "...)
				}
				out = append(out, quote(s)...)
			}
			return append(out, ']')
		}
		return w.array(src, ind, len(list), func(i int, _ string) []byte { return quote(list[i]) })
	}
}

func (w *writer) principal(p *state.Principal, ind string) []byte {
	src := p.Source
	o, err := (&reader{}).principal("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "arn", same: has && o.ARN == p.ARN, enc: str(p.ARN)},
		{name: "id", same: has && o.ID == p.ID, enc: str(p.ID)},
		{name: "kind", same: has && o.Kind == p.Kind, omit: p.Kind == state.KindOf(p.ARN), enc: nullableStr(p.Kind)},
		{name: "inline_policies", same: has && same(o.InlinePolicies, p.InlinePolicies), enc: w.inline(memberValue(src, "inline_policies"), p.InlinePolicies)},
		{name: "attached_policies", same: has && same(o.AttachedPolicies, p.AttachedPolicies), enc: w.attached(memberValue(src, "attached_policies"), p.AttachedPolicies)},
		{name: "groups", same: has && same(o.Groups, p.Groups), omit: p.Kind == state.KindRole && len(p.Groups) == 0, enc: func(ind string) []byte {
			return w.array(memberValue(src, "groups"), ind, len(p.Groups), func(i int, ind string) []byte { return w.group(&p.Groups[i], ind) })
		}},
		{name: "permissions_boundary", same: has && same(o.PermissionsBoundary, p.PermissionsBoundary), enc: func(ind string) []byte {
			if p.PermissionsBoundary == nil {
				return []byte("null")
			}
			return w.managed(p.PermissionsBoundary, ind)
		}},
		{name: "tags", same: has && same(o.Tags, p.Tags) && (o.Tags == nil) == (p.Tags == nil), omit: p.Tags == nil, enc: w.tags(p.Tags)},
	})
}

func (w *writer) group(g *state.Group, ind string) []byte {
	src := g.Source
	o, err := (&reader{}).group("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "name", same: has && o.Name == g.Name, enc: str(g.Name)},
		{name: "inline_policies", same: has && same(o.InlinePolicies, g.InlinePolicies), enc: w.inline(memberValue(src, "inline_policies"), g.InlinePolicies)},
		{name: "attached_policies", same: has && same(o.AttachedPolicies, g.AttachedPolicies), enc: w.attached(memberValue(src, "attached_policies"), g.AttachedPolicies)},
	})
}

func (w *writer) inline(src []byte, list []state.NamedDoc) func(string) []byte {
	return func(ind string) []byte {
		var orig []state.NamedDoc
		if src != nil {
			o, err := (&reader{}).inline("", src)
			if err != nil || kindOf(src) != "object" {
				src = nil
			}
			orig = o
		}
		// Splice when the policies still there keep their order and the new
		// ones follow them; otherwise (or when none is left) write afresh.
		var drop []string
		if src != nil {
			kept := map[string]bool{}
			for _, nd := range list {
				kept[nd.Name] = true
			}
			var stay []string
			for _, o := range orig {
				if kept[o.Name] {
					stay = append(stay, o.Name)
				} else {
					drop = append(drop, o.Name)
				}
			}
			origNames := map[string]bool{}
			for _, o := range orig {
				origNames[o.Name] = true
			}
			ok := len(stay) > 0 || len(drop) == 0
			for i, nd := range list {
				if i < len(stay) && nd.Name != stay[i] || i >= len(stay) && origNames[nd.Name] {
					ok = false
				}
			}
			if !ok {
				src, drop = nil, nil
			}
		}
		origDoc := map[string]*state.Doc{}
		for _, o := range orig {
			origDoc[o.Name] = o.Doc
		}
		fields := make([]field, len(list))
		for i, nd := range list {
			f := field{name: nd.Name, enc: doc(nd.Doc)}
			if d, ok := origDoc[nd.Name]; ok && src != nil {
				f.same = d.Equal(nd.Doc)
			}
			fields[i] = f
		}
		return w.object(src, ind, fields, drop...)
	}
}

func (w *writer) attached(src []byte, list []state.ManagedPolicy) func(string) []byte {
	return func(ind string) []byte {
		return w.array(src, ind, len(list), func(i int, ind string) []byte { return w.managed(&list[i], ind) })
	}
}

func (w *writer) managed(mp *state.ManagedPolicy, ind string) []byte {
	src := mp.Source
	o, err := (&reader{}).managed("", src)
	if src == nil || err != nil {
		src = nil
	}
	has := src != nil
	return w.object(src, ind, []field{
		{name: "arn", same: has && o.ARN == mp.ARN, enc: str(mp.ARN)},
		{name: "document", same: has && o.Document.Equal(mp.Document), enc: doc(mp.Document)},
		{name: "version_id", same: has && o.VersionID == mp.VersionID, omit: mp.VersionID == "", enc: nullableStr(mp.VersionID)},
	})
}
