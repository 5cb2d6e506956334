// simulate.mjs: a long-lived test oracle for bucketgrant's policy engine.
//
// Reads one JSON case per line on stdin and writes one JSON result per line on
// stdout, in the same order. It drives the core engine of
// @cloud-copilot/iam-simulate (the `authorize` function of
// dist/esm/core_engine/CoreSimulatorEngine.js) directly rather than the public
// runSimulation entry point, because runSimulation drops every context key that
// iam-data does not list for the action, validates against its own rules and
// expands wildcard resources; the core engine evaluates exactly the policies and
// the request context we hand it. Only used by tests (internal/oracle); it is
// never part of the bucketgrant binary.
//
// Case (one line):
//   {"id": "c1",
//    "identity": [{"name": "p1", "policy": "<policy JSON text>"}],
//    "boundary": "<policy JSON text>" | null,
//    "resource": "<policy JSON text>" | null,
//    "principal": "arn:aws:iam::111122223333:user/Jane",
//    "action": "s3:GetObject",
//    "resourceArn": "arn:aws:s3:::b1/k",
//    "resourceAccount": "111122223333",
//    "context": {"aws:SecureTransport": ["true"], "aws:TagKeys": ["a", "b"]},
//    "scp": [{"target": "root r-ab12", "policies": [{"name": "p1", "policy": "<JSON>"}]}],
//    "rcp": [...],
//    "validate": false}
// scp and rcp (optional) are the organization levels, root first, whose
// service / resource control policies apply to the request; which apply
// (member accounts only, not the management account) is the caller's
// choice, as with the other policies.
// Result (one line):
//   {"id": "c1", "decision": "Allowed"|"ImplicitlyDenied"|"ExplicitlyDenied",
//    "explain": {...}, "validationErrors": {...}}  or  {"id": "c1", "error": "..."}
//
// A line {"op": "ping"} answers {"pong": true, "version": "<iam-simulate version>"}.

import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { loadPolicy, validateIdentityPolicy, validateResourcePolicy } from '@cloud-copilot/iam-policy'
import { isConditionKeyArray, typeForContextKey } from '@cloud-copilot/iam-simulate'

// String.prototype.localeCompare(that, locales, options) is specified as
// new Intl.Collator(locales, options).compare(this, that) (ECMA-402), and V8
// builds that collator afresh on every call: the iam-policy and iam-simulate
// packages compare strings case-insensitively this way on every statement of
// every case (about a sixth of the oracle's time, measured on policygen's
// cases). Keeping one collator per (locales, options) gives the same answers.
const collators = new Map()
const plainLocaleCompare = String.prototype.localeCompare
String.prototype.localeCompare = function (that, locales, options) {
  if (options === undefined || options === null || typeof options !== 'object') {
    return plainLocaleCompare.call(this, that, locales, options)
  }
  const key = JSON.stringify([locales ?? null, options])
  let collator = collators.get(key)
  if (collator === undefined) {
    collator = new Intl.Collator(locales, options)
    collators.set(key, collator)
  }
  return collator.compare(String(this), String(that))
}

const simDist = new URL('./node_modules/@cloud-copilot/iam-simulate/dist/esm/', import.meta.url)
const { authorize } = await import(new URL('core_engine/CoreSimulatorEngine.js', simDist))
const { AwsRequestImpl } = await import(new URL('request/request.js', simDist))
const { RequestContextImpl } = await import(new URL('requestContext.js', simDist))
const { DiscoveryContextKeyConstraints } = await import(
  new URL('context_keys/discoveryContextKeyConstraints.js', simDist)
)
const simVersion = JSON.parse(
  readFileSync(new URL('./node_modules/@cloud-copilot/iam-simulate/package.json', import.meta.url))
).version

const strict = {
  simulationMode: 'Strict',
  discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([])
}

// Whether a context key is multi-valued, by lower-case name. iam-data knows the
// types; a key it does not know is single-valued unless given several values.
const multiValued = new Map()
async function isMultiValued(key, values) {
  const lower = key.toLowerCase()
  if (!multiValued.has(lower)) {
    let multi
    try {
      multi = isConditionKeyArray(await typeForContextKey(lower))
    } catch {
      multi = undefined
    }
    multiValued.set(lower, multi)
  }
  const multi = multiValued.get(lower)
  return multi === undefined ? values.length !== 1 : multi
}

