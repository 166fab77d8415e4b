// A remembered device named as the patient knows it: "Firefox op Windows", from the user agent
// stored with it. Parsed by bowser (MIT), locally: no lookup service learns the patient's devices,
// and no place is derived (an IP address says too little and a geolocation database is a third
// party's data).
import Bowser from 'bowser';

export interface DeviceDescription {
  /** e.g. "Firefox 128"; undefined when the user agent names no browser we know. */
  browser: string | undefined;
  /** e.g. "Windows 10", "iOS 17.5", "Android"; undefined when unknown. */
  os: string | undefined;
}

/** Major version only: "Chrome 131.0.6778.85" says more than a patient needs and fingerprints more. */
function major(version: string | undefined): string | undefined {
  return version?.split('.')[0];
}

export function describeUserAgent(userAgent: string): DeviceDescription {
  if (!userAgent.trim()) return { browser: undefined, os: undefined };
  const parsed = Bowser.parse(userAgent);
  const browserVersion = major(parsed.browser.version);
  const browser = parsed.browser.name ? [parsed.browser.name, browserVersion].filter(Boolean).join(' ') : undefined;
  const osName = parsed.os.name;
  const osVersion = parsed.os.versionName ?? major(parsed.os.version);
  const os = osName ? [osName, osVersion].filter(Boolean).join(' ') : undefined;
  return { browser, os };
}
