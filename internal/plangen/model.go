package plangen

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// Prin is a Principal or NotPrincipal value.
type Prin struct {
	Star    bool // "*"
	AWS     []string
	Service []string
}

// Cond is one condition: an operator (with its set qualifier and IfExists,
// as written), a key and its values.
type Cond struct {
	Op     string
	Key    string
	Values []string
}

// Stmt is one statement. Exactly one of Principal/NotPrincipal is set in
// resource policies, neither in identity policies.
type Stmt struct {
	Sid          string
	Effect       string
	Principal    *Prin
	NotPrincipal *Prin
	Action       []string
	NotAction    bool // Action holds NotAction's values
	Resource     []string
	NotResource  bool // Resource holds NotResource's values
	Cond         []Cond
}

// Doc is a policy document (always Version 2012-10-17, so policy variables
// are substituted: the oracle substitutes them in every version).
type Doc struct {
	ID    string
	Stmts []Stmt
}

// Named is a document with the name (inline policy) or ARN (managed policy)
// it is stored under.
type Named struct {
	Name string
	Doc  Doc
}

// Scenario is one generated state and the grant to plan on it.
type Scenario struct {
	Seed  int64
	Index int
	// Tags name the rule families the scenario exercises (for the suite's
	// coverage figures).
	Tags []string

	Kind          string // "user", "role" or "session" (a session of the role)
	UserPath      string // "" or a path such as "team/" for the user
	BucketAccount string
	KeyAccount    string
	SSE           string // aws:kms or aws:kms:dsse
	KeyRef        string // how the bucket names its key: "arn", "id" or "alias"
	BucketKeys    bool
	Ownership     string
	KeyManager    string
	KeyState      string

	BucketPolicy *Doc // nil: the bucket has no policy
	KeyPolicy    Doc
	Inline       []Named // the principal's inline policies
	Managed      []Named // attached managed policies (Name is the ARN)
	Group        []Named // inline policies of the principal's group "devs"
	Boundary     *Named  // permissions boundary (Name is the ARN)

	// Org, when set, puts every account into an organization whose SCPs
	// and RCPs were read (org.go); nil: not read.
	Org *Org
	// Grants are the key's KMS grants (nil: not read); PrincipalTags the
	// principal's IAM tags (nil: not read).
	Grants        []Grant
	PrincipalTags []Tag

	Access        []diff.Level // nil: the default levels
	Prefix        string
	KMSVia        string
	KMSThroughS3  bool
	RemoveOrphans bool
}

// PrincipalARN is the user or role the grant names.
func (s *Scenario) PrincipalARN() string {
	if s.Kind == "user" {
		return iam(AccountP, "user/"+s.UserPath+"Jane")
	}
	return iam(AccountP, "role/Reader")
}

// PrincipalID is the user's or role's unique ID.
func (s *Scenario) PrincipalID() string {
	if s.Kind == "user" {
		return JaneID
	}
	return ReaderID
}

// Argument is what --principal says.
func (s *Scenario) Argument() string {
	if s.Kind == "session" {
		return SessionARN(SessionName)
	}
	return s.PrincipalARN()
}

// SessionARN is a session of the role Reader.
func SessionARN(name string) string {
	return "arn:aws:sts::" + AccountP + ":assumed-role/Reader/" + name
}

// CallerARN is who makes the requests: the user, the session asked for, or
// for a role any session (the planner's and the trust check's name for it).
func (s *Scenario) CallerARN() string {
	switch s.Kind {
	case "user":
		return s.PrincipalARN()
	case "session":
		return SessionARN(SessionName)
	}
	return SessionARN("bucketgrant")
}

// sessionName is the session of CallerARN for roles.
func (s *Scenario) sessionName() string {
	if s.Kind == "session" {
		return SessionName
	}
	return "bucketgrant"
}

// KeyARNOf is the bucket's key.
func (s *Scenario) KeyARNOf() string { return KeyARN(s.KeyAccount) }

