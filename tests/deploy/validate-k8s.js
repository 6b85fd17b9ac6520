// SPDX-License-Identifier: Apache-2.0
// validate-k8s.js FILE...: validates every Kubernetes object in the given YAML files against
// the Kubernetes OpenAPI schemas shipped in the npm package kubernetes-models. Prints one
// PASS/FAIL line per object; exits 1 when any object fails. Objects of kinds that package
// does not model (e.g. kustomize's Kustomization) are reported and must be listed in SKIP_KINDS.
'use strict';
const fs = require('fs');
const yaml = require('js-yaml');

const SKIP_KINDS = new Set(['Kustomization']);
let failed = 0;

// apps/v1 -> kubernetes-models/apps/v1 ; v1 -> kubernetes-models/v1 (ES modules only).
async function modelFor(apiVersion, kind) {
	const mod = await import(`kubernetes-models/${apiVersion}`);
	if (!mod[kind])
		throw new Error(`no model for ${apiVersion} ${kind}`);
	return mod[kind];
}

async function main() {
for (const file of process.argv.slice(2)) {
	const docs = yaml.loadAll(fs.readFileSync(file, 'utf8')).filter(Boolean);
	for (const doc of docs) {
		const name = `${file}:${doc.kind}/${doc.metadata && doc.metadata.name}`;
		if (SKIP_KINDS.has(doc.kind)) {
			console.log(`PASS ${name}: not a Kubernetes API object, parsed only`);
			continue;
		}
		try {
			const Model = await modelFor(doc.apiVersion, doc.kind);
			new Model(doc).validate();
			console.log(`PASS ${name}`);
		} catch (e) {
			failed++;
			console.log(`FAIL ${name}: ${String(e.message || e).split('\n').slice(0, 4).join(' | ')}`);
		}
	}
}
}
main().then(() => process.exit(failed ? 1 : 0), (e) => {
	console.log(`FAIL validate-k8s: ${e}`);
	process.exit(1);
});
