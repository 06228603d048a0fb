// The chosen strategy: the first one until another is chosen, and a new choice brings its own parameters with
// the schema's defaults (except the parameters the form started with, e.g. to run a finished backtest again).
import { useEffect, useRef } from 'react';
import { Form, type FormInstance } from 'antd';
import type { StrategyTemplate } from '../../api/types';
import { parameterDefaults, type FormValues } from '../configForm';

export function useStrategy(form: FormInstance<FormValues>, strategies: StrategyTemplate[], initial: Partial<FormValues> | undefined) {
  const strategyClass = Form.useWatch('strategyClass', form);
  const strategy = strategies.find((s) => s.name === strategyClass);

  const firstStrategy = useRef(initial?.strategyClass);
  useEffect(() => {
    if (!strategy) return;
    if (firstStrategy.current === strategy.name && initial?.strategyConfig) {
      firstStrategy.current = undefined;
      return;
    }
    firstStrategy.current = undefined;
    form.setFieldsValue({ strategyConfig: parameterDefaults(strategy.parameters) } as never);
  }, [strategy, form, initial]);

  useEffect(() => {
    if (!form.getFieldValue('strategyClass') && strategies.length) form.setFieldValue('strategyClass', strategies[0].name);
  }, [strategies, form]);

  return { strategyClass, strategy };
}
