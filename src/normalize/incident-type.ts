import type { IncidentType } from '../incidents/model.js';

/**
 * Vendor names, categories and MITRE tactics → our incident types. Text is squashed to lower-case
 * letters and digits first, so `InitialAccess`, `Initial Access` and `initial_access` read alike.
 * Rules run in order: a "suspicious phishing sign-in" is phishing before it is authentication.
 */
const RULES: ReadonlyArray<readonly [IncidentType, RegExp]> = [
  ['phishing', /phish|maliciousurl|spoof|impersonat|businessemailcompromise|suspiciousemail/],
  ['malware', /malware|ransomware|trojan|virus|backdoor|maliciousfile|unwantedsoftware|spyware|adware|cryptomin|rootkit|keylogger/],
  ['authentication', /credentialaccess|bruteforce|password|signin|login|logon|authentication|impossibletravel|accountlockout/],
  ['data_exfiltration', /exfiltrat|dataleak/],
  ['intrusion', /initialaccess|lateralmovement|exploit|intrusion|commandandcontrol|privilegeescalation|persistence/],
  ['policy_violation', /policy|datalossprevention|compliance/],
  ['vulnerability', /vulnerab|cve\d/],
  ['suspicious_activity', /suspicious|anomal|defenseevasion|discovery/],
];

/**
 * The first candidate (in the caller's order of trust) that names a type, else `fallback`.
 * "Suspicious" says least: a later candidate naming something more specific wins over it
 * ("Suspicious credential theft activity" in category `CredentialAccess` is authentication).
 */
export function classifyIncident(candidates: readonly (string | undefined)[], fallback: IncidentType): IncidentType {
  let weak: IncidentType | undefined;
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const squashed = candidate.toLowerCase().replace(/[^a-z0-9]+/g, '');
    const rule = RULES.find(([, pattern]) => pattern.test(squashed));
    if (rule === undefined) continue;
    if (rule[0] !== 'suspicious_activity') return rule[0];
    weak ??= rule[0];
  }
  return weak ?? fallback;
}
