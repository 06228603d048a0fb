// The server's refusals of a configuration: each validation message goes under the form field it names, and every
// message (placed or not) is listed at the top until the form changes.
import { useState } from 'react';
import type { FormInstance } from 'antd';
import type { ApiError } from '../../api/client';
import { formNameFor, type FormValues } from '../configForm';

export interface ServerError { field: string; message: string }

export function useServerErrors(form: FormInstance<FormValues>) {
  const [serverErrors, setServerErrors] = useState<ServerError[]>([]);

  /** Places a 400's field errors on their fields; returns the ones no field shows. */
  const showValidationErrors = (error: ApiError) => {
    const items = error.validationErrors;
    const known = new Map<string, string[]>();
    const unplaced: ServerError[] = [];
    for (const item of items) {
      const name = formNameFor(item.field);
      const isField = name && hasPath(form.getFieldsValue(true), name);
      if (name && isField) {
        const key = JSON.stringify(name);
        known.set(key, [...(known.get(key) ?? []), item.message]);
      } else {
        unplaced.push(item);
      }
    }
    form.setFields([...known].map(([key, errors]) => ({ name: JSON.parse(key), errors })));
    setServerErrors(items.length ? items : [{ field: '', message: error.message }]);
    const first = [...known.keys()][0];
    if (first) form.scrollToField(JSON.parse(first));
    return unplaced;
  };

  return { serverErrors, setServerErrors, showValidationErrors };
}

function hasPath(values: unknown, path: (string | number)[]): boolean {
  let current: unknown = values;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !(key in (current as object))) return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return true;
}