// Cross reports whether the bucket is in another account than the
// principal.
func (s *Scenario) Cross() bool { return s.BucketAccount != AccountP }

// Grant names the grant as diff.SidsOf takes it.
func (s *Scenario) Grant() diff.GrantID {
	return diff.GrantID{Principal: s.PrincipalARN(), Bucket: Bucket, Prefix: s.Prefix}
}

// Options are the planner's options for the scenario.
func (s *Scenario) Options() diff.Options {
	now, _ := time.Parse(time.RFC3339, Now)
	return diff.Options{
		Principal: s.Argument(), Bucket: Bucket, Access: slices.Clone(s.Access), Prefix: s.Prefix,
		KMSVia: s.KMSVia, KMSThroughS3: s.KMSThroughS3, RemoveOrphanedPrincipals: s.RemoveOrphans, Now: now,
	}
}

// Levels are the access levels the grant covers (the planner's defaults
// when none are asked for).
func (s *Scenario) Levels() []diff.Level {
	levels := s.Access
	if len(levels) == 0 {
		levels = diff.DefaultLevels(s.Cross(), s.Ownership)
	}
	if s.Ownership == "BucketOwnerEnforced" {
		levels = slices.DeleteFunc(slices.Clone(levels), func(l diff.Level) bool { return l == diff.ACL })
	}
	return levels
}

// State builds the snapshot state of the scenario.
func (s *Scenario) State() *state.State {
	keyID := s.KeyARNOf()
	switch s.KeyRef {
	case "id":
		keyID = keyID[strings.LastIndexByte(keyID, '/')+1:]
	case "alias":
		keyID = Alias
	}
	b := state.Bucket{Name: Bucket, Account: s.BucketAccount, Region: Region, ObjectOwnership: s.Ownership,
		Encryption: &state.Encryption{SSEAlgorithm: s.SSE, KMSMasterKeyID: keyID, BucketKeyEnabled: s.BucketKeys}}
	if s.BucketPolicy != nil {
		b.Policy = state.NewDoc(s.BucketPolicy.JSON())
	}
	k := state.Key{ARN: s.KeyARNOf(), KeyManager: s.KeyManager, KeyState: s.KeyState, Region: Region,
		Aliases: []string{Alias}, Policy: state.NewDoc(s.KeyPolicy.JSON())}
	pr := state.Principal{ARN: s.PrincipalARN(), ID: s.PrincipalID(), Kind: s.Kind}
	if s.Kind != "user" {
		pr.Kind = state.KindRole
	}
	for _, n := range s.Inline {
		pr.InlinePolicies = append(pr.InlinePolicies, state.NamedDoc{Name: n.Name, Doc: state.NewDoc(n.Doc.JSON())})
	}
	for _, n := range s.Managed {
		pr.AttachedPolicies = append(pr.AttachedPolicies, state.ManagedPolicy{ARN: n.Name, Document: state.NewDoc(n.Doc.JSON())})
	}
	if len(s.Group) > 0 && s.Kind == "user" {
		g := state.Group{Name: "devs"}
		for _, n := range s.Group {
			g.InlinePolicies = append(g.InlinePolicies, state.NamedDoc{Name: n.Name, Doc: state.NewDoc(n.Doc.JSON())})
		}
		pr.Groups = []state.Group{g}
	}
	if s.Boundary != nil {
		pr.PermissionsBoundary = &state.ManagedPolicy{ARN: s.Boundary.Name, Document: state.NewDoc(s.Boundary.Doc.JSON())}
	}
	pr.Tags = s.tagsState()
	k.Grants = s.grantsState()
	st := &state.State{Buckets: []state.Bucket{b}, Keys: []state.Key{k}, Principals: []state.Principal{pr}}
	if s.Org != nil {
		st.Org = s.orgState()
	}
	return st
}

