// Review, then run: the form's values are checked in the browser and summed up for confirmation; only the
// confirmed config is sent. A refusal goes back onto the form (400: on the fields; 429: with the wait).
import { useState } from 'react';
import { message, type FormInstance } from 'antd';
import { ApiError } from '../../api/client';
import type { BacktestConfig, Priority, StrategyTemplate } from '../../api/types';
import { toConfig, type FormValues } from '../configForm';
import type { useServerErrors } from './useServerErrors';

export interface PendingRun { config: BacktestConfig; priority: Priority }

export function useReviewAndRun(
  form: FormInstance<FormValues>,
  strategy: StrategyTemplate | undefined,
  onSubmit: (config: BacktestConfig, priority: Priority) => Promise<void>,
  { setServerErrors, showValidationErrors }: ReturnType<typeof useServerErrors>,
) {
  const [pending, setPending] = useState<PendingRun | null>(null);
  const [submitting, setSubmitting] = useState(false);

  const review = async () => {
    try {
      const values = await form.validateFields();
      setServerErrors([]);
      setPending({ config: toConfig({ ...form.getFieldsValue(true), ...values }, strategy), priority: values.priority });
    } catch {
      // The form shows what is missing.
    }
  };

  const run = async () => {
    if (!pending) return;
    setSubmitting(true);
    try {
      await onSubmit(pending.config, pending.priority);
      setPending(null);
      setServerErrors([]);
    } catch (e) {
      setPending(null);
      if (e instanceof ApiError && e.status === 400) {
        showValidationErrors(e);
      } else if (e instanceof ApiError && e.status === 429) {
        message.error(`Too many backtests started: try again in ${e.retryAfterSeconds ?? 'a few'} seconds`);
        setServerErrors([{ field: '', message: e.message }]);
      } else {
        setServerErrors([{ field: '', message: (e as Error).message }]);
      }
    } finally {
      setSubmitting(false);
    }
  };

  return { pending, submitting, review, run, cancel: () => setPending(null) };
}
