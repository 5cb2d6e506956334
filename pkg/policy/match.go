package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Matching works on the strings as given, without building regular
// expressions or splitting into slices, so that evaluating a statement does
// not allocate. Patterns are short and policies hold at most a few hundred
// of them, so compiling them ahead of time would buy little and would need
// shared state guarded against concurrent use.

// MatchAction reports whether an Action pattern such as "s3:Get*" matches
// an action such as "s3:GetObject". The service prefix is compared without
// case and without wildcards; the action name without case, with * and ?.
// "*" alone matches every action. A pattern with no colon, an empty name or
// white space in the name matches nothing (IAM rejects such patterns).
func MatchAction(pattern, action string) bool {
	if allStars(pattern) {
		return true
	}
	// The service first: it rules out most pairs a scan of a large policy
	// meets, and costs one comparison.
	i, j := strings.IndexByte(pattern, ':'), strings.IndexByte(action, ':')
	if i < 0 || j < 0 || !strings.EqualFold(pattern[:i], action[:j]) {
		return false
	}
	pname, aname := pattern[i+1:], action[j+1:]
	if pname == "" || hasSpace(pname) {
		return false
	}
	if strings.IndexByte(pname, '*') < 0 && strings.IndexByte(pname, '?') < 0 {
		// No wildcard: glob with fold is equality under Unicode simple
		// folding, which is what EqualFold compares.
		return strings.EqualFold(pname, aname)
	}
	return glob(pname, aname, true)
}

// hasSpace reports whether s holds ASCII white space (IAM rejects an
// action name with any).
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			return true
		}
	}
	return false
}

// MatchResource reports whether a Resource pattern of an identity policy
// matches a resource ARN, without policy variables. See matchResource.
func MatchResource(pattern, resourceARN string) bool {
	return matchResource(pattern, resourceARN, false, nil) == resMatch
}

// MatchArn reports whether an ArnLike/ArnEquals pattern matches an ARN:
// each of the six colon-separated parts is matched on its own, case
// sensitively, with * and ?; the last part (the resource) may contain
// colons. Either side with fewer than six parts matches nothing.
func MatchArn(pattern, value string) bool {
	return matchArnCondition(pattern, value, nil)
}

// matchResource matches a Resource or NotResource entry against the
// request's resource ARN.
//
// Partition, service, region and account compare without case (AWS writes
// them in lower case; the IAM simulator used as our oracle folds them); the
// resource part compares case sensitively, and * in it crosses "/" and ":".
// The resource-type prefix of the resource part ("key/" in a KMS key ARN,
// up to the first "/" or ":") takes no wildcards: the IAM User Guide's
// Resource element page lists "arn:aws:iam::123456789012:u*" as incorrect
// wildcard use. S3 bucket and object ARNs have no such prefix.
//
// A pattern with fewer than six parts is padded with "*" parts in identity
// policies and boundaries; in resource policies it matches only if it holds
// a wildcard (iam-simulate's observed behaviour; IAM rejects most of these
// at write time anyway). A pattern that does not start with "arn:" matches
// nothing, except "*" (or "**"…) which matches everything. vars is nil when
// the document's Version does not enable policy variables.
func matchResource(pattern, resourceARN string, inResourcePolicy bool, vars *varSource) resResult {
	if allStars(pattern) {
		return resMatch
	}
	var pp [6]string
	n := splitARNPattern(pattern, &pp, vars != nil)
	if pp[0] != "arn" {
		return resNoMatch
	}
	var rp [6]string
	if splitARN(resourceARN, &rp) < 6 || rp[0] != "arn" {
		return resUnknown
	}
	if n < 6 {
		if inResourcePolicy && !strings.Contains(pattern, "*") {
			return resNoMatch
		}
		for i := n; i < 6; i++ {
			pp[i] = "*"
		}
		// iam-simulate does not let a padded pattern's mismatch count as
		// "not listed" under NotResource; neither do we.
		if r := matchResourceParts(&pp, &rp, vars); r != resMatch {
			return resUnknown
		}
		return resMatch
	}
	return matchResourceParts(&pp, &rp, vars)
}

// resResult is a Resource match with a third answer for patterns that
// cannot be decided (an unresolvable policy variable, a malformed ARN): such
// a pattern matches nothing under Resource, and under NotResource it makes
// the statement not apply rather than apply to everything.
type resResult int

