package sar

import (
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// The generated table names keys as AWS's Service Authorization Reference
// does, with a variable part for families: "s3:ExistingObjectTag/<key>",
// "aws:RequestTag/${TagKey}", "kms:EncryptionContext:${EncryptionContextKey}",
// and in iam-data's global list "aws:PrincipalTag/tag-key". A policy names a
// member of the family ("s3:ExistingObjectTag/team"). Condition key names are
// case-insensitive (IAM User Guide, "IAM JSON policy elements: Condition").

type index struct {
	actions map[string]*actionEntry // "s3:getobject"
	svc     map[string]*Service     // "s3"
	svcKeys map[string][]keyPattern // "s3" -> its keys
	// exactGlobal and exactSvc hold the exact names by lower case, and
	// globalFams and svcFams the families: a lookup is a map probe and a
	// scan of the few families, not of every name (the planner asks for
	// every key of every request it makes).
	exactGlobal, exactSvc map[string]keyPattern
	globalFams            []keyPattern
	svcFams               map[string][]keyPattern
	global                []keyPattern
}

type actionEntry struct {
	svc    *Service
	action *Action
	keys   []string // ActionKeys, computed once
}

// keyPattern is one catalogued key name: an exact name, or a family prefix.
type keyPattern struct {
	name   string // as catalogued
	prefix string // lower case; the whole name for an exact key
	family bool
	typ    string
}

func (p keyPattern) matches(lower string) bool {
	if p.family {
		return len(lower) > len(p.prefix) && strings.HasPrefix(lower, p.prefix)
	}
	return lower == p.prefix
}

func newPattern(name, typ string, global bool) keyPattern {
	lower := strings.ToLower(name)
	cut := -1
	for _, marker := range []string{"${", "<"} {
		if i := strings.Index(lower, marker); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	// iam-data's global list writes the variable part of a family as a plain
	// word after the slash ("aws:PrincipalTag/tag-key"); it treats every
	// global name with a slash as a family, and so does this.
	if cut < 0 && global {
		if i := strings.IndexByte(lower, '/'); i >= 0 {
			cut = i + 1
		}
	}
	if cut < 0 {
		return keyPattern{name: name, prefix: lower, typ: typ}
	}
	return keyPattern{name: name, prefix: lower[:cut], family: true, typ: typ}
}

var idx = buildIndex()

func buildIndex() *index {
	ix := &index{actions: map[string]*actionEntry{}, svc: map[string]*Service{}, svcKeys: map[string][]keyPattern{}}
	for i := range services {
		s := &services[i]
		ix.svc[s.Prefix] = s
		for _, k := range s.ConditionKeys {
			ix.svcKeys[s.Prefix] = append(ix.svcKeys[s.Prefix], newPattern(k.Name, k.Type, false))
		}
		types := map[string]*ResourceType{}
		for j := range s.ResourceTypes {
			types[s.ResourceTypes[j].Name] = &s.ResourceTypes[j]
		}
		for j := range s.Actions {
			a := &s.Actions[j]
			ix.actions[s.Prefix+":"+strings.ToLower(a.Name)] = &actionEntry{svc: s, action: a, keys: actionKeys(a, types)}
		}
	}
	for _, k := range globalKeys {
		ix.global = append(ix.global, newPattern(k.Name, k.Type, true))
	}
	ix.exactGlobal, ix.exactSvc, ix.svcFams = map[string]keyPattern{}, map[string]keyPattern{}, map[string][]keyPattern{}
	split := func(ps []keyPattern, exact map[string]keyPattern) (fams []keyPattern) {
		for _, p := range ps {
			if p.family {
				fams = append(fams, p)
			} else if _, dup := exact[p.prefix]; !dup {
				exact[p.prefix] = p // the first, as lookup's scan finds it
			}
		}
		return fams
	}
	ix.globalFams = split(ix.global, ix.exactGlobal)
	for svc, ps := range ix.svcKeys {
		ix.svcFams[svc] = split(ps, ix.exactSvc)
	}
	return ix
}

// actionKeys is every key a request for the action can carry: the keys on the
// action's own row, on the rows of the resource types it names, and the keys
// the resource types table lists for those resource types (KMS's
// kms:ResourceAliases and aws:ResourceTag/* apply to Decrypt through the key
// resource type, not through Decrypt's row).
func actionKeys(a *Action, types map[string]*ResourceType) []string {
	seen := map[string]bool{}
	var out []string
	add := func(list []string) {
		for _, k := range list {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	add(a.Keys)
	for _, r := range a.Resources {
		add(r.Keys)
		if t, ok := types[r.Name]; ok {
			add(t.Keys)
		}
	}
	sort.Strings(out)
	return out
}

// LookupAction returns the catalogue's row for an action named
// "service:Action" (any case).
func LookupAction(action string) (Action, bool) {
	e, ok := idx.actions[strings.ToLower(action)]
	if !ok {
		return Action{}, false
	}
	return *e.action, true
}

// ActionKeys returns the condition keys, as the catalogue names them, that a
// request for the action can carry (nil for an action not in the table). A
// service key or tag key missing here is absent from that request. Global
// keys other than the tag keys are not listed per action by AWS: Origin says
// where those come from.
func ActionKeys(action string) []string {
	e, ok := idx.actions[strings.ToLower(action)]
	if !ok {
		return nil
	}
	return append([]string(nil), e.keys...)
}

// Carries reports whether a request for the action can carry key (a name
// or a member of a family, any case) according to the action's catalogue
// entry.
func Carries(action, key string) bool {
	e, ok := idx.actions[strings.ToLower(action)]
	if !ok {
		return false
	}
	lower := strings.ToLower(key)
	for _, k := range e.keys {
		if newPattern(k, "", false).matches(lower) {
			return true
		}
	}
	return false
}

// KeyType returns the value type the catalogue gives a key (String, ARN,
// Bool, Numeric, Date, ArrayOfString, IPAddress, ...) and the catalogued name
// it matched, looking at S3's and KMS's keys and at the global keys.
func KeyType(key string) (typ, catalogued string, ok bool) {
	lower := strings.ToLower(key)
	if p, ok := idx.exactGlobal[lower]; ok {
		return p.typ, p.name, true
	}
	if p, ok := lookup(idx.globalFams, lower); ok {
		return p.typ, p.name, true
	}
	if p, ok := idx.exactSvc[lower]; ok {
		return p.typ, p.name, true
	}
	if i := strings.IndexByte(lower, ':'); i > 0 {
		if p, ok := lookup(idx.svcFams[lower[:i]], lower); ok {
			return p.typ, p.name, true
		}
	}
	// A service may list a global tag key (aws:RequestTag/${TagKey}) among
	// its own keys; the global list already answered for those.
	return "", "", false
}

// Spelling returns key as AWS's catalogue spells it (aws:SourceIp for
// aws:sourceip; for a family, the catalogued prefix and the rest of key as
// given: aws:PrincipalTag/team), or key unchanged when the catalogue does
// not know it. Names are case-insensitive, so this is for people reading a
// plan, never for matching.
func Spelling(key string) string {
	// A plan spells every key of every request it names, and the keys are
	// few: each is worked out once.
	if v, ok := spellings.Load(key); ok {
		return v.(string)
	}
	s := spelling(key)
	if spellingCount.Add(1) > maxSpellings {
		spellings.Clear()
		spellingCount.Store(1)
	}
	spellings.Store(key, s)
	return s
}

// spellings memoises Spelling, up to maxSpellings keys (policies may name
// any number of tag keys; past the bound the memo starts again).
var (
	spellings     sync.Map // key → spelling
	spellingCount atomic.Int64
)

const maxSpellings = 4096

func spelling(key string) string {
	_, name, ok := KeyType(key)
	if !ok {
		return key
	}
	p := newPattern(name, "", false)
	if !p.family {
		if i := strings.IndexByte(name, '/'); i >= 0 && strings.Contains(name, ":") && len(key) > i {
			// A global family written as a plain word (aws:PrincipalTag/tag-key).
			return name[:i+1] + key[i+1:]
		}
		return name
	}
	return name[:len(p.prefix)] + key[len(p.prefix):]
}

// lookup finds the pattern a key matches, preferring an exact name over a
// family.
func lookup(ps []keyPattern, lower string) (keyPattern, bool) {
	var best keyPattern
	found := false
	for _, p := range ps {
		if !p.matches(lower) {
			continue
		}
		if !p.family {
			return p, true
		}
		if !found || len(p.prefix) > len(best.prefix) {
			best, found = p, true
		}
	}
	return best, found
}

// isGlobal reports whether key is one of the global keys.
func isGlobal(lower string) bool {
	if _, ok := idx.exactGlobal[lower]; ok {
		return true
	}
	_, ok := lookup(idx.globalFams, lower)
	return ok
}

// sarGoverned are the global keys that AWS lists per action in the Service
// Authorization Reference: for these the action's catalogue entry decides
// whether the request carries them, as for a service's own keys.
var sarGoverned = []keyPattern{
	newPattern("aws:RequestTag/${TagKey}", "", false),
	newPattern("aws:ResourceTag/${TagKey}", "", false),
	newPattern("aws:TagKeys", "", false),
}

func isSARGoverned(lower string) bool {
	_, ok := lookup(sarGoverned, lower)
	return ok
}
