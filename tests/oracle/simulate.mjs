// The oracle for tests/unit/test_policy_oracle.py: @cloud-copilot/iam-simulate, an independent
// implementation of AWS's policy evaluation logic, run on a batch of cases in one process.
//
// stdin:  a JSON array of cases
//   {principal, action, resource, resourceAccount, context: {key: value | [values]},
//    identity: [policy], resourcePolicy?: policy, boundary?: policy, session?: policy}
// stdout: a JSON array, one entry per case, in order:
//   {result: "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"}  or  {error: "..."} when
//   iam-simulate refuses the case (a policy or request it considers invalid).
import { runSimulation } from '@cloud-copilot/iam-simulate'

async function readStdin() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  return Buffer.concat(chunks).toString('utf8')
}

async function simulate(c) {
  const simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context || {}
    },
    identityPolicies: (c.identity || []).map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: c.resourcePolicy || undefined,
    permissionBoundaryPolicies: c.boundary ? [{ name: 'boundary', policy: c.boundary }] : undefined,
    sessionPolicy: c.session || undefined
  }
  const response = await runSimulation(simulation, {})
  if (response.resultType === 'error') return { error: JSON.stringify(response.errors) }
  const ignored = response.resultType === 'single' ? response.result.ignoredContextKeys || [] : []
  return { result: response.overallResult, ignored }
}

const cases = JSON.parse(await readStdin())
const answers = []
for (const c of cases) {
  try {
    answers.push(await simulate(c))
  } catch (e) {
    answers.push({ error: String(e && e.stack ? e.stack : e) })
  }
}
process.stdout.write(JSON.stringify(answers))