const (
	resNoMatch resResult = iota
	resMatch
	resUnknown
)

func matchResourceParts(pp, rp *[6]string, vars *varSource) resResult {
	for i := 1; i < 5; i++ {
		switch matchPart(pp[i], rp[i], true, vars) {
		case partNoMatch:
			return resNoMatch
		case partUnresolved:
			return resUnknown
		}
	}
	product := ""
	if !(strings.EqualFold(rp[2], "s3") && pp[3] == "" && pp[4] == "") {
		if i := strings.IndexAny(pp[5], "/:"); i >= 0 {
			product = pp[5][:i+1]
		}
	}
	if product != "" && strings.Contains(product, "${") {
		// A variable in the type prefix cannot be told apart from the
		// prefix itself; match the whole part instead.
		product = ""
	}
	if !strings.HasPrefix(rp[5], product) {
		return resNoMatch
	}
	switch matchPart(pp[5][len(product):], rp[5][len(product):], false, vars) {
	case partMatch:
		return resMatch
	case partUnresolved:
		return resUnknown
	}
	return resNoMatch
}

// matchArnCondition implements the Arn* condition operators for one policy
// value and one request value.
func matchArnCondition(pattern, value string, vars *varSource) bool {
	var pp, vp [6]string
	if splitARNPattern(pattern, &pp, vars != nil) < 6 || splitARN(value, &vp) < 6 {
		return false
	}
	for i := range pp {
		if matchPart(pp[i], vp[i], false, vars) != partMatch {
			return false
		}
	}
	return true
}

type partResult int

const (
	partNoMatch partResult = iota
	partMatch
	partUnresolved
)

// matchPart matches one pattern part that may hold policy variables.
func matchPart(pattern, value string, fold bool, vars *varSource) partResult {
	ok := false
	if vars != nil && strings.Contains(pattern, "${") {
		toks, resolved := vars.resolve(pattern, true)
		if !resolved {
			return partUnresolved
		}
		ok = globTokens(toks, value, fold)
	} else {
		ok = glob(pattern, value, fold)
	}
	if ok {
		return partMatch
	}
	return partNoMatch
}

// splitARN splits s at its first five colons into out and returns the
// number of parts found (6 for a well-formed ARN).
func splitARN(s string, out *[6]string) int {
	n := 0
	for n < 5 {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		out[n] = s[:i]
		s = s[i+1:]
		n++
	}
	out[n] = s
	return n + 1
}

// splitARNPattern is splitARN for patterns: when variables are in use, a
// colon inside ${…} (as in ${aws:username}) does not split.
func splitARNPattern(s string, out *[6]string, vars bool) int {
	if !vars || !strings.Contains(s, "${") {
		return splitARN(s, out)
	}
	n, start := 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		switch s[i] {
		case '$':
			if i+1 < len(s) && s[i+1] == '{' {
				if j := strings.IndexByte(s[i+2:], '}'); j >= 0 {
					i += j + 2
				}
			}
		case ':':
			out[n] = s[start:i]
			start = i + 1
			n++
		}
	}
	out[n] = s[start:]
	return n + 1
}

func allStars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '*' {
			return false
		}
	}
	return true
}

// glob matches s against a pattern where * matches any run of characters
// (including none) and ? exactly one. It backtracks only to the last star,
// which is enough for * because a later star can absorb whatever an earlier
// one would have: linear in practice, never exponential.
func glob(pattern, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				starP, starS = px, sx
				px++
				continue
			case '?':
				_, w := utf8.DecodeRuneInString(s[sx:])
				px++
				sx += w
				continue
			default:
				pr, pw := utf8.DecodeRuneInString(pattern[px:])
				sr, sw := utf8.DecodeRuneInString(s[sx:])
				if pr == sr || (fold && foldEq(pr, sr)) {
					px += pw
					sx += sw
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		px, sx = starP+1, starS
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// Pattern tokens for patterns whose variables have been substituted: the
// substituted text is literal, so wildcards are kept apart from runes.
const (
	tokStar  rune = -1
	tokQuest rune = -2
)

func globTokens(p []rune, s string, fold bool) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case tokStar:
				starP, starS = px, sx
				px++
				continue
			case tokQuest:
				_, w := utf8.DecodeRuneInString(s[sx:])
				px++
				sx += w
				continue
			default:
				sr, sw := utf8.DecodeRuneInString(s[sx:])
				if c == sr || (fold && foldEq(c, sr)) {
					px++
					sx += sw
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[starS:])
		starS += w
		px, sx = starP+1, starS
	}
	for px < len(p) && p[px] == tokStar {
		px++
	}
	return px == len(p)
}

