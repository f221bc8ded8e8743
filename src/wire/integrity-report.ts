/** The schema of the store's IntegrityReport as `POST /api/store/integrity-check` answers it (the OpenAPI document's `IntegrityReport`). */
export const INTEGRITY_REPORT_JSON_SCHEMA = {
  type: 'object',
  required: ['ok', 'parts'],
  properties: {
    ok: { type: 'boolean' },
    parts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'ok', 'problems'],
        properties: {
          name: { type: 'string', description: 'A database file (embedded) or collection (MongoDB)' },
          ok: { type: 'boolean' },
          problems: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};