// Docs lists every document of the scenario (for scans and shrinking).
func (s *Scenario) Docs() []*Doc {
	var out []*Doc
	if s.BucketPolicy != nil {
		out = append(out, s.BucketPolicy)
	}
	out = append(out, &s.KeyPolicy)
	for i := range s.Inline {
		out = append(out, &s.Inline[i].Doc)
	}
	for i := range s.Managed {
		out = append(out, &s.Managed[i].Doc)
	}
	for i := range s.Group {
		out = append(out, &s.Group[i].Doc)
	}
	if s.Boundary != nil {
		out = append(out, &s.Boundary.Doc)
	}
	if s.Org != nil {
		for i := range s.Org.Policies {
			out = append(out, &s.Org.Policies[i].Doc)
		}
	}
	return out
}

// Clone returns a deep copy.
func (s *Scenario) Clone() Scenario {
	c := *s
	c.Tags = slices.Clone(s.Tags)
	c.Access = slices.Clone(s.Access)
	if s.BucketPolicy != nil {
		d := s.BucketPolicy.clone()
		c.BucketPolicy = &d
	}
	c.KeyPolicy = s.KeyPolicy.clone()
	cloneNamed := func(ns []Named) []Named {
		if ns == nil {
			return nil
		}
		out := make([]Named, len(ns))
		for i, n := range ns {
			out[i] = Named{Name: n.Name, Doc: n.Doc.clone()}
		}
		return out
	}
	c.Inline, c.Managed, c.Group = cloneNamed(s.Inline), cloneNamed(s.Managed), cloneNamed(s.Group)
	if s.Boundary != nil {
		b := Named{Name: s.Boundary.Name, Doc: s.Boundary.Doc.clone()}
		c.Boundary = &b
	}
	if s.Org != nil {
		o := Org{Management: s.Org.Management}
		for _, p := range s.Org.Policies {
			o.Policies = append(o.Policies, OrgPol{Type: p.Type, Target: p.Target, Replace: p.Replace, Doc: p.Doc.clone()})
		}
		c.Org = &o
	}
	if s.Grants != nil {
		c.Grants = make([]Grant, len(s.Grants))
		for i, g := range s.Grants {
			c.Grants[i] = Grant{ID: g.ID, Grantee: g.Grantee, Ops: slices.Clone(g.Ops), Subset: maps.Clone(g.Subset), Equals: maps.Clone(g.Equals)}
		}
	}
	c.PrincipalTags = slices.Clone(s.PrincipalTags)
	return c
}

func (d Doc) clone() Doc {
	out := Doc{ID: d.ID, Stmts: make([]Stmt, len(d.Stmts))}
	for i, st := range d.Stmts {
		out.Stmts[i] = st.clone()
	}
	return out
}

func (p *Prin) clone() *Prin {
	if p == nil {
		return nil
	}
	return &Prin{Star: p.Star, AWS: slices.Clone(p.AWS), Service: slices.Clone(p.Service)}
}

func (st Stmt) clone() Stmt {
	c := st
	c.Principal, c.NotPrincipal = st.Principal.clone(), st.NotPrincipal.clone()
	c.Action, c.Resource = slices.Clone(st.Action), slices.Clone(st.Resource)
	c.Cond = make([]Cond, len(st.Cond))
	for i, cd := range st.Cond {
		c.Cond[i] = Cond{Op: cd.Op, Key: cd.Key, Values: slices.Clone(cd.Values)}
	}
	if len(st.Cond) == 0 {
		c.Cond = nil
	}
	return c
}

// JSON renders the document the way AWS stores it (compact, members in
// AWS's order).
func (d Doc) JSON() string {
	var b bytes.Buffer
	b.WriteString(`{"Version":"2012-10-17",`)
	if d.ID != "" {
		b.WriteString(`"Id":` + quote(d.ID) + `,`)
	}
	b.WriteString(`"Statement":[`)
	for i, st := range d.Stmts {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(st.JSON())
	}
	b.WriteString(`]}`)
	return b.String()
}

