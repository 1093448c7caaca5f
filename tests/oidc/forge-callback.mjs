#!/usr/bin/env node
// A hostile "browser" for tests/integration/login.rs: instead of signing in, it sends the reader's loopback listener
// a redirect it did not ask for. FORGE=state: a code with another state; FORGE=replay: the code recorded in the file
// OIDC_RECORD by an earlier sign-in, with this sign-in's own state (so only the provider can refuse it).
import { readFileSync } from 'node:fs';

const authorize = new URL(process.argv[2]);
const redirect = new URL(authorize.searchParams.get('redirect_uri'));
if (process.env.FORGE === 'replay') {
  const old = new URL(readFileSync(process.env.OIDC_RECORD, 'utf8'));
  redirect.searchParams.set('code', old.searchParams.get('code'));
  redirect.searchParams.set('state', authorize.searchParams.get('state'));
  if (old.searchParams.get('iss')) redirect.searchParams.set('iss', old.searchParams.get('iss'));
} else {
  redirect.searchParams.set('code', 'forged-code');
  redirect.searchParams.set('state', 'not-the-state-of-this-sign-in');
}
const answer = await fetch(redirect);
console.error(`forge-callback.mjs: ${redirect.pathname} answered ${answer.status}`);