func foldEq(a, b rune) bool {
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		return a == b
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return a == b
}

// PrincipalMatch says how a Principal element names a caller. The kinds
// matter beyond yes/no: AWS treats a grant to the account as delegation to
// the account's IAM policies, and a same-account grant naming a role (not
// the session) stays subject to the role's permissions boundary.
type PrincipalMatch int

const (
	PrincipalNoMatch  PrincipalMatch = iota
	PrincipalAccount                 // the caller's account: 12-digit ID or arn:…:iam::ACCT:root
	PrincipalRole                    // the role of an assumed-role session caller (role ARN or AROA ID)
	PrincipalDirect                  // the caller itself: user, role, or session ARN, or its unique ID
	PrincipalWildcard                // "*" or {"AWS":"*"}: everyone
)

func (m PrincipalMatch) String() string {
	switch m {
	case PrincipalAccount:
		return "account"
	case PrincipalRole:
		return "role"
	case PrincipalDirect:
		return "direct"
	case PrincipalWildcard:
		return "wildcard"
	}
	return "none"
}

type callerKind int

const (
	callerOther callerKind = iota
	callerUser
	callerRole
	callerSession
)

// caller is a Caller taken apart once per evaluation.
type caller struct {
	arn       string
	account   string
	uniqueID  string
	partition string
	kind      callerKind
	roleName  string // role and session callers: the role's name, without path
}

func newCaller(c Caller) caller {
	out := caller{arn: c.ARN, account: c.Account, uniqueID: c.UniqueID}
	if !arn.IsARN(c.ARN) {
		return out
	}
	// arn.Parse would allocate its parts on every evaluation; the split
	// is the same.
	var p [6]string
	splitARN(c.ARN, &p)
	a := arn.ARN{Partition: p[1], Service: p[2], Region: p[3], AccountID: p[4], Resource: p[5]}
	if out.account == "" {
		out.account = a.AccountID
	}
	out.partition = a.Partition
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		out.kind = callerUser
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		out.kind = callerRole
		out.roleName = a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		rest := a.Resource[len("assumed-role/"):]
		name, _, ok := strings.Cut(rest, "/")
		if ok && name != "" {
			out.kind = callerSession
			out.roleName = name
		}
	}
	return out
}

// MatchPrincipal reports how a Principal element names the caller.
// A nil Principal matches nothing.
func MatchPrincipal(p *Principal, c Caller) PrincipalMatch {
	cc := newCaller(c)
	return cc.matchPrincipal(p)
}

func (c *caller) matchPrincipal(p *Principal) PrincipalMatch {
	if p == nil {
		return PrincipalNoMatch
	}
	if p.Star {
		return PrincipalWildcard
	}
	best := PrincipalNoMatch
	for _, v := range p.AWS {
		if m := c.matchAWS(v); m > best {
			best = m
			if best == PrincipalWildcard {
				break
			}
		}
	}
	// Service, Federated and CanonicalUser principals never name an IAM
	// user, role or session.
	return best
}

// matchAWS matches one value of an "AWS" principal.
func (c *caller) matchAWS(v string) PrincipalMatch {
	if allStars(v) {
		return PrincipalWildcard
	}
	if acct, ok := accountOfPrincipal(v); ok {
		if c.account != "" && acct == c.account {
			return PrincipalAccount
		}
		return PrincipalNoMatch
	}
	if isUniqueID(v) {
		if c.uniqueID == "" || v != c.uniqueID {
			return PrincipalNoMatch
		}
		// A session carries its role's ID: naming it names the role.
		if c.kind == callerSession {
			return PrincipalRole
		}
		return PrincipalDirect
	}
	if v == c.arn {
		return PrincipalDirect
	}
	if c.kind == callerSession && c.roleNamesSession(v) {
		return PrincipalRole
	}
	return PrincipalNoMatch
}

