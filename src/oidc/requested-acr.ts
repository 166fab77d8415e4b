// The acr levels a request asks for: `acr_values`, or an `acr` claim request (essential or
// not) in the `claims` parameter. Both are plain request parameters, readable from interaction
// details too, so flows and the login policy agree on the bar.
export function requestedAcrValues(params: Record<string, unknown>): string[] {
  const values: string[] = [];
  if (typeof params.acr_values === 'string') values.push(...params.acr_values.split(' ').filter(Boolean));
  if (typeof params.claims === 'string') {
    try {
      const claims = JSON.parse(params.claims) as { id_token?: { acr?: { value?: unknown; values?: unknown } } };
      const acr = claims.id_token?.acr;
      if (typeof acr?.value === 'string') values.push(acr.value);
      if (Array.isArray(acr?.values)) values.push(...acr.values.filter((v): v is string => typeof v === 'string'));
    } catch {
      // oidc-provider rejects malformed claims before any interaction starts.
    }
  }
  return values;
}
