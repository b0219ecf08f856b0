// Every API call of the page: the `{ data, error }` envelope unwrapped, and
// the instance that answered shown (each response names it in X-Instance-Id).
export const API = '/api/v1';
const $ = (id) => document.getElementById(id);

export async function api(path, init) {
  const response = await fetch(API + path, init);
  $('request-instance').textContent = response.headers.get('x-instance-id') ?? '-';
  if (response.status === 204) return null;
  const body = await response.json();
  if (body.error) throw Object.assign(new Error(body.error.message), { status: response.status, code: body.error.code });
  return body.data;
}