// roleNamesSession reports whether v is the ARN of the session caller's
// role. Session ARNs carry the role name without its path, so the role
// ARN's last path element is compared; IAM role names are unique without
// regard to case, and iam-simulate compares them that way.
func (c *caller) roleNamesSession(v string) bool {
	var p [6]string
	if splitARN(v, &p) < 6 || p[0] != "arn" || p[2] != "iam" || p[3] != "" {
		return false
	}
	if p[1] != c.partition || p[4] != c.account || !strings.HasPrefix(p[5], "role/") {
		return false
	}
	name := p[5][strings.LastIndexByte(p[5], '/')+1:]
	return name != "" && strings.EqualFold(name, c.roleName)
}

// accountOfPrincipal recognises the two spellings of an account principal.
func accountOfPrincipal(v string) (string, bool) {
	if isAccountID(v) {
		return v, true
	}
	if !strings.HasPrefix(v, "arn:") || !strings.HasSuffix(v, ":root") {
		return "", false
	}
	var p [6]string
	if splitARN(v, &p) != 6 || p[2] != "iam" || p[3] != "" || p[5] != "root" || !isAccountID(p[4]) {
		return "", false
	}
	return p[4], true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isUniqueID recognises IAM unique IDs (AIDA…, AROA…, …): "A" and upper-case
// letters and digits, as iam-simulate and the IAM identifiers page show them.
func isUniqueID(s string) bool {
	if len(s) < 2 || s[0] != 'A' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// exemptedByNotPrincipal reports whether a Deny statement's NotPrincipal
// exempts the caller. AWS evaluates a request against the caller's account
// and then the caller (for a session: the account, the role, then the
// session) and denies if any of them is missing from NotPrincipal — so the
// account must be listed too, and an account alone exempts only the
// account, not its users (IAM User Guide, NotPrincipal: "AWS account
// principals" and the Bob example).
func (c *caller) exemptedByNotPrincipal(p *Principal) bool {
	if p == nil {
		return false
	}
	if p.Star {
		return true
	}
	var account, self, role, session bool
	for _, v := range p.AWS {
		if allStars(v) {
			return true
		}
		if acct, ok := accountOfPrincipal(v); ok {
			account = account || (c.account != "" && acct == c.account)
			continue
		}
		switch c.matchAWS(v) {
		case PrincipalDirect:
			self = true
			if c.kind == callerSession {
				session = true
			}
		case PrincipalRole:
			role = true
		}
	}
	if !account {
		return false
	}
	if c.kind == callerSession {
		return role && session
	}
	return self
}

// notPrincipalAllowMatch is how an Allow statement with NotPrincipal names
// the caller: everyone it does not list, in any way, as if by "*".
func (c *caller) notPrincipalAllowMatch(p *Principal) PrincipalMatch {
	if p == nil {
		return PrincipalNoMatch
	}
	if p.Star {
		return PrincipalNoMatch
	}
	for _, v := range p.AWS {
		if c.matchAWS(v) != PrincipalNoMatch {
			return PrincipalNoMatch
		}
	}
	return PrincipalWildcard
}

// MatchesAction reports whether the statement's Action or NotAction covers
// the action. A statement with neither covers nothing.
func (s *Statement) MatchesAction(action string) bool {
	switch {
	case s.Action != nil:
		for _, p := range s.Action.Values {
			if MatchAction(p, action) {
				return true
			}
		}
		return false
	case s.NotAction != nil:
		for _, p := range s.NotAction.Values {
			if MatchAction(p, action) {
				return false
			}
		}
		return true
	}
	return false
}

// MatchesResource reports whether the statement's Resource or NotResource
// covers the resource ARN, substituting no policy variables (a pattern
// holding one is compared as text). A statement with neither covers
// nothing: IAM requires one, and a key policy statement without Resource
// is silently ineffective.
func (s *Statement) MatchesResource(resourceARN string) bool {
	return s.matchesResource(resourceARN, false, nil)
}

func (s *Statement) matchesResource(resourceARN string, inResourcePolicy bool, vars *varSource) bool {
	switch {
	case s.Resource != nil:
		for _, p := range s.Resource.Values {
			if matchResource(p, resourceARN, inResourcePolicy, vars) == resMatch {
				return true
			}
		}
		return false
	case s.NotResource != nil:
		for _, p := range s.NotResource.Values {
			if matchResource(p, resourceARN, inResourcePolicy, vars) != resNoMatch {
				return false
			}
		}
		return true
	}
	return false
}
