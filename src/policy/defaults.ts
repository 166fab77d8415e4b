// Every tunable limit of Poortwachter in one place, each with what it does and why it is set so
// (node-oidc-provider's lib/helpers/defaults.js is the model). A deployment overrides any of them
// with a JSON file named by POLICY_FILE (a deep-partial copy of this object, checked at start), or
// with the environment variables that existed before this file did, which win over the file:
//   PASSWORD_MIN_LENGTH, PASSWORD_MAX_LENGTH, PASSWORD_FAILURES_PER_IP, LOCKOUT_THRESHOLD,
//   LOCKOUT_STEPS_SECONDS, LOCKOUT_MAX_FAILURES, CODE_TTL_SECONDS, REMEMBER_DEVICE_MAX_SECONDS,
//   FLOW_TTL_SECONDS.
// The merged policy is `config.policy`; nothing reads a limit from anywhere else. Times are in
// seconds. Lifetimes of sessions and tokens are oidc-provider's and stay in config.ttl.

/** The "remember this device" choices a patient is offered; each has its own text, so the set is fixed. */
export const REMEMBER_CHOICES = ['none', '12h', '3d', '1w'] as const;
export type RememberChoice = (typeof REMEMBER_CHOICES)[number];

/** At most `max` in `windowSeconds` (fixed windows in the shared store, so every process counts the same). */
export interface LimitPolicy {
  max: number;
  windowSeconds: number;
}

export interface Policy {
  passwords: {
    minLength: number;
    maxLength: number;
    failuresPerIp: LimitPolicy;
    changeFailures: LimitPolicy;
    temporaryTtlSeconds: number;
  };
  lockout: {
    threshold: number;
    stepsSeconds: number[];
    maxFailures: number;
    loginNameMemorySeconds: number;
  };
  codes: {
    ttlSeconds: number;
    attemptsPerCode: number;
    failuresPerAccount: LimitPolicy;
    sends: LimitPolicy;
    resendCooldownSeconds: number;
    guessingNoticeWindowSeconds: number;
  };
  totp: {
    failures: LimitPolicy;
    enrolFailures: LimitPolicy;
  };
  recoveryCodes: {
    failures: LimitPolicy;
  };
  passkeys: {
    failures: LimitPolicy;
  };
  rememberDevice: {
    choices: RememberChoice[];
    defaultChoice: RememberChoice;
    maxSeconds: number;
  };
  accountPage: {
    reauthenticationSeconds: number;
    /** How long the link that confirms a new e-mail address works. */
    emailChangeLinkSeconds: number;
    /** Links to new e-mail addresses an account may ask for. */
    emailChangeLinks: LimitPolicy;
    /** How far back "Recente activiteit" reaches. */
    activityDays: number;
  };
  /** The /admin console's session (admin/console/admin-sessions.ts). */
  adminConsole: {
    /** Signed out after this long without a request. */
    idleSeconds: number;
    /** Signed out this long after the sign-in, however busy. */
    maxSeconds: number;
  };
  flows: {
    ttlSeconds: number;
    keptAfterExpirySeconds: number;
  };
  recovery: RecoveryPolicy;
  /** Invitations and activation (flows/activation/, accounts/invitations.ts). */
  activation: {
    /** Life of an invitation link (Mijn Therapie Dossier: "de link is beperkt geldig"). */
    linkTtlSeconds: number;
  };
}

/** Self-service recovery and unlock (flows/recovery/): the CAPTCHA, its throttles, the e-mail link. */
export interface RecoveryPolicy {
  captcha: {
    /** altcha-lib's key derivation for the proof of work (PBKDF2/SHA-256: WebCrypto has it natively). */
    algorithm: 'PBKDF2/SHA-256' | 'SHA-256';
    /** Iterations per try. */
    cost: number;
    /** The solver searches up to a secret counter drawn from [counterMin, counterMax]: the expected work. */
    counterMin: number;
    counterMax: number;
    ttlSeconds: number;
  };
  /**
   * Recoveries started (each a flow row) and CAPTCHA challenges made (each a PBKDF2 run) per client:
   * both come before any proof of work, so they are what a flood would use.
   */
  startsPerIp: LimitPolicy;
  challengesPerIp: LimitPolicy;
  /** "Wie bent u?" posts per client with a solved CAPTCHA. */
  identifyPerIp: LimitPolicy;
  /** The same without JavaScript (no CAPTCHA to solve): the stricter budget that replaces the proof of work. */
  noScriptPerIp: LimitPolicy;
  /** Recoveries per typed login name (keyed hash) and per account. */
  perLoginName: LimitPolicy;
  perAccount: LimitPolicy;
  /** Wrong full phone numbers per flow's typed name and per account: each is a guess. */
  phoneGuesses: LimitPolicy;
  /** Codes sent by a recovery per phone number (keyed hash) and per client: SMS and calls cost money. */
  sendsPerPhone: LimitPolicy;
  sendsPerIp: LimitPolicy;
  /**
   * Recovery mails (the e-mail link, a temporary password) per flow, per account (an unknown name
   * counts against a decoy key) and per client: one solved CAPTCHA must not buy unlimited mail.
   * Past any of them the same answer comes, and nothing is sent.
   */
  mailsPerFlow: number;
  mailsPerAccount: LimitPolicy;
  mailsPerIp: LimitPolicy;
  /** Life of an e-mailed recovery link (NIST SP 800-63B-4: at most 24 hours). */
  linkTtlSeconds: number;
}

