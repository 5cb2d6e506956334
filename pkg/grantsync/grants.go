package grantsync

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bucketgrant/bucketgrant/pkg/diff"
	"github.com/bucketgrant/bucketgrant/pkg/state"
)

// FileVersion is the grants file's schema version (schema/grants.schema.json).
const FileVersion = 1

// File is a parsed grants file.
type File struct {
	Name        string
	Defaults    Defaults
	Credentials Credentials
	// Buckets holds what the file says about buckets: their account.
	Buckets map[string]BucketInfo
	Grants  []Grant
}

// Defaults apply to every grant that does not say otherwise.
type Defaults struct {
	Access []diff.Level // nil: the planner's default for the grant
	KMSVia string
}

// Credentials say how to reach each account: a profile, a role to assume,
// or both (the role assumed with the profile's credentials). Default
// applies to accounts not listed.
type Credentials struct {
	Default  Account
	Accounts map[string]Account
	// Org, when set, reads the organization's SCPs and RCPs (org.go): a
	// profile or role of the management account or a delegated
	// administrator.
	Org *Account
}

// Account is one account's credentials. Role may hold the {account}
// placeholder (only useful in Default).
type Account struct {
	Profile string
	Role    string
	Line    int
}

// For returns the credentials for an account, with {account} filled in.
func (c Credentials) For(account string) Account {
	a, ok := c.Accounts[account]
	if !ok {
		a = c.Default
	}
	a.Role = strings.ReplaceAll(a.Role, "{account}", account)
	return a
}

// BucketInfo is what the file says about one bucket.
type BucketInfo struct {
	Account string
	Line    int
}

// Grant is one entry of the grants list.
type Grant struct {
	Principal string
	Bucket    string
	Access    []diff.Level // nil: the planner's default
	Prefix    string
	KMSVia    string
	// DropOldKeys: stop granting the keys the bucket used before its key
	// now (drop_old_keys; diff.Options.DropOldKeys).
	DropOldKeys bool
	// Line is where the grant starts in the file, for messages.
	Line int
}

// Key identifies a grant: one principal, bucket and prefix get one set of
// statements (their Sids are derived from exactly these), so two entries
// with the same key would fight over them.
func (g Grant) Key() string { return g.Principal + "|" + g.Bucket + "|" + g.Prefix }

// String names the grant for people.
func (g Grant) String() string {
	s := g.Principal + " on " + g.Bucket
	if g.Prefix != "" {
		s += "/" + g.Prefix
	}
	return s
}

// BucketAccount is the account the grant's bucket belongs to: as the file
// declares it under buckets, else the principal's own account.
func (f *File) BucketAccount(g Grant) string {
	if b, ok := f.Buckets[g.Bucket]; ok && b.Account != "" {
		return b.Account
	}
	return state.AccountOf(g.Principal)
}

// Options returns the planner's options for a grant.
func (f *File) Options(g Grant, toolVersion string) diff.Options {
	return diff.Options{Principal: g.Principal, Bucket: g.Bucket, Access: g.Access, Prefix: g.Prefix, KMSVia: g.KMSVia, DropOldKeys: g.DropOldKeys, ToolVersion: toolVersion}
}

// LoadFile reads and parses a grants file.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the grants file: %w", err)
	}
	return Parse(path, data)
}

// ParseError is a problem at a line of the grants file.
type ParseError struct {
	File string
	Line int
	Path string // where in the document, e.g. grants[2].access
	Msg  string
}

func (e *ParseError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Path != "" {
		return loc + ": " + e.Path + ": " + e.Msg
	}
	return loc + ": " + e.Msg
}

// parser walks the YAML node tree. yaml.v3's nodes keep the line of every
// key and value, so every error points at the line to fix; decoding into
// structs directly would lose the line of a wrong value and accept unknown
// fields silently.
type parser struct {
	file string
	errs []error
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &ParseError{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Parse parses a grants file's content. It reports every problem it finds
// (errors.Join of *ParseError), not just the first.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{file: name}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ParseError{File: name, Msg: "the file is empty; it needs at least `version: 1` and `grants:`"}
		}
		return nil, fmt.Errorf("%s: not valid YAML: %w", name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	f := &File{Name: name, Buckets: map[string]BucketInfo{}, Credentials: Credentials{Accounts: map[string]Account{}}}
	if root.Kind != yaml.MappingNode {
		return nil, &ParseError{File: name, Line: root.Line, Msg: "the file must be a mapping with version, grants and optionally defaults, credentials, buckets"}
	}
	seen := map[string]bool{}
	var grantsNode *yaml.Node
	p.fields(root, "", func(key string, k, v *yaml.Node) {
		seen[key] = true
		switch key {
		case "version":
			if n, ok := p.integer(v, "version"); ok && n != FileVersion {
				p.errorf(v, "version", "version %d is not supported; this bucketgrant reads version %d", n, FileVersion)
			}
		case "defaults":
			p.defaults(v, f)
		case "credentials":
			p.credentials(v, f)
		case "buckets":
			p.buckets(v, f)
		case "grants":
			grantsNode = v
		default:
			p.errorf(k, "", "unknown field %q (expected version, defaults, credentials, buckets, grants)", key)
		}
	})
	if !seen["version"] {
		p.errorf(root, "", "missing field version (write `version: 1`)")
	}
	if grantsNode == nil {
		p.errorf(root, "", "missing field grants (a list of {principal, bucket, access})")
	} else {
		p.grants(grantsNode, f)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return f, nil
}

// fields calls fn for each key of a mapping, refusing duplicate keys.
func (p *parser) fields(n *yaml.Node, path string, fn func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "expected a mapping, found %s", kindName(n))
		return
	}
	dup := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, ok := dup[k.Value]; ok {
			p.errorf(k, path, "field %q is given twice (first at line %d)", k.Value, line)
			continue
		}
		dup[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

func (p *parser) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, path, "expected a string, found %s", kindName(n))
		return "", false
	}
	// A bare number (an account ID, a bucket named 123) is taken as
	// written: the node keeps its text, leading zeros included. A boolean
	// or a float is almost certainly a mistake.
	if n.Tag != "!!str" && n.Tag != "!!int" {
		p.errorf(n, path, "expected a string, found %s %s (quote it if it is meant as text)", strings.TrimPrefix(n.Tag, "!!"), n.Value)
		return "", false
	}
	return n.Value, true
}