async function contextFor(context) {
  const out = {}
  for (const [key, raw] of Object.entries(context ?? {})) {
    const values = Array.isArray(raw) ? raw.map(String) : [String(raw)]
    out[key] = (await isMultiValued(key, values)) ? values : values[0]
  }
  return out
}

// Parsed policies by name and text: the suites send the same documents in
// many cases (a plan's probes, the SCPs and RCPs of every level), and
// iam-policy's loaded policies are only read by the engine. Bounded, so a
// long run does not grow without end.
const parsed = new Map()
function parse(text, name) {
  const src = typeof text === 'string' ? text : JSON.stringify(text)
  const key = name + '\u0000' + src
  let hit = parsed.get(key)
  if (hit === undefined) {
    const doc = JSON.parse(src)
    hit = { doc, policy: loadPolicy(doc, { name }) }
    if (parsed.size >= 20000) parsed.clear()
    parsed.set(key, hit)
  }
  return hit
}

function refs(statements) {
  return statements.map((s) => {
    const st = s.statement
    const sid = st.sid()
    return `${s.policyId}#${st.index() - 1}${sid ? '(' + sid + ')' : ''}`
  })
}

function summary(analysis) {
  if (!analysis) return undefined
  const out = { result: analysis.result }
  if (analysis.allowStatements.length) out.allow = refs(analysis.allowStatements)
  if (analysis.denyStatements.length) out.deny = refs(analysis.denyStatements)
  return out
}

async function simulate(c) {
  const validationErrors = {}
  const identityPolicies = (c.identity ?? []).map((p, i) => {
    const name = p.name ?? `identity${i}`
    const { doc, policy } = parse(p.policy, name)
    if (c.validate) {
      const errs = validateIdentityPolicy(doc)
      if (errs.length) validationErrors[name] = errs
    }
    return policy
  })
  let permissionBoundaries
  if (c.boundary) {
    const { doc, policy } = parse(c.boundary, 'boundary')
    if (c.validate) {
      const errs = validateIdentityPolicy(doc)
      if (errs.length) validationErrors.boundary = errs
    }
    permissionBoundaries = [policy]
  }
  let resourcePolicy
  if (c.resource) {
    const { doc, policy } = parse(c.resource, 'resource')
    if (c.validate) {
      const errs = validateResourcePolicy(doc)
      if (errs.length) validationErrors.resource = errs
    }
    resourcePolicy = policy
  }
  const levels = (ls, kind) =>
    (ls ?? []).map((l, i) => ({
      orgIdentifier: l.target ?? `${kind}${i}`,
      policies: (l.policies ?? []).map((p, j) => parse(p.policy, p.name ?? `${kind}${i}-${j}`).policy)
    }))
  const request = new AwsRequestImpl(
    c.principal,
    { resource: c.resourceArn, accountId: c.resourceAccount },
    c.action,
    new RequestContextImpl(await contextFor(c.context)),
    false
  )
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies,
    serviceControlPolicies: levels(c.scp, 'scp'),
    resourceControlPolicies: levels(c.rcp, 'rcp'),
    resourcePolicy,
    permissionBoundaries,
    vpcEndpointPolicies: undefined,
    simulationParameters: strict,
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
  const out = {
    id: c.id,
    decision: analysis.result,
    explain: {
      sameAccount: analysis.sameAccount,
      identity: summary(analysis.identityAnalysis),
      boundary: summary(analysis.permissionBoundaryAnalysis),
      resource: summary(analysis.resourceAnalysis),
      scp: analysis.scpAnalysis?.result,
      rcp: analysis.rcpAnalysis?.result,
      blockedBy: analysis.blockedBy
    }
  }
  if (Object.keys(validationErrors).length) out.validationErrors = validationErrors
  return out
}

// Results are buffered and flushed once per input chunk, so a batch of cases
// costs one write instead of one per case.
let pending = []
function flush() {
  if (pending.length) {
    process.stdout.write(pending.join(''))
    pending = []
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity })
let scheduled = false
for await (const line of rl) {
  if (line.trim() === '') continue
  let out
  let id
  try {
    const c = JSON.parse(line)
    id = c.id
    if (c.op === 'ping') {
      out = { id, pong: true, version: simVersion }
    } else {
      out = await simulate(c)
    }
  } catch (err) {
    out = { id, error: String(err && err.stack ? err.stack : err) }
  }
  pending.push(JSON.stringify(out) + '\n')
  if (!scheduled) {
    scheduled = true
    setImmediate(() => {
      scheduled = false
      flush()
    })
  }
}
flush()
