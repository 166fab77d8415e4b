// The strict exposition parser the metrics tests rely on must itself refuse what Prometheus would
// refuse, or a broken /metrics could pass them.
import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.ts';

const GOOD = `# HELP logins_total Logins.
# TYPE logins_total counter
logins_total{portal="a",result="ok"} 3
logins_total{portal="b \\"x\\"",result="ok"} 1
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1",route="/a"} 1
latency_seconds_bucket{le="1",route="/a"} 2
latency_seconds_bucket{le="+Inf",route="/a"} 2
latency_seconds_sum{route="/a"} 0.6
latency_seconds_count{route="/a"} 2
lag NaN
`;

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes and values', () => {
    const families = parsePrometheusText(GOOD);
    expect(families.get('logins_total')?.type).toBe('counter');
    expect(sampleValue(families, 'logins_total', { portal: 'b "x"' })).toBe(1);
    expect(sampleValue(families, 'latency_seconds_count', { route: '/a' })).toBe(2);
    expect(Number.isNaN(sampleValue(families, 'lag'))).toBe(true);
  });

  it.each([
    ['a sample before its TYPE', '# HELP x_total X.\nx_total 1\n# TYPE x_total counter\n'],
    ['a duplicate series', '# TYPE x_total counter\nx_total{a="1"} 1\nx_total{a="1"} 2\n'],
    ['a negative counter', '# TYPE x_total counter\nx_total -1\n'],
    ['an unquoted label value', 'x{a=1} 1\n'],
    ['a bad escape', 'x{a="\\q"} 1\n'],
    ['a value that is no number', 'x 1,5\n'],
    ['a bad metric name', '1x 1\n'],
    ['no newline at the end', 'x 1'],
    ['buckets that are not cumulative', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n'],
    ['+Inf bucket unlike _count', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['a histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_sum 1\nh_count 2\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