func (p *parser) boolean(n *yaml.Node, path string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		p.errorf(n, path, "expected true or false, found %s %s", kindName(n), n.Value)
		return false, false
	}
	v, err := strconv.ParseBool(n.Value)
	if err != nil {
		p.errorf(n, path, "expected true or false, found %q", n.Value)
		return false, false
	}
	return v, true
}

func (p *parser) integer(n *yaml.Node, path string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		p.errorf(n, path, "expected a number, found %s", kindName(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorf(n, path, "expected a number, found %q", n.Value)
		return 0, false
	}
	return v, true
}

// access parses "read,write" or [read, write].
func (p *parser) access(n *yaml.Node, path string) []diff.Level {
	var text string
	switch {
	case n.Kind == yaml.SequenceNode:
		var parts []string
		for i, e := range n.Content {
			s, ok := p.str(e, fmt.Sprintf("%s[%d]", path, i))
			if !ok {
				return nil
			}
			parts = append(parts, s)
		}
		text = strings.Join(parts, ",")
	case n.Kind == yaml.ScalarNode && n.Tag == "!!str":
		text = n.Value
	default:
		p.errorf(n, path, "expected a list of access levels (read, write, list, versions, acl), found %s", kindName(n))
		return nil
	}
	levels, err := diff.ParseLevels(text)
	if err != nil {
		p.errorf(n, path, "%v", err)
		return nil
	}
	return levels
}

func (p *parser) kmsVia(n *yaml.Node, path string) string {
	s, ok := p.str(n, path)
	if !ok {
		return ""
	}
	switch s {
	case diff.ViaAuto, diff.ViaKeyPolicy, diff.ViaIdentity:
		return s
	}
	p.errorf(n, path, "%q: use auto, key-policy or identity", s)
	return ""
}

func (p *parser) defaults(n *yaml.Node, f *File) {
	p.fields(n, "defaults", func(key string, k, v *yaml.Node) {
		switch key {
		case "access":
			f.Defaults.Access = p.access(v, "defaults.access")
		case "kms_via":
			f.Defaults.KMSVia = p.kmsVia(v, "defaults.kms_via")
		default:
			p.errorf(k, "defaults", "unknown field %q (expected access, kms_via)", key)
		}
	})
}

var accountRe = regexp.MustCompile(`^[0-9]{12}$`)

func (p *parser) account(n *yaml.Node, path string, allowTemplate bool) Account {
	a := Account{Line: n.Line}
	p.fields(n, path, func(key string, k, v *yaml.Node) {
		switch key {
		case "profile":
			a.Profile, _ = p.str(v, path+".profile")
		case "role":
			role, ok := p.str(v, path+".role")
			if !ok {
				return
			}
			probe := strings.ReplaceAll(role, "{account}", "111122223333")
			if probe != role && !allowTemplate {
				p.errorf(v, path+".role", "{account} is only filled in for credentials.default; write the account's own role ARN here")
				return
			}
			if a, err := state.ParseARN(probe); err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
				p.errorf(v, path+".role", "%q is not a role ARN (arn:aws:iam::{account}:role/bucketgrant)", role)
				return
			}
			a.Role = role
		default:
			p.errorf(k, path, "unknown field %q (expected profile, role)", key)
		}
	})
	return a
}

func (p *parser) credentials(n *yaml.Node, f *File) {
	p.fields(n, "credentials", func(key string, k, v *yaml.Node) {
		switch key {
		case "default":
			f.Credentials.Default = p.account(v, "credentials.default", true)
		case "accounts":
			p.fields(v, "credentials.accounts", func(id string, k, v *yaml.Node) {
				if !accountRe.MatchString(id) {
					p.errorf(k, "credentials.accounts", "%q is not an account ID (12 digits, quoted)", id)
					return
				}
				f.Credentials.Accounts[id] = p.account(v, "credentials.accounts."+id, false)
			})
		case "org":
			a := p.account(v, "credentials.org", false)
			f.Credentials.Org = &a
		default:
			p.errorf(k, "credentials", "unknown field %q (expected default, accounts, org)", key)
		}
	})
}

