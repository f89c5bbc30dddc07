// PEP 691 negotiation cases shared by the tests of `dib-pypi serve`, its generated nginx configuration and nginx itself.

// pip 23.0.1's Accept header (pip/_internal/index/collector.py, _get_simple_response).
export const PIP_ACCEPT = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01';
export const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

// One row per Accept header: which page a PEP 691 server should answer.
export const NEGOTIATION: [accept: string | undefined, page: 'json' | 'html'][] = [
  [undefined, 'html'],
  ['*/*', 'html'],
  ['text/html', 'html'],
  ['application/vnd.pypi.simple.v1+html', 'html'],
  [JSON_TYPE, 'json'],
  ['application/vnd.pypi.simple.latest+json', 'json'],
  [PIP_ACCEPT, 'json'],
  [`${JSON_TYPE};q=0.5`, 'json'],
  [`${JSON_TYPE};q=0.9, text/html;q=0.5`, 'json'],
  [`text/html;q=0.5, ${JSON_TYPE};q=0.5`, 'json'],
  [`text/html, ${JSON_TYPE};q=0.5`, 'html'],
  [`${JSON_TYPE};q=0.25, text/html;q=0.3`, 'html'],
  [`${JSON_TYPE};q=0.05, application/vnd.pypi.simple.v1+html;q=0.049`, 'json'],
  [`${JSON_TYPE};q=0`, 'html'],
  [`${JSON_TYPE}; q=0.5, */*`, 'html'],
];