// JSON renders one statement.
func (st Stmt) JSON() string {
	var b bytes.Buffer
	b.WriteByte('{')
	if st.Sid != "" {
		b.WriteString(`"Sid":` + quote(st.Sid) + `,`)
	}
	b.WriteString(`"Effect":` + quote(st.Effect))
	if st.Principal != nil {
		b.WriteString(`,"Principal":` + st.Principal.JSON())
	}
	if st.NotPrincipal != nil {
		b.WriteString(`,"NotPrincipal":` + st.NotPrincipal.JSON())
	}
	if st.NotAction {
		b.WriteString(`,"NotAction":` + list(st.Action))
	} else {
		b.WriteString(`,"Action":` + list(st.Action))
	}
	if st.NotResource {
		b.WriteString(`,"NotResource":` + list(st.Resource))
	} else {
		b.WriteString(`,"Resource":` + list(st.Resource))
	}
	if len(st.Cond) > 0 {
		byOp := map[string]map[string]json.RawMessage{}
		for _, c := range st.Cond {
			if byOp[c.Op] == nil {
				byOp[c.Op] = map[string]json.RawMessage{}
			}
			byOp[c.Op][c.Key] = json.RawMessage(list(c.Values))
		}
		raw, _ := json.Marshal(byOp) // plain data: sorted keys
		b.WriteString(`,"Condition":`)
		b.Write(raw)
	}
	b.WriteByte('}')
	return b.String()
}

// JSON renders a Principal value.
func (p *Prin) JSON() string {
	if p.Star {
		return `"*"`
	}
	var parts []string
	if len(p.AWS) > 0 {
		parts = append(parts, `"AWS":`+list(p.AWS))
	}
	if len(p.Service) > 0 {
		parts = append(parts, `"Service":`+list(p.Service))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// list renders one value as a string and several as an array.
func list(vs []string) string {
	if len(vs) == 1 {
		return quote(vs[0])
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = quote(v)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// ConditionKeys lists every condition key the scenario's documents test
// (as first spelt), sorted.
func (s *Scenario) ConditionKeys() []string {
	seen := map[string]string{}
	for _, d := range s.Docs() {
		for _, st := range d.Stmts {
			for _, c := range st.Cond {
				if _, ok := seen[strings.ToLower(c.Key)]; !ok {
					seen[strings.ToLower(c.Key)] = c.Key
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for _, k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// conditionsOn collects the conditions on key (case-insensitively).
func (s *Scenario) conditionsOn(key string) []Cond {
	var out []Cond
	for _, d := range s.Docs() {
		for _, st := range d.Stmts {
			for _, c := range st.Cond {
				if strings.EqualFold(c.Key, key) {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// NamedPrincipals lists the principals (users, roles and sessions) the
// documents name, other than the grant's: the suite probes each.
func (s *Scenario) NamedPrincipals() []string {
	var out []string
	add := func(p *Prin) {
		if p == nil {
			return
		}
		for _, v := range p.AWS {
			if strings.HasPrefix(v, "arn:") && !strings.HasSuffix(v, ":root") && v != s.PrincipalARN() && v != s.Argument() && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	for _, d := range s.Docs() {
		for _, st := range d.Stmts {
			add(st.Principal)
			add(st.NotPrincipal)
		}
	}
	sort.Strings(out)
	return out
}

// Objects lists the object keys (relative to the bucket) the suite probes.
func (s *Scenario) Objects() []string { return slices.Clone(objectKeys) }

// GrantObjects lists the probed object keys under the grant's prefix.
func (s *Scenario) GrantObjects() []string {
	var out []string
	for _, k := range objectKeys {
		if strings.HasPrefix(k, s.Prefix) {
			out = append(out, k)
		}
	}
	if s.Prefix != "" {
		out = append(out, s.Prefix+"x", s.Prefix+"d/e.txt", s.Prefix+"bucketgrant-probe/any-object")
	}
	return out
}

func (s *Scenario) tag(t string) {
	if !slices.Contains(s.Tags, t) {
		s.Tags = append(s.Tags, t)
	}
}