func (p *parser) buckets(n *yaml.Node, f *File) {
	p.fields(n, "buckets", func(name string, k, v *yaml.Node) {
		path := "buckets." + name
		if err := state.CheckBucketName(name); err != nil {
			p.errorf(k, "buckets", "%v", err)
			return
		}
		b := BucketInfo{Line: k.Line}
		p.fields(v, path, func(key string, k, v *yaml.Node) {
			switch key {
			case "account":
				if s, ok := p.str(v, path+".account"); ok {
					if !accountRe.MatchString(s) {
						p.errorf(v, path+".account", "%q is not an account ID (12 digits, quoted)", s)
						return
					}
					b.Account = s
				}
			default:
				p.errorf(k, path, "unknown field %q (expected account)", key)
			}
		})
		f.Buckets[name] = b
	})
}

func (p *parser) grants(n *yaml.Node, f *File) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "grants", "expected a list of grants, found %s", kindName(n))
		return
	}
	first := map[string]Grant{}
	for i, e := range n.Content {
		path := fmt.Sprintf("grants[%d]", i)
		g := Grant{Line: e.Line, Access: f.Defaults.Access, KMSVia: f.Defaults.KMSVia}
		ok := true
		p.fields(e, path, func(key string, k, v *yaml.Node) {
			switch key {
			case "principal":
				s, good := p.str(v, path+".principal")
				if good {
					if err := checkPrincipal(s); err != nil {
						p.errorf(v, path+".principal", "%v", err)
						good = false
					}
				}
				g.Principal, ok = s, ok && good
			case "bucket":
				s, good := p.str(v, path+".bucket")
				if good {
					if err := state.CheckBucketName(s); err != nil {
						p.errorf(v, path+".bucket", "%v", err)
						good = false
					}
				}
				g.Bucket, ok = s, ok && good
			case "access":
				g.Access = p.access(v, path+".access")
				ok = ok && g.Access != nil
			case "prefix":
				s, good := p.str(v, path+".prefix")
				if good && strings.ContainsAny(s, "*?$") {
					p.errorf(v, path+".prefix", "%q: a prefix is literal text; it must not contain *, ? or $", s)
					good = false
				}
				g.Prefix, ok = s, ok && good
			case "kms_via":
				g.KMSVia = p.kmsVia(v, path+".kms_via")
				ok = ok && g.KMSVia != ""
			case "drop_old_keys":
				b, good := p.boolean(v, path+".drop_old_keys")
				g.DropOldKeys, ok = b, ok && good
			default:
				p.errorf(k, path, "unknown field %q (expected principal, bucket, access, prefix, kms_via, drop_old_keys)", key)
				ok = false
			}
		})
		if e.Kind != yaml.MappingNode {
			continue
		}
		if g.Principal == "" && ok {
			p.errorf(e, path, "missing principal (an IAM user or role ARN)")
			ok = false
		}
		if g.Bucket == "" && ok {
			p.errorf(e, path, "missing bucket (a bucket name)")
			ok = false
		}
		if !ok {
			continue
		}
		// A principal is its account, type and name: IAM names are unique
		// in an account and the path is not part of who it is, so two
		// spellings of one user would write the same statements.
		key := identityKey(g.Principal) + "|" + g.Bucket + "|" + g.Prefix
		if prev, dup := first[key]; dup {
			if prev.Principal != g.Principal {
				p.errorf(e, path, "duplicate grant: %s on %s is already granted at line %d as %s (the same principal: a path is not part of its identity); merge the two entries into one", g.Principal, g.Bucket, prev.Line, prev.Principal)
			} else {
				p.errorf(e, path, "duplicate grant: %s is already granted at line %d; merge the two entries' access into one", g, prev.Line)
			}
			continue
		}
		first[key] = g
		f.Grants = append(f.Grants, g)
	}
}

// identityKey names a user or role by partition, account, type and name,
// without its path.
func identityKey(arn string) string {
	a, err := state.ParseARN(arn)
	if err != nil {
		return arn
	}
	return a.Partition + ":" + a.Account + ":" + state.KindOf(arn) + ":" + arn[strings.LastIndexByte(arn, '/')+1:]
}

// checkPrincipal accepts IAM user and role ARNs: grants name what a policy
// can name, and a session ARN changes with every session.
func checkPrincipal(s string) error {
	a, err := state.ParseARN(s)
	if err != nil || a.Service != "iam" {
		return fmt.Errorf("%q is not an IAM user or role ARN (arn:aws:iam::111122223333:user/Jane)", s)
	}
	if !accountRe.MatchString(a.Account) {
		return fmt.Errorf("%q: the account must be 12 digits", s)
	}
	kind := state.KindOf(s)
	if kind != state.KindUser && kind != state.KindRole || strings.HasSuffix(a.Resource, "/") {
		return fmt.Errorf("%q is not an IAM user or role ARN (arn:aws:iam::111122223333:user/Jane)", s)
	}
	return nil
}