const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

export const POLICY_DEFAULTS: Policy = {
  passwords: {
    // NIST SP 800-63B-4 §3.1.1.2: at least 8 characters for a password used with a second factor;
    // no composition rules. The portals' own profiles may ask more (issue 8), never less.
    minLength: 8,
    // NIST asks verifiers to allow at least 64; 128 leaves room for passphrases and password
    // managers while keeping the argon2 work per attempt bounded.
    maxLength: 128,
    // Password attempts per client IP (successes are given back): a clinic behind one address is
    // never blocked by its own logins, a spray across many accounts from one address is.
    failuresPerIp: { max: 100, windowSeconds: 15 * MINUTE },
    // Wrong current passwords on the change form (update-password): a guess like any other.
    changeFailures: { max: 5, windowSeconds: 15 * MINUTE },
    // How long a temporary password mailed by `poortwachter user temp-password` works: ZINN and MTD
    // mail one that is typed within days. The patient's own password keeps working meanwhile, so a
    // short life costs nobody access; 1 hour to 14 days.
    temporaryTtlSeconds: 3 * DAY,
  },
  lockout: {
    // Consecutive wrong passwords before a temporary lock: room for a few typos.
    threshold: 5,
    // The 1st, 2nd, 3rd... lock; the last step repeats. A patient with a typo loses a minute; a
    // guesser gets about 5 guesses per 15 minutes after the first locks.
    stepsSeconds: [1 * MINUTE, 5 * MINUTE, 15 * MINUTE],
    // Evaluated guesses without a successful login before the hard lock that only an unlock lifts.
    // NIST SP 800-63B-4 §3.2.2 allows at most 100.
    maxFailures: 100,
    // A lock record of a typed name (which may be no account at all) is forgotten this long after
    // its last failure or lock end, so the store does not fill with guessed names.
    loginNameMemorySeconds: 1 * DAY,
  },
  codes: {
    // How long a code sent by SMS, call or e-mail is valid (the patient portal's "about 10 minutes").
    ttlSeconds: 10 * MINUTE,
    // Tries per code: a 6-digit code guessed 5 times has a 1 in 200 000 chance.
    attemptsPerCode: 5,
    // Wrong codes per account across resends: a new code does not reset the guessing budget.
    failuresPerAccount: { max: 10, windowSeconds: 1 * HOUR },
    // Codes sent per account and purpose: each costs money (SMS, calls) and can be used to harass.
    sends: { max: 5, windowSeconds: 1 * HOUR },
    // Between two sends: long enough for a slow SMS to arrive before "send again" voids it.
    resendCooldownSeconds: 30,
    // At most one "many wrong codes" notice per account in this window, however many limits trip:
    // the patient hears of it, a guesser cannot flood the mailbox.
    guessingNoticeWindowSeconds: 1 * HOUR,
  },
  totp: {
    // Wrong authenticator-app codes per account (±1 step of 30 s is accepted, so ~3 codes are live).
    failures: { max: 10, windowSeconds: 1 * HOUR },
    // Wrong first codes while setting up the app (a clock off by minutes shows up here).
    enrolFailures: { max: 10, windowSeconds: 1 * HOUR },
  },
  recoveryCodes: {
    // Wrong recovery codes per account; there are 6 × 60 bits, so this only limits noise.
    failures: { max: 10, windowSeconds: 1 * HOUR },
  },
  passkeys: {
    // Failed passkey ceremonies (bad, foreign or replayed responses; not a closed dialog) per
    // account, or per client address when signing in without a name. A passkey cannot be guessed:
    // this bounds the noise (audit, CPU of signature checks) one party can make.
    failures: { max: 10, windowSeconds: 1 * HOUR },
  },
  rememberDevice: {
    // Minddistrict's choices: none, 12 hours, 3 days, a week. A deployment may offer fewer.
    choices: [...REMEMBER_CHOICES],
    // For accounts that never chose: half a working day, as Minddistrict does.
    defaultChoice: '12h',
    // A cap on whatever a patient chose.
    maxSeconds: 7 * DAY,
  },
  accountPage: {
    // ASVS 5.0 7.5.1: /account binds and removes authenticators, so the login behind the session
    // must be at most this old (measured from its start, as max_age is); older ones sign in again
    // first. An enrolment started there may finish within the flow's lifetime (flows.ttlSeconds).
    reauthenticationSeconds: 10 * MINUTE,
    // The link to a new e-mail address is a bearer secret in a mailbox: short-lived (as a sent
    // code is, a little longer because mail can be slow), single use, and only its hash is kept.
    emailChangeLinkSeconds: 30 * MINUTE,
    // Each link is a mail to an address the patient typed: a cap keeps a signed-in account from
    // being used to flood someone else's mailbox. Five an hour leaves room for typos.
    emailChangeLinks: { max: 5, windowSeconds: HOUR },
    // Minddistrict's patients look back a few weeks; 90 days covers a quarter without making the
    // page an audit export (the operator has `audit export` for that).
    activityDays: 90,
  },
  adminConsole: {
    // An unattended admin screen in a practice is someone else's admin screen: a short idle time
    // (OWASP ASVS 5.0 7.3.1 asks for a documented one) and a working day at most (7.3.2).
    idleSeconds: 15 * MINUTE,
    maxSeconds: 8 * HOUR,
  },
  flows: {
    // A hosted flow (a login, an enrolment on /account) may take this long; oidc-provider's
    // interaction lives as long (at most an hour).
    ttlSeconds: 1 * HOUR,
    // Kept after that, so an expired page can still name its portal and link back to it.
    keptAfterExpirySeconds: 1 * HOUR,
  },
  recovery: {
    captcha: {
      algorithm: 'PBKDF2/SHA-256',
      // ~1,000-4,000 PBKDF2 runs of 1,000 iterations: about a second on a phone with the widget's
      // workers, a real cost per attempt for a script that wants to try thousands of names.
      cost: 1000,
      counterMin: 1000,
      counterMax: 4000,
      // Long enough to read the page and type the user id; a challenge is spent by its first use.
      ttlSeconds: 10 * MINUTE,
    },
    // A patient starts once or twice and the widget fetches a challenge per page and per expiry; a
    // clinic behind one address has room for many, a flood of rows or PBKDF2 runs does not.
    startsPerIp: { max: 60, windowSeconds: 10 * MINUTE },
    challengesPerIp: { max: 120, windowSeconds: 10 * MINUTE },
    identifyPerIp: { max: 30, windowSeconds: 1 * HOUR },
    // Without JavaScript there is no proof of work: a clinic's patients without scripts still get
    // in, a script that skips the widget gets 5 names an hour per client.
    noScriptPerIp: { max: 5, windowSeconds: 1 * HOUR },
    perLoginName: { max: 10, windowSeconds: 1 * HOUR },
    perAccount: { max: 10, windowSeconds: 1 * HOUR },
    // The full number is knowledge an attacker may guess from a hint of two digits: a few tries only.
    phoneGuesses: { max: 5, windowSeconds: 1 * HOUR },
    sendsPerPhone: { max: 5, windowSeconds: 1 * HOUR },
    sendsPerIp: { max: 20, windowSeconds: 1 * HOUR },
    // A lost or slow mail may be asked again twice in one flow; a mailbox is not flooded by a script
    // that solved one CAPTCHA, nor by many flows for one account, nor from one address.
    mailsPerFlow: 3,
    mailsPerAccount: { max: 5, windowSeconds: 1 * HOUR },
    mailsPerIp: { max: 20, windowSeconds: 1 * HOUR },
    // The hour: enough to open the mail, short enough that an old mailbox copy is useless.
    linkTtlSeconds: 1 * HOUR,
  },
  activation: {
    // Three days: a patient invited on a Friday can still activate on Monday. The link only opens
    // the activation (the patient still sets a password and a second factor), and is single use.
    linkTtlSeconds: 3 * DAY,
  },
};
